import Core
import Dispatch
import Foundation

/// How sharded training (`TrainingConfiguration.shards`) draws each step's batch: one part
/// per shard, from that shard's own shuffled training windows, sized so that every shard is
/// visited once per epoch.
///
/// With T training windows, batch B and n_s windows in shard s, an epoch has ceil(T / B)
/// steps and shard s gives ceil(n_s / steps) windows to each (fewer, or none, at the end).
/// A step's objective is the window-weighted mean over its parts, as over one batch.
struct ShardSchedule {
    let count: Int
    let shardOfRun: [Int]
    /// Each shard's training windows, in the dataset's order.
    let training: [[WindowDataset.Window]]
    let batchesPerEpoch: Int
    let partSizes: [Int]

    init(data: WindowDataset, shards: Int, batchSize: Int) {
        count = shards
        let shardOfRun = data.shards(shards)
        self.shardOfRun = shardOfRun
        training = (0..<shards).map { shard in data.training.filter { shardOfRun[$0.run] == shard } }
        let batches = max(1, (data.training.count + batchSize - 1) / batchSize)
        batchesPerEpoch = batches
        partSizes = training.map { ($0.count + batches - 1) / batches }
    }

    /// Every shard's windows in the order of `epoch` (a shuffle seeded by seed, epoch, shard).
    func order(epoch: Int, seed: UInt64) -> [[WindowDataset.Window]] {
        training.enumerated().map { shard, windows in
            var shuffled = windows
            var random = RandomSource(seed: (seed &+ UInt64(epoch) &* 0x9E37_79B9_7F4A_7C15) ^ (UInt64(shard + 1) &* 0xBF58_476D_1CE4_E5B9))
            shuffled.shuffle(using: &random)
            return shuffled
        }
    }

    /// The parts of step `batch` of an epoch whose order is `order` (some may be empty).
    func parts(of order: [[WindowDataset.Window]], batch: Int) -> [[WindowDataset.Window]] {
        order.enumerated().map { shard, windows in
            let start = min(windows.count, batch * partSizes[shard])
            return Array(windows[start..<min(windows.count, start + partSizes[shard])])
        }
    }

    /// `windows` grouped by shard, each group in the given order.
    func grouped(_ windows: [WindowDataset.Window]) -> [[WindowDataset.Window]] {
        var groups = [[WindowDataset.Window]](repeating: [], count: count)
        for window in windows { groups[shardOfRun[window.run]].append(window) }
        return groups
    }

    /// The shards `rank` computes (of `ranks`).
    func owned(by rank: Int, of ranks: Int) -> [Int] {
        (0..<count).filter { WindowDataset.rank(ofShard: $0, ranks: ranks) == rank }
    }
}

/// Where sharded steps spend their time: the whole step; within it, waiting for the slowest
/// rank (uneven shards) and the gather of the parts' gradients (the network).
public final class StepTimings: @unchecked Sendable {
    private let lock = NSLock()
    private var steps = 0
    private var stepNanoseconds: UInt64 = 0
    private var exchangeNanoseconds: UInt64 = 0
    private var waitNanoseconds: UInt64 = 0
    private var bytes = 0

    public init() {}

    func add(wait: UInt64, exchange nanoseconds: UInt64, bytes: Int) {
        lock.lock()
        waitNanoseconds += wait
        exchangeNanoseconds += nanoseconds
        self.bytes += bytes
        lock.unlock()
    }

    func add(step nanoseconds: UInt64) {
        lock.lock()
        steps += 1
        stepNanoseconds += nanoseconds
        lock.unlock()
    }

    /// Steps timed, mean seconds per step, the shares of step time spent waiting for the
    /// slowest rank and in the gradient gather itself, and the mean bytes this rank sent per step.
    public var summary: (steps: Int, secondsPerStep: Double, waitShare: Double, exchangeShare: Double, bytesPerStep: Double) {
        lock.lock()
        defer { lock.unlock() }
        let count = Double(max(1, steps)), total = Double(max(1, stepNanoseconds))
        return (steps, Double(stepNanoseconds) / 1e9 / count, Double(waitNanoseconds) / total, Double(exchangeNanoseconds) / total, Double(bytes) / count)
    }
}

extension Trainer {
    /// One step of sharded training: this rank differentiates its shards' parts (concurrently,
    /// one core each), every rank's results are gathered, and the parts' gradients are added
    /// in shard order, so every rank, whatever the number of ranks, holds the same sums.
    ///
    /// Each part's loss is weighted by its share of the step's windows, so the sum is the
    /// step's window mean. Part s draws its noise from the s-th draw of `seed`.
    func shardedStep(_ svae: SVAE<Float>, parts: [[WindowDataset.Window]], data: WindowDataset, klWeight: Double, seed: UInt64,
                     schedule: ShardSchedule) throws -> SVAE<Float>.StepGradient {
        var noise = RandomSource(seed: seed)
        let seeds = parts.map { _ in noise.next() }
        let total = parts.reduce(0) { $0 + $1.count }
        let ranks = communicator.size
        func active(_ rank: Int) -> [Int] { schedule.owned(by: rank, of: ranks).filter { !parts[$0].isEmpty } }
        let mine = active(communicator.rank)
        let width = 3 + svae.parameterCount
        var results = [Result<[Float], any Error>?](repeating: nil, count: mine.count)
        let withInputs = model.inputCount > 0
        results.withUnsafeMutableBufferPointer { slots in
            nonisolated(unsafe) let output = slots
            nonisolated(unsafe) let shared = (svae, data)
            // At most --threads parts at once (each on one core); a worker takes every
            // workers-th part.
            let workers = max(1, min(ComputeThreads.cores, mine.count))
            DispatchQueue.concurrentPerform(iterations: workers) { worker in
              for index in stride(from: worker, to: mine.count, by: workers) {
                let shard = mine[index]
                let windows = parts[shard]
                let weight = Float(Double(windows.count) / Double(total))
                output[index] = Result {
                    try ComputeThreads.withSingleThreadedBLAS {
                        let x: Tensor<Float> = try shared.1.batch(windows)
                        let u: Tensor<Float>? = withInputs ? shared.1.inputBatch(windows) : nil
                        var random = RandomSource(seed: seeds[shard])
                        var terms: SVAE<Float>.Objective?
                        let (value, gradient) = try valueAndGradient(of: shared.0) { candidate -> Tensor<Float> in
                            let objective = try candidate.objective(x, inputs: u, klWeight: klWeight, random: &random)
                            terms = objective
                            return objective.loss * weight
                        }
                        return [value, (terms?.reconstruction ?? 0) * weight, (terms?.kl ?? 0) * weight] + gradient.flattenedParameters
                    }
                }
              }
            }
        }
        var payload: [Float] = []
        payload.reserveCapacity(mine.count * width)
        for result in results {
            guard let result else { preconditionFailure("every owned part yields a result") }
            payload += try result.get()
        }
        // Timed apart: waiting for the slowest rank (a barrier, when timing) and the transfer.
        let waitStart = DispatchTime.now().uptimeNanoseconds
        if timings != nil && communicator.size > 1 { try communicator.barrier() }
        let exchangeStart = DispatchTime.now().uptimeNanoseconds
        let gathered = try communicator.allGather(payload)
        timings?.add(wait: exchangeStart - waitStart, exchange: DispatchTime.now().uptimeNanoseconds - exchangeStart, bytes: payload.count * 4)
        // Rows by shard, then added in shard order (a fixed order of Float additions).
        var rows = [ArraySlice<Float>?](repeating: nil, count: parts.count)
        for rank in 0..<ranks {
            let shards = active(rank)
            guard gathered[rank].count == shards.count * width else {
                throw CommunicationError("rank \(rank) sent \(gathered[rank].count) values for \(shards.count) parts of \(width); the ranks disagree on the step")
            }
            for (k, shard) in shards.enumerated() { rows[shard] = gathered[rank][(k * width)..<((k + 1) * width)] }
        }
        var sum = [Float](repeating: 0, count: width)
        var first = true
        for row in rows {
            guard let row else { continue }
            sum.withUnsafeMutableBufferPointer { target in
                row.withUnsafeBufferPointer { source in
                    if first { for i in 0..<width { target[i] = source[i] } } else { for i in 0..<width { target[i] += source[i] } }
                }
            }
            first = false
        }
        var gradient = svae
        gradient.loadFlattenedParameters(sum[3...])
        return SVAE<Float>.StepGradient(loss: sum[0], reconstruction: sum[1], kl: sum[2], gradient: gradient)
    }

    /// Mean ELBO per window over `windows` with sharded evaluation: each shard's windows in
    /// batches, with noise seeded by the shard, summed on the shard's rank; the shards' sums
    /// are gathered and added in shard order.
    func shardedMeanELBO(_ svae: SVAE<Float>, _ data: WindowDataset, windows: [WindowDataset.Window], schedule: ShardSchedule) throws -> Double {
        let groups = schedule.grouped(windows)
        let mine = schedule.owned(by: communicator.rank, of: communicator.size)
        var sums: [Double] = []
        for shard in mine {
            var noise = RandomSource(seed: model.seed ^ 0x0A11_DA7E ^ (UInt64(shard + 1) &* 0x94D0_49BB_1331_11EB))
            var total = 0.0
            let group = groups[shard]
            for start in stride(from: 0, to: group.count, by: training.batchSize) {
                let slice = Array(group[start..<min(group.count, start + training.batchSize)])
                let objective = try svae.objective(data.batch(slice), inputs: model.inputCount > 0 ? data.inputBatch(slice) : nil, klWeight: 1, random: &noise)
                total += Double(objective.reconstruction + objective.kl) * Double(slice.count)
            }
            sums.append(total)
        }
        let gathered = try communicator.allGather(sums)
        var byShard = [Double](repeating: 0, count: schedule.count)
        for rank in 0..<communicator.size {
            for (k, shard) in schedule.owned(by: rank, of: communicator.size).enumerated() where k < gathered[rank].count { byShard[shard] = gathered[rank][k] }
        }
        var total = 0.0
        for value in byShard { total += value }
        return -total / Double(max(1, windows.count))
    }
}
