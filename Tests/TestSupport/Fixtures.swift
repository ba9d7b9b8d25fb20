import Foundation

/// Locates files under `Tests/Fixtures/` (copied from shared fixtures; see its NOTICE.md).
public enum Fixtures {
    /// `Tests/Fixtures`, found relative to this source file so tests run from any directory.
    public static let directory: String = {
        let here = URL(fileURLWithPath: #filePath)
        return here.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures").path
    }()

    public static func path(_ relative: String) -> String { directory + "/" + relative }

    /// The repository's root (two levels above `Tests/Fixtures`).
    public static var repositoryRoot: String {
        URL(fileURLWithPath: directory).deletingLastPathComponent().deletingLastPathComponent().path
    }

    /// Parses a JSON fixture.
    public static func json(_ relative: String) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path(relative))))
    }
}

/// A fresh directory under the system temporary directory, removed by `remove()`.
public struct TemporaryDirectory {
    public let path: String

    public init() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("fmridyn-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        path = url.path
    }

    public func file(_ name: String) -> String { path + "/" + name }

    public func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// Numbers stored by the golden scripts as `{"shape": [...], "f64": base64}` (little-endian
/// Float64, exact) or as plain JSON lists.
public struct GoldenArray {
    public let shape: [Int]
    /// Row-major (C order) values.
    public let values: [Double]

    public init(_ any: Any?) {
        if let object = any as? [String: Any], let encoded = object["f64"] as? String,
           let data = Data(base64Encoded: encoded) {
            shape = (object["shape"] as? [Int]) ?? [data.count / 8]
            values = data.withUnsafeBytes { raw in
                (0..<(data.count / 8)).map { Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * $0, as: UInt64.self))) }
            }
        } else if let rows = any as? [[Double]] {
            shape = [rows.count, rows.first?.count ?? 0]
            values = rows.flatMap { $0 }
        } else {
            let flat = (any as? [Double]) ?? []
            shape = [flat.count]
            values = flat
        }
    }

    /// Rows of a 2-D array.
    public var rows: [[Double]] {
        guard shape.count == 2 else { return [values] }
        return (0..<shape[0]).map { Array(values[($0 * shape[1])..<(($0 + 1) * shape[1])]) }
    }
}
