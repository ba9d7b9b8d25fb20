import Foundation

/// Reads any JSON text. Objects come back with their members sorted by key (a parser does
/// not keep their order); a number keeps its kind: `5` is `.integer`, `5.0` is `.number`.
extension JSONValue {
    public init(parsing data: Data) throws {
        self = Self.converting(try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]))
    }

    private static func converting(_ value: Any) -> JSONValue {
        switch value {
        case is NSNull: return .null
        case let text as String: return .string(text)
        case let list as [Any]: return .array(list.map(converting))
        case let object as [String: Any]: return .object(object.keys.sorted().map { ($0, converting(object[$0] as Any)) })
        case let number as NSNumber:
            switch String(cString: number.objCType) {
            case "c", "B": return .bool(number.boolValue)
            case "d", "f": return .number(number.doubleValue)
            default: return .integer(number.intValue)
            }
        default: return .string("\(value)")
        }
    }

    /// The member `key` of an object (nil for other values or a missing key).
    public subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.first { $0.0 == key }?.1
    }

    /// The value as text for a reader: booleans as true/false, null (and a missing value) as
    /// none, numbers as written (5, 5.0), lists joined with commas (none when empty).
    public var display: String {
        switch self {
        case .null: return "none"
        case .bool(let value): return value ? "true" : "false"
        case .integer(let value): return String(value)
        case .number(let value): return "\(value)"
        case .string(let value): return value
        case .array(let values): return values.isEmpty ? "none" : values.map(\.display).joined(separator: ", ")
        case .object(let members): return members.map { "\($0.0): \($0.1.display)" }.joined(separator: ", ")
        }
    }
}
