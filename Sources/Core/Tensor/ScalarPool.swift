import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Recycles the memory of tensors' scalars, so that a training step, which needs the same
/// buffers every time, takes them from here instead of from `malloc` (and does not zero them).
///
/// Blocks are grouped in power-of-two size classes from 64 bytes to `largestPooledBlock`. The
/// free lists are split into `shardCount` shards; each thread is given one (round robin, on its
/// first request), takes from it and gives back to it, so two threads training concurrently do
/// not fight over one lock. A thread whose shard has no block of the class it needs takes one
/// from another shard (blocks made on one thread and freed on another, such as the gradients of
/// a batch part, end up in the freeing thread's shard), and allocates (64-byte aligned) only
/// when no shard has one. A shard keeps at most `retainedByteLimit / shardCount` free bytes;
/// beyond that, and for blocks above the largest class, memory goes back to the system.
public final class ScalarPool: @unchecked Sendable {
    /// The pool every tensor uses.
    public static let shared = ScalarPool()

    /// Blocks above this size (bytes) are not pooled.
    public static let largestPooledBlock = 1 << largestClass
    /// Free bytes the pool keeps at most (over all shards).
    public static let retainedByteLimit = 1 << 30
    /// Free-list shards (threads are spread over them).
    public static let shardCount = 8

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

    /// The shards, held unmanaged so that using one costs no reference counting (they live as
    /// long as the process).
    private let shards: UnsafeMutablePointer<Unmanaged<Shard>>
    private let nextShard = Atomic<Int>(0)
    private let shardKey: pthread_key_t

    private init() {
        shards = .allocate(capacity: ScalarPool.shardCount)
        for index in 0..<ScalarPool.shardCount {
            (shards + index).initialize(to: .passRetained(Shard(byteLimit: ScalarPool.retainedByteLimit / ScalarPool.shardCount)))
        }
        var key = pthread_key_t()
        pthread_key_create(&key, nil)
        shardKey = key
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

    /// The calling thread's shard index (stored as index + 1 in a thread-specific slot).
    @inline(__always)
    private var home: Int {
        if let slot = pthread_getspecific(shardKey) { return Int(bitPattern: slot) - 1 }
        let index = nextShard.wrappingAdd(1, ordering: .relaxed).oldValue % ScalarPool.shardCount
        pthread_setspecific(shardKey, UnsafeRawPointer(bitPattern: index + 1))
        return index
    }

    @inline(__always)
    private func withShard<R>(_ index: Int, _ body: (Shard) -> R) -> R {
        shards[index]._withUnsafeGuaranteedRef(body)
    }

    /// A block of at least `bytes` bytes, 64-byte aligned, contents undefined.
    func take(bytes: Int) -> UnsafeMutableRawPointer {
        let home = self.home
        if let sizeClass = ScalarPool.sizeClass(bytes: bytes) {
            if let block = withShard(home, { $0.take(sizeClass: sizeClass) }) { return block }
            for offset in 1..<ScalarPool.shardCount {
                if let block = withShard((home + offset) % ScalarPool.shardCount, { $0.take(sizeClass: sizeClass) }) { return block }
            }
        }
        withShard(home) { $0.countAllocation() }
        return UnsafeMutableRawPointer.allocate(byteCount: ScalarPool.blockBytes(forRequest: bytes), alignment: 64)
    }

    /// Returns a block that `take(bytes:)` served for a request of `bytes`.
    func give(_ pointer: UnsafeMutableRawPointer, bytes: Int) {
        if let sizeClass = ScalarPool.sizeClass(bytes: bytes), withShard(home, { $0.give(pointer, sizeClass: sizeClass) }) { return }
        pointer.deallocate()
    }

    private var allShards: [Shard] { (0..<ScalarPool.shardCount).map { shards[$0].takeUnretainedValue() } }

    public var statistics: Statistics {
        allShards.reduce(into: Statistics()) { total, shard in
            let counters = shard.counters
            total.reused += counters.reused
            total.allocated += counters.allocated
            total.retainedBytes += counters.retainedBytes
        }
    }

    /// Zeroes the counters (not the retained bytes).
    public func resetStatistics() { allShards.forEach { $0.resetCounters() } }

    /// Returns every free block to the system.
    public func trim() { allShards.forEach { $0.trim() } }
}

/// One shard of free lists behind a spin lock (the critical sections are a few instructions,
/// and the lock is almost always taken by the same thread).
private final class Shard: @unchecked Sendable {
    /// A stack of block addresses.
    struct FreeList {
        var blocks: UnsafeMutablePointer<UnsafeMutableRawPointer>? = nil
        var count = 0, capacity = 0

        mutating func push(_ block: UnsafeMutableRawPointer) {
            if count == capacity {
                let grown = Swift.max(64, 2 * capacity)
                let larger = UnsafeMutablePointer<UnsafeMutableRawPointer>.allocate(capacity: grown)
                if let blocks {
                    larger.moveInitialize(from: blocks, count: count)
                    blocks.deallocate()
                }
                blocks = larger
                capacity = grown
            }
            (blocks! + count).initialize(to: block)
            count += 1
        }

        mutating func pop() -> UnsafeMutableRawPointer? {
            guard count > 0, let blocks else { return nil }
            count -= 1
            return (blocks + count).move()
        }
    }

    private let locked = Atomic<Bool>(false)
    /// One list per size class (index = log2 of the block size).
    private let lists: UnsafeMutablePointer<FreeList>
    private var statistics = ScalarPool.Statistics()
    private let byteLimit: Int
    /// Keeps two shards' locks off one cache line (shards are allocated one after another).
    private let padding: (Int, Int, Int, Int, Int, Int, Int, Int) = (0, 0, 0, 0, 0, 0, 0, 0)

    init(byteLimit: Int) {
        self.byteLimit = byteLimit
        lists = .allocate(capacity: ScalarPool.largestClass + 1)
        lists.initialize(repeating: FreeList(), count: ScalarPool.largestClass + 1)
    }

    @inline(__always)
    private func withLock<R>(_ body: () -> R) -> R {
        var spins = 0
        while locked.exchange(true, ordering: .acquiring) {
            while locked.load(ordering: .relaxed) {
                // The holder may have been preempted inside its few instructions: after a
                // while, give the core away instead of spinning out the time slice.
                spins += 1
                if spins >= 1000 {
                    sched_yield()
                    spins = 0
                }
            }
        }
        defer { locked.store(false, ordering: .releasing) }
        return body()
    }

    func take(sizeClass: Int) -> UnsafeMutableRawPointer? {
        withLock {
            guard let block = lists[sizeClass].pop() else { return nil }
            statistics.reused += 1
            statistics.retainedBytes -= 1 << sizeClass
            return block
        }
    }

    /// Keeps the block unless the shard is full (then the caller frees it).
    func give(_ block: UnsafeMutableRawPointer, sizeClass: Int) -> Bool {
        withLock {
            guard statistics.retainedBytes + (1 << sizeClass) <= byteLimit else { return false }
            lists[sizeClass].push(block)
            statistics.retainedBytes += 1 << sizeClass
            return true
        }
    }

    func countAllocation() { withLock { statistics.allocated += 1 } }

    var counters: ScalarPool.Statistics { withLock { statistics } }

    func resetCounters() {
        withLock {
            statistics.reused = 0
            statistics.allocated = 0
        }
    }

    func trim() {
        var free: [UnsafeMutableRawPointer] = []
        withLock {
            for sizeClass in 0...ScalarPool.largestClass {
                while let block = lists[sizeClass].pop() { free.append(block) }
            }
            statistics.retainedBytes = 0
        }
        for block in free { block.deallocate() }
    }
}
