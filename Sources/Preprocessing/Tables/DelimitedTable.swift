import CSV
import Foundation

/// A tab- (or comma-) separated table with a header row, read with CSV.swift.
///
/// BIDS tables (events, confounds, participants) and atlas coordinate tables all come this
/// way; errors name the file, the row (1-based, counting the header as row 1) and the column.
public struct DelimitedTable: Sendable {
    public let path: String
    public let header: [String]
    /// Data rows, each with `header.count` cells.
    public let rows: [[String]]

    /// Reads `path`; the delimiter is a tab unless the file name ends in `.csv`.
    public init(contentsOf path: String, delimiter: UnicodeScalar? = nil) throws {
        var status = stat()
        if stat(path, &status) == 0, (status.st_mode & S_IFMT) != S_IFREG {
            // Reading a FIFO would wait for a writer forever.
            throw TableError(path: path, (status.st_mode & S_IFMT) == S_IFDIR ? "is a directory, not a table" : "is not a regular file (a pipe or device); give a table file")
        }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            if !FileManager.default.fileExists(atPath: path) {
                throw TableError(path: path, "no such file; check the path")
            }
            throw TableError(path: path, "cannot be read as UTF-8 text")
        }
        try self.init(text: text, path: path, delimiter: delimiter ?? (path.lowercased().hasSuffix(".csv") ? "," : "\t"))
    }

    public init(text: String, path: String, delimiter: UnicodeScalar = "\t") throws {
        self.path = path
        if text.allSatisfy(\.isWhitespace) {
            throw TableError(path: path, "is empty; a header row naming the columns is required")
        }
        let reader: CSVReader
        do {
            reader = try CSVReader(string: text, hasHeaderRow: true, trimFields: true, delimiter: delimiter)
        } catch {
            throw TableError(path: path, "is not a valid delimited table: \(error)")
        }
        guard let header = reader.headerRow, !(header.count == 1 && header[0].isEmpty) else {
            throw TableError(path: path, "is empty; a header row naming the columns is required")
        }
        self.header = header
        var rows: [[String]] = []
        while let row = reader.next() {
            if row.allSatisfy({ $0.isEmpty }) { continue }  // blank lines
            guard row.count == header.count else {
                throw TableError(path: path, row: rows.count + 2, "has \(row.count) cells but the header has \(header.count) columns")
            }
            rows.append(row)
        }
        if let error = reader.error {
            throw TableError(path: path, row: rows.count + 2, "could not be parsed: \(error)")
        }
        self.rows = rows
    }

    public func columnIndex(_ name: String) -> Int? { header.firstIndex(of: name) }

    /// A required column, or an error listing the columns that exist (and saying so when a
    /// single header cell holds other delimiters: the file is separated by something else).
    public func column(_ name: String) throws -> [String] {
        guard let index = columnIndex(name) else {
            if header.count == 1, let other = [(",", "commas"), (";", "semicolons"), ("\t", "tabs")].first(where: { header[0].contains($0.0) }) {
                let expected = path.lowercased().hasSuffix(".csv") ? "commas (a .csv name)" : "tabs (BIDS .tsv)"
                throw TableError(path: path, column: name, "is missing: the header is one cell, \"\(header[0].prefix(60))\", separated by \(other.1), but the file is read as separated by \(expected); write it tab-separated")
            }
            throw TableError(path: path, column: name, "is missing; the file has columns \(header.joined(separator: ", "))")
        }
        return rows.map { $0[index] }
    }

    /// A numeric column; `n/a` (and empty cells when `allowMissing`) read as NaN.
    public func numericColumn(_ name: String, allowMissing: Bool = true) throws -> [Double] {
        let cells = try column(name)
        return try cells.enumerated().map { row, cell in
            if cell == "n/a" || cell.isEmpty {
                guard allowMissing else {
                    throw TableError(path: path, row: row + 2, column: name, "is n/a; a number is required")
                }
                return .nan
            }
            guard let value = Double(cell) else {
                throw TableError(path: path, row: row + 2, column: name, "\"\(cell)\" is not a number")
            }
            return value
        }
    }
}

/// A problem in a delimited table.
public struct TableError: Error, CustomStringConvertible, Equatable, Sendable {
    public let path: String
    public let row: Int?
    public let column: String?
    public let message: String

    public init(path: String, row: Int? = nil, column: String? = nil, _ message: String) {
        self.path = path
        self.row = row
        self.column = column
        self.message = message
    }

    public var description: String {
        var location = path
        if let row { location += ", row \(row)" }
        if let column { location += ", column \(column)" }
        return "\(location): \(message)"
    }
}
