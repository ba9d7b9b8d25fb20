import Foundation
import NIfTI

/// Writers for extraction outputs. Every file appears atomically (temporary file + rename).
public enum OutputFiles {
    /// Whether two paths name the same file: the same device and inode when both exist (links,
    /// `./` and `..` included), else the same standardised absolute path.
    public static func sameFile(_ a: String, _ b: String) -> Bool {
        var first = stat(), second = stat()
        if stat(a, &first) == 0, stat(b, &second) == 0 { return first.st_dev == second.st_dev && first.st_ino == second.st_ino }
        func absolute(_ path: String) -> String {
            let full = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
            return URL(fileURLWithPath: full).standardizedFileURL.path
        }
        return absolute(a) == absolute(b)
    }

    /// A TSV: a header of column names, then one row per time point, values with full Float32
    /// precision (the shortest text that reads back to the same Float32).
    public static func writeTSV(_ matrix: SignalMatrix, columns: [String], to path: String,
                                leadingColumns: [(String, [String])] = []) throws {
        var text = (leadingColumns.map(\.0) + columns).joined(separator: "\t") + "\n"
        text.reserveCapacity(matrix.values.count * 12)
        for t in 0..<matrix.timePoints {
            var cells = leadingColumns.map { $0.1[t] }
            for c in 0..<matrix.columns { cells.append(Float(matrix[t, c]).description) }
            text += cells.joined(separator: "\t") + "\n"
        }
        try write(Data(text.utf8), to: path)
    }

    /// A NumPy `.npy` file (format 1.0) of little-endian float32, shape (rows, columns), C order.
    /// Streamed a few rows at a time: no second copy of the matrix is made.
    public static func writeNPY(_ matrix: SignalMatrix, to path: String) throws {
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (\(matrix.timePoints), \(matrix.columns)), }"
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        let length = UInt16(header.utf8.count)
        let file: AtomicFile
        do {
            file = try AtomicFile(path: path)
        } catch {
            throw TableError(path: path, "could not be created: \(error)")
        }
        try file.write([0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(length & 0xFF), UInt8(length >> 8)] + Array(header.utf8))
        let rows = matrix.timePoints, columns = matrix.columns
        let block = max(1, min(rows, (4 << 20) / max(1, columns * 4)))
        var buffer = [Float](repeating: 0, count: block * columns)
        try matrix.values.withUnsafeBufferPointer { input in
            var start = 0
            while start < rows {
                let count = min(block, rows - start)
                buffer.withUnsafeMutableBufferPointer { output in
                    for c in 0..<columns {
                        for t in 0..<count {
                            let value = Float(input[c * rows + start + t])
                            output[t * columns + c] = UInt32(1).littleEndian == 1 ? value : Float(bitPattern: value.bitPattern.byteSwapped)
                        }
                    }
                }
                try buffer.withUnsafeBytes { try file.write(UnsafeRawBufferPointer(rebasing: $0[0..<(count * columns * 4)])) }
                start += count
            }
        }
        try file.commit()
    }

    /// Writes `data` atomically through NIfTI's `AtomicFile`, whose errors say why (a missing
    /// or unwritable directory, a full disk) rather than Foundation's "could not be completed".
    public static func write(_ data: Data, to path: String) throws {
        let file = try AtomicFile(path: path)
        try data.withUnsafeBytes { try file.write($0) }
        try file.commit()
    }
}
