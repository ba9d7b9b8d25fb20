import Foundation

/// An advisory lock (`flock`) on an output directory, held until `release` or the process
/// ends (the kernel drops it with the process, so a killed writer never leaves it stuck). A
/// second writer fails at once with the holder's pid. Re-entrant within one process: nested
/// acquisitions of the same directory share one lock (a second `flock` on a new descriptor
/// would otherwise conflict with the first).
public final class DirectoryLock: @unchecked Sendable {
    public static let fileName = ".fmridyn.lock"

    public let directory: String
    private let key: String

    private static let registry = NSLock()
    nonisolated(unsafe) private static var held: [String: (descriptor: Int32, count: Int)] = [:]

    private init(directory: String, key: String) {
        self.directory = directory
        self.key = key
    }

    /// Locks `directory` (created if missing) for writing.
    /// - Parameter purpose: what the caller writes, for the other writer's message.
    public static func acquire(_ directory: String, purpose: String = "writing") throws -> DirectoryLock {
        try OutputDirectory.create(directory)
        let key = URL(fileURLWithPath: directory).standardizedFileURL.resolvingSymlinksInPath().path
        registry.lock()
        defer { registry.unlock() }
        if let entry = held[key] {
            held[key] = (entry.descriptor, entry.count + 1)
            return DirectoryLock(directory: directory, key: key)
        }
        let path = key + "/" + fileName
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw CheckpointError("\(directory): cannot create its lock file \(fileName) (\(String(cString: strerror(errno)))); is the directory writable?")
        }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            // The holder wrote "PID PURPOSE".
            let holder = (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            close(descriptor)
            let parts = holder.split(separator: " ", maxSplits: 1).map(String.init)
            let who = parts.isEmpty ? "" : " (pid \(parts[0])" + (parts.count > 1 ? ", \(parts[1])" : "") + ")"
            throw CheckpointError("\(directory) is being written by another fmridyn process\(who); wait for it to finish or choose another output directory")
        }
        let pid = Array("\(getpid()) \(purpose)\n".utf8)
        _ = ftruncate(descriptor, 0)
        _ = pid.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, $0.count, 0) }
        held[key] = (descriptor, 1)
        return DirectoryLock(directory: directory, key: key)
    }

    /// Releases this hold (the lock itself when it was the last one).
    public func release() {
        Self.registry.lock()
        defer { Self.registry.unlock() }
        guard let entry = Self.held[key] else { return }
        if entry.count > 1 {
            Self.held[key] = (entry.descriptor, entry.count - 1)
        } else {
            _ = ftruncate(entry.descriptor, 0)
            close(entry.descriptor)  // closing the last descriptor drops the flock
            Self.held[key] = nil
        }
    }

    /// Removes temporary files that killed writers left in `directory`: Foundation's atomic
    /// write temporaries (`.dat.nosync*`), fmridyn's (`.NAME.tmp-PID-*`, `.fmridyn-runs-PID.f32`)
    /// whose process is gone. Call it while holding the lock.
    public static func removeStaleTemporaries(in directory: String) {
        let files = FileManager.default
        for entry in (try? files.contentsOfDirectory(atPath: directory)) ?? [] {
            let path = directory + "/" + entry
            if entry.hasPrefix(".dat.nosync") {
                try? files.removeItem(atPath: path)
            } else if let pid = ownerPID(of: entry), pid != getpid(), kill(pid, 0) != 0, errno == ESRCH {
                try? files.removeItem(atPath: path)
            }
        }
    }

    /// `removeStaleTemporaries(in:)` in `root` and every folder below it: a derivative tree
    /// whose writers (one per subject folder, one per group folder) may each have been killed.
    /// Temporaries of live processes (concurrent jobs) stay.
    public static func removeStaleTemporaries(inTree root: String) {
        removeStaleTemporaries(in: root)
        guard let walker = FileManager.default.enumerator(atPath: root) else { return }
        var folders: [String] = []
        while let entry = walker.nextObject() as? String {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: root + "/" + entry, isDirectory: &isDirectory), isDirectory.boolValue {
                folders.append(root + "/" + entry)
            }
        }
        for folder in folders { removeStaleTemporaries(in: folder) }
    }

    /// The writer's pid encoded in a temporary's name (nil for other files).
    static func ownerPID(of name: String) -> pid_t? {
        if name.hasPrefix(".fmridyn-runs-"), name.hasSuffix(".f32") {
            return pid_t(name.dropFirst(".fmridyn-runs-".count).dropLast(".f32".count))
        }
        if name.hasPrefix("."), let range = name.range(of: ".tmp-") {
            return pid_t(name[range.upperBound...].prefix { $0.isNumber })
        }
        return nil
    }
}
