import Foundation

/// Warnings about an input, printed once per process: voxel and grayordinate fits read every
/// run twice (PCA pass, then projection), and the same late-events warning twice is noise.
enum WarningsOnce {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var printed: Set<String> = []

    static func warn(_ message: String) {
        let isNew = lock.withLock { printed.insert(message).inserted }
        if isNew { FileHandle.standardError.write(Data(("warning: " + message + "\n").utf8)) }
    }
}
