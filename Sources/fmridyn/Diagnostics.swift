import ArgumentParser
import Foundation
import Logging

/// `--quiet` / `--verbose`, shared by every subcommand. Diagnostics and progress go to
/// stderr; results go to stdout or files, so pipes stay clean.
struct DiagnosticOptions: ParsableArguments {
    @Flag(name: .shortAndLong, help: "Print only errors on stderr.")
    var quiet = false

    @Flag(name: .shortAndLong, help: "Print debugging detail on stderr.")
    var verbose = false

    func validate() throws {
        if quiet && verbose { throw ValidationError("--quiet and --verbose cannot be combined.") }
    }

    /// Progress lines on stderr (none with --quiet), settings named in backticks shown as flags.
    var progress: @Sendable (String) -> Void {
        let quiet = self.quiet
        return { line in if !quiet { FileHandle.standardError.write(Data((SettingFlags.rewrite(line) + "\n").utf8)) } }
    }

    /// A logger writing to stderr at the level these flags choose.
    func makeLogger(label: String = "fmridyn") -> Logger {
        let level: Logger.Level = quiet ? .error : (verbose ? .debug : .info)
        var logger = Logger(label: label) { _ in
            var handler = StderrLogHandler()
            handler.logLevel = level
            return handler
        }
        logger.logLevel = level
        return logger
    }
}

/// Plain `warning: ...` lines on stderr (no timestamps: these are messages for people).
struct StderrLogHandler: LogHandler {
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let prefix: String
        switch event.level {
        case .warning: prefix = "warning: "
        case .error, .critical: prefix = "error: "
        case .debug, .trace: prefix = "debug: "
        default: prefix = ""
        }
        // Messages from the modules name settings in backticks; show the flags.
        FileHandle.standardError.write(Data((prefix + SettingFlags.rewrite("\(event.message)") + "\n").utf8))
    }
}
