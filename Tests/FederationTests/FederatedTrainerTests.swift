import TrainingTestSupport
import Core
import Foundation
import Model
import Preprocessing
import Sparse
import TestSupport
import XCTest

@testable import Federation

final class FederatedTrainerTests: XCTestCase {
    func configurations() -> (SVAEConfiguration, TrainingConfiguration) {
        var (model, training) = TrainingFixtures.configurations()
        training.learningRate = 0.01
        return (model, training)
    }

    func fit(_ federation: FederatedConfiguration, sites: Int, directory: String) throws -> [FederatedRecord] {
        let (records, failures, _) = try fitCollecting(federation, sites: sites, directory: directory)
        XCTAssertEqual(failures, [])
        return records
    }

    /// Fits on `sites` thread ranks; `factors[rank]` multiplies that rank's gradients at the
    /// given optimiser steps (NaN as a diverging rollout makes them). Returns each rank's record
    /// (wall-clock times zeroed), the ranks' errors and their progress lines.
    func fitCollecting(_ federation: FederatedConfiguration, sites: Int, directory: String,
                       factors: [Int: [Int: Float]] = [:]) throws -> ([FederatedRecord], [String], [String]) {
        let (model, training) = configurations()
        let runs = TrainingFixtures.runs(subjects: 4, seed: 5)
        let group = ThreadGroup(size: sites)
        let inputs = try (0..<sites).map { try TrainingFixtures.rankView(rank: $0, ranks: sites, shards: sites, runs: runs, model: model, validationFraction: 0.25) }
        let lock = NSLock()
        nonisolated(unsafe) var records = [FederatedRecord?](repeating: nil, count: sites)
        nonisolated(unsafe) var failures: [String] = []
        nonisolated(unsafe) var lines: [String] = []
        group.run { rank in
            var trainer = FederatedTrainer(directory: directory, model: model, training: training, federation: federation,
                                           communicator: ThreadRank(rank: rank, group: group))
            trainer.gradientFactorsAtSteps = factors[rank] ?? [:]
            trainer.progress = { line in lock.lock(); lines.append(line); lock.unlock() }
            do {
                let record = try trainer.fit(inputs[rank].0, siteOfRun: inputs[rank].1)
                lock.lock(); records[rank] = record; lock.unlock()
            } catch {
                lock.lock(); failures.append("rank \(rank): \(error)"); lock.unlock()
            }
        }
        // Wall-clock times are each rank's own; everything else must agree.
        let timeless = records.compactMap { $0 }.map { record in
            var timeless = record
            for index in timeless.rounds.indices { timeless.rounds[index].seconds = 0 }
            return timeless
        }
        return (timeless, failures.sorted(), lines)
    }

    /// Dense FedAvg on three sites: every site ends with the same global model (the same
    /// validation ELBOs on every rank), the ELBO rises, and the directory is a loadable model.
    func testFedAvgSitesAgreeAndTheModelLearns() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var federation = FederatedConfiguration()
        federation.rounds = 4
        let records = try fit(federation, sites: 3, directory: directory.path)
        XCTAssertEqual(records.count, 3)
        XCTAssertEqual(records[1], records[0])
        XCTAssertEqual(records[2], records[0])
        let elbos = records[0].rounds.map(\.validationElbo)
        XCTAssertGreaterThan(elbos.last ?? 0, elbos.first ?? 0, "\(elbos)")
        XCTAssertEqual(records[0].method, "fedavg")
        XCTAssertEqual(records[0].exchangedScalars, records[0].parameters)
        XCTAssertEqual(records[0].sites.map(\.trainingWindows).reduce(0, +) + records[0].sites.map(\.validationWindows).reduce(0, +), 4 * 9)
        let (loaded, _) = try ModelDirectory(directory.path).load()
        XCTAssertEqual(loaded.parameterCount, records[0].parameters)
        let log = try String(contentsOfFile: directory.file("training_log.csv"), encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(log.count, 5)
    }

    /// SSFL at sparsity 0.8: the agreed mask removes 80% of the prunable weights, the saved
    /// model is zero there, and only the kept values travel.
    func testSSFLSendsOnlyTheAgreedMasksValues() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var federation = FederatedConfiguration()
        federation.rounds = 2
        federation.sparsity = 0.8
        let records = try fit(federation, sites: 2, directory: directory.path)
        XCTAssertEqual(records.count, 2)
        XCTAssertEqual(records[0], records[1])
        let (model, _) = try ModelDirectory(directory.path).load()
        let prunable = Set(prunableParameters(model))
        var prunableCount = 0, prunableNonzero = 0, other = 0
        for (name, tensor) in model.namedParameters {
            if prunable.contains(name) {
                prunableCount += tensor.count
                prunableNonzero += tensor.scalars.filter { $0 != 0 }.count
            } else {
                other += tensor.count
            }
        }
        XCTAssertEqual(Double(prunableNonzero) / Double(prunableCount), 0.2, accuracy: 0.01)
        XCTAssertEqual(records[0].exchangedScalars, Int((Double(prunableCount) * 0.2).rounded()) + other, accuracy: 2)
        XCTAssertEqual(records[0].method, "ssfl")
    }

    func testPackAndUnpackRoundTripAndWeightedMean() throws {
        let (model, training) = configurations()
        let trainer = FederatedTrainer(directory: "/nonexistent", model: model, training: training, federation: FederatedConfiguration(),
                                       communicator: LocalCommunicator())
        let svae = SVAE<Float>(configuration: model)
        let kept = [0, 3, 7, svae.parameterCount - 1]
        let packed = trainer.pack(svae, kept)
        let flat = svae.flattenedParameters
        XCTAssertEqual(packed, kept.map { flat[$0] })
        let zeroed = trainer.unpack(packed, into: svae, kept, zeroRest: true).flattenedParameters
        XCTAssertEqual(zeroed.filter { $0 != 0 }.count, packed.filter { $0 != 0 }.count)
        XCTAssertEqual(kept.map { zeroed[$0] }, packed)
        XCTAssertEqual(trainer.unpack(packed, into: svae, kept).flattenedParameters, flat)
        XCTAssertEqual(trainer.weightedMean([[1, 2], [3, 6]], weights: [0.25, 0.75]), [2.5, 5])
        // Dense: every position travels.
        XCTAssertEqual(trainer.keptPositions(svae, masks: nil), Array(0..<svae.parameterCount))
    }

    /// FedSGD (dense gradients) with one site's gradient NaN at step 2: the mean is NaN on every
    /// rank, so all skip that step together and still agree bit for bit, with a finite model.
    /// NaN at every step stops every rank with the same error, none left waiting in a gather.
    func testNonFiniteGradientsAreSkippedOnEveryRankTogether() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var federation = FederatedConfiguration()
        federation.rounds = 2
        federation.exchange = .gradients
        let (records, failures, lines) = try fitCollecting(federation, sites: 2, directory: directory.file("skipped"), factors: [0: [2: .nan]])
        XCTAssertEqual(failures, [])
        XCTAssertEqual(records.count, 2)
        XCTAssertEqual(records[0], records[1])
        XCTAssertTrue(records[0].rounds.allSatisfy { $0.validationElbo.isFinite })
        XCTAssertEqual(lines.filter { $0.contains("the step is skipped (1 in a row)") }.count, 2, "\(lines)")
        let (model, _) = try ModelDirectory(directory.file("skipped")).load()
        XCTAssertTrue(model.flattenedParameters.allSatisfy(\.isFinite))
        // The skipped step is missing from the path: the fit differs from the plain one.
        let plain = try fit(federation, sites: 2, directory: directory.file("plain"))
        XCTAssertNotEqual(plain[0].rounds.map(\.validationElbo), records[0].rounds.map(\.validationElbo))

        let always = Dictionary(uniqueKeysWithValues: (1...200).map { ($0, Float.nan) })
        federation.rounds = 5  // at least 10 steps
        let (_, hopeless, _) = try fitCollecting(federation, sites: 2, directory: directory.file("hopeless"), factors: [1: always])
        XCTAssertEqual(hopeless.count, 2, "\(hopeless)")
        XCTAssertTrue(hopeless.allSatisfy { $0.contains("not finite at 10 steps in a row on site 1") }, "\(hopeless)")
    }

    /// FedAvg (exchanged weights): a site whose every local gradient is NaN stops its local
    /// training after 10 skipped steps and sends NaN weights, so every rank stops with an error
    /// naming that site; one NaN step on one site is skipped and the sites still agree.
    func testFedAvgStopsEveryRankWhenOneSiteCannotTrain() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var federation = FederatedConfiguration()
        federation.rounds = 2
        let (records, failures, lines) = try fitCollecting(federation, sites: 2, directory: directory.file("skipped"), factors: [1: [1: .nan]])
        XCTAssertEqual(failures, [])
        XCTAssertEqual(records.count, 2)
        XCTAssertEqual(records[0], records[1])
        XCTAssertEqual(lines.filter { $0.contains("site 1, round 1: the gradient is not finite") }.count, 1, "\(lines)")

        let always = Dictionary(uniqueKeysWithValues: (1...200).map { ($0, Float.nan) })
        federation.rounds = 5  // at least 10 steps
        let (_, hopeless, _) = try fitCollecting(federation, sites: 2, directory: directory.file("hopeless"), factors: [1: always])
        XCTAssertEqual(hopeless.count, 2, "\(hopeless)")
        XCTAssertTrue(hopeless.allSatisfy { $0.contains("not finite at 10 steps in a row on site 1") }, "\(hopeless)")
    }
}
