import Foundation

/// Checks, before any work, that an output can be written where the user asked: a command that
/// computes for minutes and then fails on a read-only folder wastes those minutes. The writers
/// check again when they write (a folder can change in between); this is the early warning.
public enum OutputLocation {
    /// An output file: its folder must exist and be writable.
    /// - Throws: `PipelineError` (`.input`) naming the file, the folder and the reason.
    public static func requireWritable(file path: String) throws {
        let folder = (path as NSString).deletingLastPathComponent
        let directory = folder.isEmpty ? "." : folder
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) else {
            throw PipelineError("\(path) cannot be written: its folder \(directory) does not exist; create it or choose another output path", kind: .input)
        }
        guard isDirectory.boolValue else {
            throw PipelineError("\(path) cannot be written: \(directory) is a file, not a folder; choose another output path", kind: .input)
        }
        try requireWritableFolder(directory, for: path)
    }

    /// An output folder (created if missing): the folder, or its nearest existing parent when it
    /// does not exist yet, must be writable.
    public static func requireWritable(directory path: String) throws {
        var candidate = path.isEmpty ? "." : path
        var isDirectory: ObjCBool = false
        while !FileManager.default.fileExists(atPath: candidate, isDirectory: &isDirectory) {
            let parent = (candidate as NSString).deletingLastPathComponent
            candidate = parent.isEmpty ? "." : parent
        }
        guard isDirectory.boolValue else {
            throw PipelineError("\(path) cannot be created: \(candidate) is a file, not a folder; choose another output path", kind: .input)
        }
        try requireWritableFolder(candidate, for: path)
    }

    private static func requireWritableFolder(_ folder: String, for output: String) throws {
        guard access(folder, W_OK | X_OK) == 0 else {
            let reason = String(cString: strerror(errno))
            throw PipelineError("\(output) cannot be written: the folder \(folder) is not writable (\(reason)); choose another output location or fix its permissions", kind: .input)
        }
    }
}
