import Synchronization

/// Recycles the memory of tensors' scalars, so that a training step, which needs the same
/// buffers every time, takes them from here instead of from `malloc` (and does not zero them).
///
/// Blocks are grouped in power-of-two size classes from 64 bytes to `largestPooledBlock`; a
/// request is served from its class's free list, or allocated (64-byte aligned) when the list is
/// empty. Freed blocks go back to their list until the pool holds `retainedByteLimit` bytes;
/// beyond that, and for blocks above the largest class, memory goes straight back to the system.
/// One lock guards the lists: a take or a give is a few tens of nanoseconds.
public final class ScalarPool: Sendable {
    /// The pool every tensor uses.
    public static let shared = ScalarPool()

    /// Blocks above this size (bytes) are not pooled.
    public static let largestPooledBlock = 64 << 20
    /// Free bytes the pool keeps at most.
    public static let retainedByteLimit = 1 << 30

    static let smallestClass = 6  // 64 bytes
    static let largestClass = 26  // 64 MiB

    /// Counters since start-up (or since `resetStatistics`).
    public struct Statistics: Equatable, Sendable {
        /// Requests served from a free list.
        public var reused = 0
        /// Requests that allocated new memory.
        public var allocated = 0
        /// Bytes currently held in free lists.
        public var retainedBytes = 0
    }

    private struct FreeLists: ~Copyable {
        var lists: [[UInt]] = Array(repeating: [], count: ScalarPool.largestClass + 1)
        var statistics = Statistics()
    }

    private let state = Mutex(FreeLists())

    private init() {}

    /// The size class (log2 of the block size) of a request, or nil when it is not pooled.
    static func sizeClass(bytes: Int) -> Int? {
        guard bytes <= largestPooledBlock else { return nil }
        let needed = max(bytes, 1 << smallestClass)
        return Int.bitWidth - (needed - 1).leadingZeroBitCount
    }

    /// Usable bytes of a block serving `bytes`.
    static func blockBytes(forRequest bytes: Int) -> Int {
        sizeClass(bytes: bytes).map { 1 << $0 } ?? max(bytes, 1)
    }

    /// A block of at least `bytes` bytes, 64-byte aligned, contents undefined.
    func take(bytes: Int) -> UnsafeMutableRawPointer {
        let blockBytes = ScalarPool.blockBytes(forRequest: bytes)
        if let sizeClass = ScalarPool.sizeClass(bytes: bytes) {
            let address = state.withLock { free -> UInt in
                if let address = free.lists[sizeClass].popLast() {
                    free.statistics.reused += 1
                    free.statistics.retainedBytes -= blockBytes
                    return address
                }
                free.statistics.allocated += 1
                return 0
            }
            if address != 0, let pointer = UnsafeMutableRawPointer(bitPattern: address) { return pointer }
        } else {
            state.withLock { $0.statistics.allocated += 1 }
        }
        return UnsafeMutableRawPointer.allocate(byteCount: blockBytes, alignment: 64)
    }

    /// Returns a block that `take(bytes:)` served for a request of `bytes`.
    func give(_ pointer: UnsafeMutableRawPointer, bytes: Int) {
        if let sizeClass = ScalarPool.sizeClass(bytes: bytes) {
            let blockBytes = 1 << sizeClass
            let kept = state.withLock { free -> Bool in
                guard free.statistics.retainedBytes + blockBytes <= ScalarPool.retainedByteLimit else { return false }
                free.lists[sizeClass].append(UInt(bitPattern: pointer))
                free.statistics.retainedBytes += blockBytes
                return true
            }
            if kept { return }
        }
        pointer.deallocate()
    }

    public var statistics: Statistics { state.withLock { $0.statistics } }

    /// Zeroes the counters (not the retained bytes).
    public func resetStatistics() {
        state.withLock {
            $0.statistics.reused = 0
            $0.statistics.allocated = 0
        }
    }

    /// Returns every free block to the system.
    public func trim() {
        let addresses = state.withLock { free -> [UInt] in
            let all = free.lists.flatMap { $0 }
            for index in free.lists.indices { free.lists[index].removeAll() }
            free.statistics.retainedBytes = 0
            return all
        }
        for address in addresses { UnsafeMutableRawPointer(bitPattern: address)?.deallocate() }
    }
}
