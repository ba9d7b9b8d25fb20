import Foundation

/// Writers for extraction outputs. Every file appears atomically (temporary file + rename).
public enum OutputFiles {
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
    public static func writeNPY(_ matrix: SignalMatrix, to path: String) throws {
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (\(matrix.timePoints), \(matrix.columns)), }"
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var data = Data([0x93] + Array("NUMPY".utf8) + [1, 0])
        let length = UInt16(header.utf8.count)
        data.append(contentsOf: [UInt8(length & 0xFF), UInt8(length >> 8)])
        data.append(contentsOf: Array(header.utf8))
        var values = [Float](repeating: 0, count: matrix.values.count)
        for t in 0..<matrix.timePoints {
            for c in 0..<matrix.columns { values[t * matrix.columns + c] = Float(matrix[t, c]) }
        }
        if UInt32(1).littleEndian != 1 {
            values = values.map { Float(bitPattern: $0.bitPattern.byteSwapped) }  // big-endian hosts
        }
        values.withUnsafeBytes { data.append(contentsOf: $0) }
        try write(data, to: path)
    }

    public static func write(_ data: Data, to path: String) throws {
        do {
            try data.write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw TableError(path: path, "could not be written: \(error.localizedDescription); check that the directory exists and is writable")
        }
    }
}
