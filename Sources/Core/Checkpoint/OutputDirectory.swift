import Foundation

/// Creating output folders with a reason a user can act on: `mkdir -p` through POSIX, so a
/// failure says "Permission denied" or "No space left on device" (strerror), not Foundation's
/// "The operation could not be completed".
public enum OutputDirectory {
    /// Creates `path` and any missing parents (mode 0755 before the umask); an existing
    /// directory is fine.
    /// - Throws: `CheckpointError` naming the folder that could not be created and why.
    public static func create(_ path: String, what: String = "output directory") throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw CheckpointError("\(path): could not create the \(what): a file of that name exists; remove it or choose another path") }
            return
        }
        let parent = (path as NSString).deletingLastPathComponent
        if !parent.isEmpty, parent != path { try create(parent, what: what) }
        if mkdir(path, 0o755) != 0 && errno != EEXIST {
            let reason = String(cString: strerror(errno))
            throw CheckpointError("\(path): could not create the \(what) (\(reason)); check that \(parent.isEmpty ? "the current directory" : parent) exists and is writable")
        }
    }
}
