import Foundation

/// The JSON header of a safetensors file, as types: tensor entries by name and the optional
/// `__metadata__` (string to string).
struct SafeTensorsHeader: Decodable {
    struct TensorInfo: Codable, Equatable {
        let dtype: String
        let shape: [Int]
        /// [begin, end) in bytes from the end of the header.
        let data_offsets: [Int]
    }

    /// A member that is not a valid tensor entry, by name.
    struct InvalidEntry: Error {
        let name: String
    }

    var tensors: [String: TensorInfo] = [:]
    var metadata: [String: String] = [:]

    static let metadataKey = "__metadata__"

    init(tensors: [String: TensorInfo], metadata: [String: String]) {
        self.tensors = tensors
        self.metadata = metadata
    }

    init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: MemberName.self)
        for key in container.allKeys {
            if key.stringValue == Self.metadataKey {
                // The format allows only strings here; other metadata is ignored, not fatal.
                metadata = (try? container.decode([String: String].self, forKey: key)) ?? [:]
                continue
            }
            guard let info = try? container.decode(TensorInfo.self, forKey: key) else { throw InvalidEntry(name: key.stringValue) }
            tensors[key.stringValue] = info
        }
    }

    /// Compact JSON with members in the order fmridyn has always written them (Foundation's
    /// sorted-keys order on Linux: numeric, case-insensitive, then forced), so files written
    /// before and after this type are byte-identical.
    func encoded() -> Data {
        var members: [(String, String)] = tensors.map { name, info in
            (name, "{\"data_offsets\":[\(info.data_offsets.map(String.init).joined(separator: ","))],\"dtype\":\(Self.quoted(info.dtype)),"
                + "\"shape\":[\(info.shape.map(String.init).joined(separator: ","))]}")
        }
        if !metadata.isEmpty {
            let fields = metadata.keys.sorted(by: Self.ordered).map { Self.quoted($0) + ":" + Self.quoted(metadata[$0] ?? "") }
            members.append((Self.metadataKey, "{" + fields.joined(separator: ",") + "}"))
        }
        let text = "{" + members.sorted { Self.ordered($0.0, $1.0) }.map { Self.quoted($0.0) + ":" + $0.1 }.joined(separator: ",") + "}"
        return Data(text.utf8)
    }

    static func ordered(_ a: String, _ b: String) -> Bool {
        a.compare(b, options: [.numeric, .caseInsensitive, .forcedOrdering], range: a.startIndex..<a.endIndex, locale: NSLocale.system) == .orderedAscending
    }

    static func quoted(_ text: String) -> String { JSONString.quoted(text, style: .foundation) }

    private struct MemberName: CodingKey {
        let stringValue: String
        init(stringValue: String) { self.stringValue = stringValue }
        var intValue: Int? { nil }
        init?(intValue: Int) { nil }
    }
}
