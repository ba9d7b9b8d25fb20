/// Everything that can go wrong reading or writing a NIfTI image.
///
/// Each case carries the file and, where one is at fault, the header field, so that the
/// message tells the user what to fix rather than where the parser gave up.
public struct NIfTIError: Error, CustomStringConvertible, Equatable, Sendable {
    public enum Kind: String, Sendable {
        case fileNotFound, unreadable, notNIfTI, unsupportedDatatype, invalidHeader
        case truncatedData, corruptCompression, mismatchedPair, invalidAffine, writeFailed
        case invalidArgument
    }

    public let kind: Kind
    /// The file the problem was found in.
    public let path: String
    /// The header field at fault, when there is one (for example `dim[3]` or `vox_offset`).
    public let field: String?
    /// What is wrong and how to fix it.
    public let message: String

    public init(_ kind: Kind, path: String, field: String? = nil, _ message: String) {
        self.kind = kind
        self.path = path
        self.field = field
        self.message = message
    }

    public var description: String {
        if let field {
            return "\(path): header field \(field): \(message)"
        }
        return "\(path): \(message)"
    }
}
