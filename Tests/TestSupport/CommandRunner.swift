import Foundation

/// Runs the built `fmridyn` executable as a user's script would.
public enum CommandRunner {
    public struct Result: Sendable {
        public let status: Int32
        public let stdout: String
        public let stderr: String
    }

    /// The `fmridyn` executable beside the test bundle (swift build puts them in one folder).
    public static let executable: URL = {
        let starts = [URL(fileURLWithPath: CommandLine.arguments.first ?? ""), Bundle.main.bundleURL]
        for start in starts {
            var directory = start.deletingLastPathComponent()
            for _ in 0..<4 {
                let candidate = directory.appendingPathComponent("fmridyn")
                var isDirectory: ObjCBool = false
                if FileManager.default.fileExists(atPath: candidate.path, isDirectory: &isDirectory), !isDirectory.boolValue {
                    return candidate
                }
                directory.deleteLastPathComponent()
            }
        }
        return URL(fileURLWithPath: "fmridyn")
    }()

    /// Runs `fmridyn ARGUMENTS`; with a `launcher` (`["/usr/bin/mpirun", "-n", "3"]`), runs
    /// the launcher with the fmridyn path and the arguments after its own.
    public static func run(_ arguments: [String], launcher: [String] = []) throws -> Result {
        let process = Process()
        if let program = launcher.first {
            process.executableURL = URL(fileURLWithPath: program)
            process.arguments = Array(launcher.dropFirst()) + [executable.path] + arguments
        } else {
            process.executableURL = executable
            process.arguments = arguments
        }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Read stderr on another thread so neither pipe can fill up and block the child.
        nonisolated(unsafe) var stderrData = Data()
        let reader = Thread { stderrData = err.fileHandleForReading.readDataToEndOfFile() }
        reader.start()
        let stdoutData = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        while !reader.isFinished { usleep(1000) }
        return Result(status: process.terminationStatus, stdout: String(decoding: stdoutData, as: UTF8.self),
                      stderr: String(decoding: stderrData, as: UTF8.self))
    }
}
