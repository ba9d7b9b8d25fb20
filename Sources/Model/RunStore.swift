import Foundation
import Preprocessing

#if canImport(Glibc)
import Glibc
#endif

/// Standardised runs as row-major Float32 [volumes, features], one run after another, from
/// which training reads its windows.
///
/// In memory (`RunStore(runs:)`), or on disk (`RunStore.Writer(file:)`): runs are appended as
/// they are read, so a fit over many subjects holds one run at a time, and every batch is read
/// back with `pread` (the operating system's page cache, not the process, holds the file).
/// The file is unlinked as soon as it is complete and open, so it never outlives the process.
public final class RunStore: @unchecked Sendable {
    /// Where a run's rows are, in scalars from the start of the store.
    public struct Extent: Sendable, Equatable {
        /// -1 for a run another rank holds (its shape is known, its values are not here).
        public let offset: Int
        public let timePoints: Int
        public let columns: Int
        public init(offset: Int, timePoints: Int, columns: Int) {
            self.offset = offset
            self.timePoints = timePoints
            self.columns = columns
        }
        /// Whether the run's values are in this store.
        public var isPresent: Bool { offset >= 0 }
    }

    public let extents: [Extent]
    private let memory: [Float]
    /// The (already unlinked) file, or nil in memory.
    private let file: OpenFile?
    private var descriptor: Int32 { file?.descriptor ?? -1 }
    /// The file's name while it was written (for messages).
    public let path: String?

    /// Every run's standardised matrix, in memory.
    public init(runs: [SignalMatrix]) {
        var values: [Float] = []
        values.reserveCapacity(runs.reduce(0) { $0 + $1.values.count })
        var extents: [Extent] = []
        for matrix in runs {
            extents.append(Extent(offset: values.count, timePoints: matrix.timePoints, columns: matrix.columns))
            values += RunStore.rowMajor(matrix)
        }
        self.extents = extents
        memory = values
        file = nil
        path = nil
    }

    private init(extents: [Extent], memory: [Float], file: OpenFile?, path: String?) {
        self.extents = extents
        self.memory = memory
        self.file = file
        self.path = path
    }

    /// A descriptor closed when the last store sharing it goes.
    private final class OpenFile: Sendable {
        let descriptor: Int32
        init(_ descriptor: Int32) { self.descriptor = descriptor }
        deinit { close(descriptor) }
    }

    /// This store's runs placed among runs other ranks hold: run `local[k]` of the result is
    /// this store's run k; every other run has only its shape (`shapes`, indexed like the
    /// result), and reading it is an error.
    public func placed(at local: [Int], shapes: [(timePoints: Int, columns: Int)]) -> RunStore {
        precondition(local.count == extents.count, "one position per run of the store")
        var layout = shapes.map { Extent(offset: -1, timePoints: $0.timePoints, columns: $0.columns) }
        for (k, position) in local.enumerated() { layout[position] = extents[k] }
        return RunStore(extents: layout, memory: memory, file: file, path: path)
    }

    /// Whether the runs live in a file rather than in memory.
    public var isOnDisk: Bool { descriptor >= 0 }

    /// Copies rows `start..<(start + count)` of `run` into `target` (count x columns scalars).
    public func read(run: Int, start: Int, count: Int, into target: UnsafeMutablePointer<Float>) throws {
        let extent = extents[run]
        guard extent.isPresent else { throw TrainingError("run \(run + 1) is held by another rank; a shard read a run it does not own") }
        precondition(start >= 0 && start + count <= extent.timePoints, "rows \(start)..<\(start + count) outside run \(run)")
        let first = extent.offset + start * extent.columns, length = count * extent.columns
        if descriptor < 0 {
            memory.withUnsafeBufferPointer { source in
                guard let base = source.baseAddress else { return }
                target.update(from: base + first, count: length)
            }
            return
        }
        var done = 0
        let bytes = length * MemoryLayout<Float>.size
        while done < bytes {
            let got = pread(descriptor, UnsafeMutableRawPointer(target) + done, bytes - done, off_t(first * MemoryLayout<Float>.size + done))
            if got < 0 && errno == EINTR { continue }
            guard got > 0 else {
                throw TrainingError("reading the run cache \(path ?? "") failed (\(String(cString: strerror(errno)))); check the disk under `out` and run again")
            }
            done += got
        }
    }

    /// Column-major Double -> row-major Float.
    static func rowMajor(_ matrix: SignalMatrix) -> [Float] {
        var rows = [Float](repeating: 0, count: matrix.values.count)
        let (t, c) = (matrix.timePoints, matrix.columns)
        matrix.values.withUnsafeBufferPointer { source in
            for column in 0..<c { for row in 0..<t { rows[row * c + column] = Float(source[column * t + row]) } }
        }
        return rows
    }

    /// A run cache at `file` filled with the runs `feed` hands to the closure it is given:
    /// each run's standardised values go to the file, and its metadata (the timeseries emptied)
    /// is returned with the store. On an error the partial file is removed.
    public static func collect(file: String, _ feed: (_ add: (RunData) throws -> Void) throws -> Void) throws -> ([RunData], RunStore) {
        var writer = try Writer(file: file)
        var runs: [RunData] = []
        do {
            try feed { run in
                try writer.append(run.standardized)
                var metadata = run
                metadata.timeseries = SignalMatrix(timePoints: 0, columns: 0, values: [])
                runs.append(metadata)
            }
        } catch {
            writer.discard()
            throw error
        }
        return (runs, try writer.finish())
    }

    /// Appends runs to a file, then opens it for reading.
    public struct Writer {
        public let path: String
        private var handle: FileHandle?
        private var extents: [Extent] = []
        private var written = 0

        /// Creates (or truncates) `file`; its directory must exist.
        public init(file: String) throws {
            path = file
            guard FileManager.default.createFile(atPath: file, contents: nil), let handle = FileHandle(forWritingAtPath: file) else {
                throw TrainingError("cannot create the run cache \(file); check that the `out` directory is writable")
            }
            self.handle = handle
        }

        /// Appends one standardised run.
        public mutating func append(_ matrix: SignalMatrix) throws {
            guard let handle else { throw TrainingError("the run cache \(path) is already closed") }
            let rows = RunStore.rowMajor(matrix)
            extents.append(Extent(offset: written, timePoints: matrix.timePoints, columns: matrix.columns))
            do {
                try rows.withUnsafeBytes { try handle.write(contentsOf: Data($0)) }
            } catch {
                throw TrainingError("writing the run cache \(path) failed (\(error)); check the free disk space under `out`")
            }
            written += rows.count
        }

        /// Closes the file, opens it for reading and unlinks it (the descriptor keeps it alive).
        public mutating func finish() throws -> RunStore {
            try handle?.close()
            handle = nil
            let descriptor = open(path, O_RDONLY)
            defer { unlink(path) }
            guard descriptor >= 0 else { throw TrainingError("cannot reopen the run cache \(path) (\(String(cString: strerror(errno))))") }
            return RunStore(extents: extents, memory: [], file: OpenFile(descriptor), path: path)
        }

        /// Removes the partial file (after an error while appending).
        public mutating func discard() {
            try? handle?.close()
            handle = nil
            unlink(path)
        }
    }
}
