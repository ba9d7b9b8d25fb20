import Core
import Foundation

/// Ranks as threads of one process (the real ranks run in the CLI's MPI tests).
public final class ThreadGroup: @unchecked Sendable {
    public let size: Int
    private let condition = NSCondition()
    private var slots: [[UInt8]?]
    private var results: [[UInt8]] = []
    private var arrived = 0
    private var generation = 0

    public init(size: Int) {
        self.size = size
        slots = Array(repeating: nil, count: size)
    }

    public func exchange(rank: Int, _ bytes: [UInt8]) -> [[UInt8]] {
        condition.lock()
        defer { condition.unlock() }
        let mine = generation
        slots[rank] = bytes
        arrived += 1
        if arrived == size {
            results = slots.map { $0 ?? [] }
            slots = Array(repeating: nil, count: size)
            arrived = 0
            generation += 1
            condition.broadcast()
        } else {
            while generation == mine { condition.wait() }
        }
        return results
    }

    /// Runs `body(rank)` on a thread per rank and waits for all.
    public func run(_ body: @escaping @Sendable (Int) -> Void) {
        let done = DispatchSemaphore(value: 0)
        for rank in 0..<size {
            let thread = Thread {
                body(rank)
                done.signal()
            }
            thread.stackSize = 8 << 20
            thread.start()
        }
        for _ in 0..<size { done.wait() }
    }
}

public final class ThreadRank: Communicator, @unchecked Sendable {
    public let rank: Int
    public let group: ThreadGroup
    public var size: Int { group.size }
    public init(rank: Int, group: ThreadGroup) {
        self.rank = rank
        self.group = group
    }

    private func gather<T: BitwiseCopyable>(_ values: [T]) -> [[T]] {
        group.exchange(rank: rank, values.withUnsafeBytes { Array($0) }).map { part in part.withUnsafeBytes { Array($0.bindMemory(to: T.self)) } }
    }
    public func allGather(_ values: [Float]) throws -> [[Float]] { gather(values) }
    public func allGather(_ values: [Double]) throws -> [[Double]] { gather(values) }
    public func allGather(bytes: [UInt8]) throws -> [[UInt8]] { group.exchange(rank: rank, bytes) }
    public func barrier() throws { _ = group.exchange(rank: rank, []) }
    public func abort(code: Int32) -> Never { fatalError("rank \(rank) aborted with \(code)") }
    public var traffic: Traffic { Traffic() }
}
