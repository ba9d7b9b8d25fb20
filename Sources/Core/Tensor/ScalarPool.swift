import Synchronization

/// Recycles the memory of tensors' scalars, so that a training step, which needs the same
/// buffers every time, takes them from here instead of from `malloc` (and does not zero them).
///
/// Blocks are grouped in power-of-two size classes from 64 bytes to `largestPooledBlock`; a
/// request is served from its class's free list, or allocated (64-byte aligned) when the list is
/// empty. Freed blocks go back to their list until the pool holds `retainedByteLimit` bytes or
/// the list holds `listCapacity` blocks; beyond that, and for blocks above the largest class,
/// memory goes straight back to the system.
///
/// The lists sit in one fixed table guarded by a spin lock: a take or a give is a handful of
/// instructions, and the critical sections are too short for a sleeping lock to pay off.
public final class ScalarPool: @unchecked Sendable {
    /// The pool every tensor uses.
    public static let shared = ScalarPool()

    /// Blocks above this size (bytes) are not pooled.
    public static let largestPooledBlock = 1 << largestClass
    /// Free bytes the pool keeps at most.
    public static let retainedByteLimit = 1 << 30
    /// Free blocks one size class keeps at most.
    public static let listCapacity = 4096

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

    private let locked = Atomic<Bool>(false)
    /// `listCapacity` slots per size class, row by row; `lengths[c]` of row c are in use.
    private let slots: UnsafeMutablePointer<UnsafeMutableRawPointer?>
    private let lengths: UnsafeMutablePointer<Int>
    private var counters = Statistics()

    private init() {
        let classes = ScalarPool.largestClass + 1
        slots = .allocate(capacity: classes * ScalarPool.listCapacity)
        slots.initialize(repeating: nil, count: classes * ScalarPool.listCapacity)
        lengths = .allocate(capacity: classes)
        lengths.initialize(repeating: 0, count: classes)
    }

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

    @inline(__always)
    private func withLock<R>(_ body: () -> R) -> R {
        while locked.exchange(true, ordering: .acquiring) {
            while locked.load(ordering: .relaxed) {}
        }
        defer { locked.store(false, ordering: .releasing) }
        return body()
    }

    /// A block of at least `bytes` bytes, 64-byte aligned, contents undefined.
    func take(bytes: Int) -> UnsafeMutableRawPointer {
        let sizeClass = ScalarPool.sizeClass(bytes: bytes)
        let reused: UnsafeMutableRawPointer? = withLock {
            if let sizeClass, lengths[sizeClass] > 0 {
                lengths[sizeClass] -= 1
                counters.reused += 1
                counters.retainedBytes -= 1 << sizeClass
                return slots[sizeClass * ScalarPool.listCapacity + lengths[sizeClass]]
            }
            counters.allocated += 1
            return nil
        }
        return reused ?? UnsafeMutableRawPointer.allocate(byteCount: ScalarPool.blockBytes(forRequest: bytes), alignment: 64)
    }

    /// Returns a block that `take(bytes:)` served for a request of `bytes`.
    func give(_ pointer: UnsafeMutableRawPointer, bytes: Int) {
        if let sizeClass = ScalarPool.sizeClass(bytes: bytes) {
            let blockBytes = 1 << sizeClass
            let kept = withLock { () -> Bool in
                guard lengths[sizeClass] < ScalarPool.listCapacity,
                      counters.retainedBytes + blockBytes <= ScalarPool.retainedByteLimit else { return false }
                slots[sizeClass * ScalarPool.listCapacity + lengths[sizeClass]] = pointer
                lengths[sizeClass] += 1
                counters.retainedBytes += blockBytes
                return true
            }
            if kept { return }
        }
        pointer.deallocate()
    }

    public var statistics: Statistics { withLock { counters } }

    /// Zeroes the counters (not the retained bytes).
    public func resetStatistics() {
        withLock {
            counters.reused = 0
            counters.allocated = 0
        }
    }

    /// Returns every free block to the system.
    public func trim() {
        var free: [UnsafeMutableRawPointer] = []
        withLock {
            for sizeClass in 0...ScalarPool.largestClass {
                for index in 0..<lengths[sizeClass] {
                    if let block = slots[sizeClass * ScalarPool.listCapacity + index] { free.append(block) }
                }
                lengths[sizeClass] = 0
            }
            counters.retainedBytes = 0
        }
        for block in free { block.deallocate() }
    }
}
