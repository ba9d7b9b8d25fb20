import Foundation

/// A JSON string literal, in one of the two spellings fmridyn's files use.
public enum JSONString {
    public enum Style: Sendable {
        /// Only what JSON requires: quote, backslash, \n, \r, \t, other controls as \u00XX.
        case minimal
        /// Foundation's `JSONSerialization` on Linux: also `\/`, `\b` and `\f`.
        case foundation
    }

    public static func quoted(_ text: String, style: Style = .minimal) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch (scalar, style) {
            case ("\"", _): result += "\\\""
            case ("\\", _): result += "\\\\"
            case ("\n", _): result += "\\n"
            case ("\r", _): result += "\\r"
            case ("\t", _): result += "\\t"
            case ("/", .foundation): result += "\\/"
            case ("\u{8}", .foundation): result += "\\b"
            case ("\u{c}", .foundation): result += "\\f"
            default:
                if scalar.value < 0x20 {
                    result += String(format: "\\u%04x", scalar.value)
                } else {
                    result.unicodeScalars.append(scalar)
                }
            }
        }
        return result + "\""
    }
}
