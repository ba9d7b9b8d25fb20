import Core
import Foundation

/// A JSON value with object keys kept in insertion order, so printed output reads the
/// way the documentation lists it.
public enum JSONValue: Sendable {
    case null
    case bool(Bool)
    case number(Double)
    case integer(Int)
    case string(String)
    case array([JSONValue])
    case object([(String, JSONValue)])

    public static func numbers(_ values: [Double]) -> JSONValue { .array(values.map { .number($0) }) }
    public static func integers(_ values: [Int]) -> JSONValue { .array(values.map { .integer($0) }) }

    /// Compact or indented text. Non-finite numbers become null (JSON has no NaN).
    public func rendered(indent: Int? = 2, level: Int = 0) -> String {
        let pad = indent.map { String(repeating: " ", count: $0 * (level + 1)) } ?? ""
        let closePad = indent.map { String(repeating: " ", count: $0 * level) } ?? ""
        let newline = indent == nil ? "" : "\n"
        switch self {
        case .null: return "null"
        case .bool(let value): return value ? "true" : "false"
        case .integer(let value): return String(value)
        case .number(let value):
            guard value.isFinite else { return "null" }
            if value == value.rounded(), abs(value) < 1e15 { return String(format: "%.1f", value) }
            return "\(value)"
        case .string(let value): return Self.quote(value)
        case .array(let values):
            if values.isEmpty { return "[]" }
            // Arrays of scalars stay on one line.
            if values.allSatisfy({ if case .array = $0 { return false }; if case .object = $0 { return false }; return true }) {
                return "[" + values.map { $0.rendered(indent: nil) }.joined(separator: ", ") + "]"
            }
            return "[" + newline + values.map { pad + $0.rendered(indent: indent, level: level + 1) }
                .joined(separator: "," + newline) + newline + closePad + "]"
        case .object(let members):
            if members.isEmpty { return "{}" }
            let separator = indent == nil ? ":" : ": "
            return "{" + newline + members.map { pad + Self.quote($0.0) + separator + $0.1.rendered(indent: indent, level: level + 1) }
                .joined(separator: "," + newline) + newline + closePad + "}"
        }
    }

    private static func quote(_ text: String) -> String { JSONString.quoted(text) }
}
