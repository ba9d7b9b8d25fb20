import Core
import Foundation
import Preprocessing
import TestSupport
import XCTest

@testable import Model

/// Ranks as threads of one process: each collective waits for every rank's contribution.
final class ThreadGroup: @unchecked Sendable {
    let size: Int
    private let condition = NSCondition()
    private var slots: [[UInt8]?]
    private var results: [[UInt8]] = []
    private var arrived = 0
    private var generation = 0

    init(size: Int) {
        self.size = size
        slots = Array(repeating: nil, count: size)
    }

    func exchange(rank: Int, _ bytes: [UInt8]) -> [[UInt8]] {
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
}

final class ThreadRank: Communicator, @unchecked Sendable {
    let rank: Int
    let group: ThreadGroup
    var size: Int { group.size }
    init(rank: Int, group: ThreadGroup) {
        self.rank = rank
        self.group = group
    }

    private func gather<T: BitwiseCopyable>(_ values: [T]) -> [[T]] {
        let bytes = values.withUnsafeBytes { Array($0) }
        return group.exchange(rank: rank, bytes).map { part in
            part.withUnsafeBytes { raw in Array(raw.bindMemory(to: T.self)) }
        }
    }
    func allGather(_ values: [Float]) throws -> [[Float]] { gather(values) }
    func allGather(_ values: [Double]) throws -> [[Double]] { gather(values) }
    func allGather(bytes: [UInt8]) throws -> [[UInt8]] { group.exchange(rank: rank, bytes) }
    func barrier() throws { _ = group.exchange(rank: rank, []) }
    func abort(code: Int32) -> Never { fatalError("rank \(rank) aborted with \(code)") }
    var traffic: Traffic { Traffic() }
}

/// Runs `body(rank)` on `count` threads of their own (ranks block on each other, so they
/// cannot share a bounded pool) and waits for all.
func onThreads(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
    let done = DispatchSemaphore(value: 0)
    for rank in 0..<count {
        let thread = Thread {
            body(rank)
            done.signal()
        }
        thread.stackSize = 8 << 20
        thread.start()
    }
    for _ in 0..<count { done.wait() }
}

final class ShardedTrainingTests: XCTestCase {

    func testSubjectsAreDealtToShardsInSortedOrder() {
        XCTAssertEqual(WindowDataset.shards(subjects: ["03", "01", "02", "01", "04"], count: 3), [2, 0, 1, 0, 0])
        // One subject: its runs are dealt by position.
        XCTAssertEqual(WindowDataset.shards(subjects: ["01", "01", "01", "01"], count: 3), [0, 1, 2, 0])
        XCTAssertEqual((0..<6).map { WindowDataset.rank(ofShard: $0, ranks: 4) }, [0, 1, 2, 3, 0, 1])
    }

    /// Every training window is in exactly one part of exactly one step per epoch, each part
    /// from its own shard's runs.
    func testScheduleVisitsEveryTrainingWindowOncePerEpoch() throws {
        let (model, _) = TrainingFixtures.configurations()
        var runs = TrainingFixtures.runs(volumes: 90) + TrainingFixtures.runs(volumes: 60)
        for index in 3..<6 { runs[index].subject = "1\(index)" }
        let data = try WindowDataset(runs: runs, window: model.window, stride: model.stride, validationFraction: 0.34, seed: 3)
        let schedule = ShardSchedule(data: data, shards: 4, batchSize: 5)
        XCTAssertEqual(schedule.batchesPerEpoch, (data.training.count + 4) / 5)
        let order = schedule.order(epoch: 2, seed: 9)
        var seen: [WindowDataset.Window] = []
        for batch in 0..<schedule.batchesPerEpoch {
            for (shard, part) in schedule.parts(of: order, batch: batch).enumerated() {
                XCTAssertTrue(part.allSatisfy { schedule.shardOfRun[$0.run] == shard })
                XCTAssertLessThanOrEqual(part.count, schedule.partSizes[shard])
                seen += part
            }
        }
        XCTAssertEqual(seen.count, data.training.count)
        XCTAssertEqual(Set(seen.map { "\($0.run)/\($0.start)" }), Set(data.training.map { "\($0.run)/\($0.start)" }))
        XCTAssertNotEqual(schedule.order(epoch: 3, seed: 9), order, "each epoch has its own order")
    }

    /// A store placed among runs of other ranks reads its own runs and refuses the others.
    func testPlacedStoreReadsOnlyItsRuns() throws {
        let runs = TrainingFixtures.runs()
        let local = RunStore(runs: [runs[1].standardized])
        let placed = local.placed(at: [1], shapes: runs.map { ($0.timeseries.timePoints, $0.timeseries.columns) })
        var row = [Float](repeating: 0, count: 6)
        try row.withUnsafeMutableBufferPointer { try placed.read(run: 1, start: 4, count: 1, into: $0.baseAddress!) }
        let expected = runs[1].standardized
        for c in 0..<6 { XCTAssertEqual(row[c], Float(expected[4, c])) }
        XCTAssertThrowsError(try row.withUnsafeMutableBufferPointer { try placed.read(run: 0, start: 0, count: 1, into: $0.baseAddress!) }) { error in
            XCTAssertTrue("\(error)".contains("held by another rank"), "\(error)")
        }
    }

    /// The rank's view of the data: its own runs' values, every run's shape and labels.
    func dataset(rank: Int, ranks: Int, shards: Int, runs: [RunData], model: SVAEConfiguration) throws -> WindowDataset {
        let shardOfRun = WindowDataset.shards(subjects: runs.map(\.subject), count: shards)
        let owned = runs.indices.filter { WindowDataset.rank(ofShard: shardOfRun[$0], ranks: ranks) == rank }
        let store = RunStore(runs: owned.map { runs[$0].standardized })
            .placed(at: owned, shapes: runs.map { ($0.timeseries.timePoints, $0.timeseries.columns) })
        let metadata = runs.enumerated().map { RunMetadata(index: $0, run: $1, shape: ($1.timeseries.timePoints, $1.timeseries.columns)).runData }
        return try WindowDataset(runs: metadata, store: store, window: model.window, stride: model.stride, validationFraction: 0.34, seed: model.seed)
    }

    /// The fit on 1, 2 or 3 ranks (threads here; real ranks in the CLI tests) writes the same
    /// bytes: parameters, Adam moments and validation ELBOs.
    func testShardedFitIsBitIdenticalOnOneTwoAndThreeRanks() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var (model, training) = TrainingFixtures.configurations()
        training.shards = 3
        training.epochs = 2
        let runs = TrainingFixtures.runs()
        var outputs: [String] = []
        for ranks in 1...3 {
            let out = directory.file("ranks-\(ranks)")
            let group = ThreadGroup(size: ranks)
            let datasets = try (0..<ranks).map { try dataset(rank: $0, ranks: ranks, shards: 3, runs: runs, model: model) }
            let errors = NSLock()
            nonisolated(unsafe) var failures: [String] = []
            let (model, training) = (model, training)
            onThreads(ranks) { rank in
                var trainer = Trainer(directory: out, model: model, training: training)
                trainer.communicator = ThreadRank(rank: rank, group: group)
                do { try trainer.fit(datasets[rank]) } catch {
                    errors.lock(); failures.append("rank \(rank): \(error)"); errors.unlock()
                }
            }
            XCTAssertEqual(failures, [])
            outputs.append(out)
        }
        let reference = try Data(contentsOf: URL(fileURLWithPath: outputs[0] + "/checkpoint/model.safetensors"))
        let moments = try Data(contentsOf: URL(fileURLWithPath: outputs[0] + "/checkpoint/optimizer.safetensors"))
        let elbos = try String(contentsOfFile: outputs[0] + "/training_log.csv", encoding: .utf8).split(separator: "\n").dropFirst().map { $0.split(separator: ",")[5] }
        XCTAssertEqual(elbos.count, 2)
        for out in outputs.dropFirst() {
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: out + "/checkpoint/model.safetensors")), reference, out)
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: out + "/checkpoint/optimizer.safetensors")), moments, out)
            let log = try String(contentsOfFile: out + "/training_log.csv", encoding: .utf8).split(separator: "\n").dropFirst().map { $0.split(separator: ",")[5] }
            XCTAssertEqual(log, elbos, out)
        }
        // And the sharded fit trains: the validation ELBO rose.
        XCTAssertGreaterThan(Double(elbos[1]) ?? 0, Double(elbos[0]) ?? 0)
        // A model fitted with shards resumes only with the same shards.
        var other = training
        other.shards = 2
        other.epochs = 3
        XCTAssertThrowsError(try Trainer(directory: outputs[0], model: model, training: other).fit(try dataset(rank: 0, ranks: 1, shards: 2, runs: runs, model: model), resume: true)) { error in
            XCTAssertEqual((error as? TrainingError)?.reason, .settingsChanged, "\(error)")
        }
    }

    /// A failure on one rank reaches every rank (`agree`), naming that rank.
    func testAgreeStopsEveryRankWithTheFailingRanksMessage() {
        let group = ThreadGroup(size: 3)
        nonisolated(unsafe) var messages = [String](repeating: "", count: 3)
        onThreads(3) { rank in
            let communicator = ThreadRank(rank: rank, group: group)
            do {
                try communicator.agree { if rank == 2 { throw TrainingError("bad file on rank two") } }
                messages[rank] = "passed"
            } catch let failure as GroupFailure {
                messages[rank] = "\(failure.rank)|\(failure.message)|\(failure.underlying != nil)"
            } catch {
                messages[rank] = "other: \(error)"
            }
        }
        XCTAssertEqual(messages, ["2|bad file on rank two|false", "2|bad file on rank two|false", "2|bad file on rank two|true"])
    }
}
