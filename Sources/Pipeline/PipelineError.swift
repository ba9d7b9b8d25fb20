/// A problem with the inputs or settings of a pipeline stage, worded for the user: what is
/// wrong, in which file or setting, and what to do. The command-line tool reports a `usage`
/// error as it does a bad option (exit status 2) and an `input` error as a failed run (1).
public struct PipelineError: Error, CustomStringConvertible, Equatable, Sendable {
    public enum Kind: Sendable, Equatable {
        /// The settings asked for something that cannot be done (a linear-decoder map of an MLP decoder).
        case usage
        /// A file or the data in it is not what the stage needs.
        case input
    }

    public let message: String
    public let kind: Kind

    public init(_ message: String, kind: Kind = .usage) {
        self.message = message
        self.kind = kind
    }

    public var description: String { message }
}
