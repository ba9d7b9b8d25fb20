import TrainingTestSupport
import Core
import Foundation
import Preprocessing
import TestSupport
import XCTest

@testable import Model

final class ShardedTrainingTests: XCTestCase {

    func testSubjectsAreDealtToShardsInSortedOrder() {
        XCTAssertEqual(WindowDataset.shards(groups: ["03", "01", "02", "01", "04"], count: 3), [2, 0, 1, 0, 0])
        // One subject: its runs are dealt by position.
        XCTAssertEqual(WindowDataset.shards(groups: ["01", "01", "01", "01"], count: 3), [0, 1, 2, 0])
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
            let datasets = try (0..<ranks).map { try TrainingFixtures.rankView(rank: $0, ranks: ranks, shards: 3, runs: runs, model: model).data }
            let errors = NSLock()
            nonisolated(unsafe) var failures: [String] = []
            let (model, training) = (model, training)
            group.run { rank in
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
        XCTAssertThrowsError(try Trainer(directory: outputs[0], model: model, training: other).fit(try TrainingFixtures.rankView(rank: 0, ranks: 1, shards: 2, runs: runs, model: model).data, resume: true)) { error in
            XCTAssertEqual((error as? TrainingError)?.reason, .settingsChanged, "\(error)")
        }
    }

    /// A failure on one rank reaches every rank (`agree`), naming that rank.
    func testAgreeStopsEveryRankWithTheFailingRanksMessage() {
        let group = ThreadGroup(size: 3)
        nonisolated(unsafe) var messages = [String](repeating: "", count: 3)
        group.run { rank in
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
