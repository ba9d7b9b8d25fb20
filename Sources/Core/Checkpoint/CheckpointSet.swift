import Foundation

/// A checkpoint written as one unit: the files of one optimiser step are written into a
/// staging directory with a manifest of their sizes and hashes, flushed to disk, and swapped in
/// for the previous set by two renames. A process killed at any point leaves either the old
/// complete set or the new one (`recover` finishes an interrupted swap), never a mix, and
/// `verify` refuses a set whose files do not match its manifest.
///
/// Layout, inside the model directory: `checkpoint/` (the current set, `manifest.json` last),
/// transiently `checkpoint.previous/` (the set being replaced) and `checkpoint.staging-PID/`.
public enum CheckpointSet {
    public static let manifestFile = "manifest.json"

    struct Manifest: Codable {
        struct Entry: Codable, Equatable {
            var name: String
            var bytes: Int
            /// FNV-1a 64 of the contents, hexadecimal.
            var hash: String
        }
        var format = "fmridyn-checkpoint-set-1"
        var files: [Entry]
    }

    /// Writes a new set into `directory/<name>`: `write` fills the staging directory it is
    /// given, then the set is flushed, sealed with a manifest and swapped in.
    public static func write(in directory: String, name: String = "checkpoint", _ write: (String) throws -> Void) throws {
        let target = directory + "/" + name
        let staging = directory + "/" + name + ".staging-\(getpid())"
        let previous = directory + "/" + name + ".previous"
        let files = FileManager.default
        try? files.removeItem(atPath: staging)
        try OutputDirectory.create(staging, what: "checkpoint staging directory")
        do {
            try seal(staging, write)
        } catch {
            try? files.removeItem(atPath: staging)  // a failed set (full disk) leaves nothing behind
            throw error
        }
        // Swap: the old set steps aside, the new one takes its name, the old one goes.
        try? files.removeItem(atPath: previous)
        if files.fileExists(atPath: target) {
            guard rename(target, previous) == 0 else { throw CheckpointError("\(target): could not be moved aside (\(String(cString: strerror(errno))))") }
        }
        guard rename(staging, target) == 0 else { throw CheckpointError("\(staging): could not be renamed to \(target) (\(String(cString: strerror(errno))))") }
        try flush(directory)
        try? files.removeItem(atPath: previous)
    }

    /// Fills the staging directory, flushes its files and writes the manifest last.
    static func seal(_ staging: String, _ write: (String) throws -> Void) throws {
        let files = FileManager.default
        try write(staging)
        let names = try files.contentsOfDirectory(atPath: staging).filter { $0 != manifestFile && !$0.hasPrefix(".") }.sorted()
        var entries: [Manifest.Entry] = []
        for file in names {
            let path = staging + "/" + file
            guard let data = files.contents(atPath: path) else { throw CheckpointError("\(path): could not be read back") }
            entries.append(.init(name: file, bytes: data.count, hash: hash(data)))
            try flush(path)
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let manifestPath = staging + "/" + manifestFile
        do {
            try encoder.encode(Manifest(files: entries)).write(to: URL(fileURLWithPath: manifestPath))
        } catch {
            throw CheckpointError("\(manifestPath): could not be written (\(error.localizedDescription))")
        }
        try flush(manifestPath)
        try flush(staging)
    }

    /// Finishes what a killed writer left: without a current set, the previous one is put back
    /// (it is complete: it was only moved aside after the new set was sealed); staging
    /// directories are removed. Call it while holding the directory's lock.
    public static func recover(in directory: String, name: String = "checkpoint") throws {
        let files = FileManager.default
        let target = directory + "/" + name, previous = directory + "/" + name + ".previous"
        if !files.fileExists(atPath: target), files.fileExists(atPath: previous) {
            guard rename(previous, target) == 0 else { throw CheckpointError("\(previous): could not be restored as \(target) (\(String(cString: strerror(errno))))") }
        } else if files.fileExists(atPath: previous) {
            try? files.removeItem(atPath: previous)
        }
        for entry in (try? files.contentsOfDirectory(atPath: directory)) ?? [] where entry.hasPrefix(name + ".staging-") {
            try? files.removeItem(atPath: directory + "/" + entry)
        }
    }

    /// Checks the set's files against its manifest. A set without a manifest (written before
    /// sets existed) is accepted as it is; returns whether a manifest was checked.
    @discardableResult
    public static func verify(in directory: String, name: String = "checkpoint") throws -> Bool {
        let target = directory + "/" + name
        guard let data = FileManager.default.contents(atPath: target + "/" + manifestFile) else { return false }
        let manifest: Manifest
        do {
            manifest = try JSONDecoder().decode(Manifest.self, from: data)
        } catch {
            throw CheckpointError("\(target)/\(manifestFile) is not a checkpoint manifest (\(error)); the checkpoint is damaged: fit again without `resume`")
        }
        for entry in manifest.files {
            let path = target + "/" + entry.name
            guard let contents = FileManager.default.contents(atPath: path) else {
                throw CheckpointError("\(path) is missing from the checkpoint its manifest describes; the checkpoint is damaged: fit again without `resume`")
            }
            guard contents.count == entry.bytes, hash(contents) == entry.hash else {
                throw CheckpointError("\(path) does not match the checkpoint's manifest (\(contents.count) bytes, \(entry.bytes) recorded): the files come from different steps or were changed; fit again without `resume`")
            }
        }
        return true
    }

    /// FNV-1a, 64 bits, hexadecimal: enough to tell files of different steps apart, and fast.
    public static func hash(_ data: Data) -> String {
        var value: UInt64 = 0xCBF2_9CE4_8422_2325
        data.withUnsafeBytes { bytes in
            for byte in bytes { value = (value ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        }
        return String(value, radix: 16)
    }

    /// fsync of a file or directory.
    static func flush(_ path: String) throws {
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { throw CheckpointError("\(path): could not be opened to flush (\(String(cString: strerror(errno))))") }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else { throw CheckpointError("\(path): fsync failed (\(String(cString: strerror(errno)))); is the disk full?") }
    }
}

/// Whole-file writes that appear atomically (temporary file + rename), with errors that name
/// the file and the likely fix instead of Foundation's error domain and code.
public enum AtomicWrite {
    public static func write(_ data: Data, to path: String) throws {
        do {
            try data.write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            let directory = (path as NSString).deletingLastPathComponent
            let reason: String
            if !FileManager.default.fileExists(atPath: directory.isEmpty ? "." : directory) {
                reason = "its directory \(directory) does not exist"
            } else if !FileManager.default.isWritableFile(atPath: directory.isEmpty ? "." : directory) {
                reason = "its directory \(directory) is not writable (permission denied)"
            } else {
                reason = "the write failed (is the disk full?)"
            }
            throw CheckpointError("\(path) could not be written: \(reason); choose another output location or fix the permissions")
        }
    }
}
