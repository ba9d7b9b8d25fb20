@testable import Analysis
import Core
import Model
import Simulation
import TestSupport
import XCTest

@testable import RecoveryBenchmark

final class RecoveryMetricsTests: XCTestCase {
    /// An exact affine relation scores 1 out of sample; unrelated features score about 0 or less.
    func testCrossValidatedR2() {
        var random = RandomSource(seed: 1)
        var features: [[[Double]]] = [], truth: [[[Double]]] = [], noise: [[[Double]]] = []
        for _ in 0..<4 {
            let f = (0..<50).map { _ in (0..<3).map { _ in random.normal() } }
            features.append(f)
            truth.append(f.map { [2 * $0[0] - $0[1] + 0.5, $0[2] * 3 - 1] })
            noise.append((0..<50).map { _ in (0..<3).map { _ in random.normal() } })
        }
        let groups = ["a", "b", "c", "d"]
        XCTAssertEqual(RecoveryMetrics.crossValidatedR2(features: features, truth: truth, groups: groups), 1, accuracy: 1e-10)
        XCTAssertLessThan(RecoveryMetrics.crossValidatedR2(features: noise, truth: truth, groups: groups), 0.05)
    }

    /// The vector-field error: 0 for the true field seen through the alignment, 1 for a zero
    /// field, 1/4 for half the true field; precomputed velocities score as the closure does.
    func testVectorFieldError() throws {
        let system = LatentSystem(kind: .multistable, dimension: 2, seed: 1)
        // Model coordinates are half the true ones, so a model velocity v maps to 2 v.
        let alignment = try XCTUnwrap(RecoveryMetrics.Alignment([[2, 0], [0, 2], [0, 0]]))
        let tr = 2.0
        let states = [[0.1, -0.3], [0.45, 0.2], [-0.6, 0.05], [0.3, 0.5]]
        // dz per TR in model units: (f(2 z) * TR) / 2.
        let exact = states.map { z in system.field(z.map { 2 * $0 }).map { $0 * tr / 2 } }
        func error(_ velocities: [[Double]]) -> Double {
            RecoveryMetrics.vectorFieldError(states: states, velocities: velocities, alignment: alignment, system: system, repetitionTime: tr)
        }
        XCTAssertEqual(error(exact), 0, accuracy: 1e-12)
        XCTAssertEqual(error(states.map { _ in [0, 0] }), 1, accuracy: 1e-12)
        XCTAssertEqual(error(exact.map { $0.map { $0 / 2 } }), 0.25, accuracy: 1e-12)
        let viaClosure = RecoveryMetrics.vectorFieldError(states: states, velocity: { rows in rows.map { z in system.field(z.map { 2 * $0 }).map { $0 * tr / 4 } } },
                                                          alignment: alignment, system: system, repetitionTime: tr)
        XCTAssertEqual(viaClosure, 0.25, accuracy: 1e-12)
    }

    /// Fixed points: recall, precision and classification after the alignment.
    func testFixedPointScores() throws {
        let system = LatentSystem(kind: .multistable, dimension: 2, seed: 1)
        // The alignment doubles the model's coordinates: model points at half the true corners.
        let alignment = try XCTUnwrap(RecoveryMetrics.Alignment([[2, 0], [0, 2], [0, 0]]))
        func point(_ z: [Double], _ kind: String) -> FixedPoint {
            FixedPoint(z: z, q: 0, eigenvalues: [], classification: kind, count: 1)
        }
        let found = [point([0.5, 0.5], "stable"), point([-0.5, 0.52], "stable"), point([0, 0], "unstable"),
                     point([0.5, 0], "stable"), point([3, 3], "stable")]
        let scores = RecoveryMetrics.fixedPointScores(found: found, alignment: alignment, system: system, radius: 0.25)
        XCTAssertEqual(scores.stable, 4)
        XCTAssertEqual(scores.recall ?? -1, 2.0 / 4.0, accuracy: 1e-12, "two of the four true corners")
        XCTAssertEqual(scores.precision ?? -1, 2.0 / 4.0, accuracy: 1e-12, "the saddle-located and the far point are spurious")
        // Near a true point: the two corners (stable = stable), the origin (unstable = unstable)
        // and (1, 0) which is a saddle but found stable.
        XCTAssertEqual(scores.classificationAgreement ?? -1, 3.0 / 4.0, accuracy: 1e-12)
        XCTAssertNil(scores.recallOfVisited, "no true path given")
        // A true path that dwells at (1, 1) and (-1, -1) (half its volumes each, within 0.25) and
        // passes (1, -1) once: two wells visited, one of them found.
        let path = (0..<200).map { t -> [Double] in t < 100 ? [1.1, 1] : [-1, -0.9] } + [[1, -1]]
        let visited = RecoveryMetrics.fixedPointScores(found: found, alignment: alignment, system: system, radius: 0.25, trajectories: path)
        XCTAssertEqual(visited.visited, 2)
        XCTAssertEqual(visited.recallOfVisited ?? -1, 0.5, accuracy: 1e-12)
    }

    /// A sinusoid's period and radius; the true Hopf cycle; the across-seed match and its null.
    func testOscillationAndSeedMatch() {
        let tail = (0..<400).map { t -> [Double] in
            let phase = 2 * Double.pi * Double(t) / 27.5
            return [cos(phase) + 3, sin(phase)]
        }
        let (radius, period) = RecoveryMetrics.oscillation(tail)
        XCTAssertEqual(radius, 1, accuracy: 1e-3)
        XCTAssertEqual(period ?? 0, 27.5, accuracy: 0.01)
        let truth = RecoveryMetrics.trueOscillation(LatentSystem(kind: .limitCycle, dimension: 2, seed: 1))
        XCTAssertEqual(truth.radius, 1, accuracy: 0.01)
        XCTAssertEqual(truth.period ?? 0, 20, accuracy: 0.05)
        let corners: [[Double]] = [[1, 1], [1, -1], [-1, 1], [-1, -1]]
        let shifted = corners.map { $0.map { $0 + 0.1 } }
        let match = RecoveryMetrics.seedMatch([corners, shifted], radius: 0.25, nullSamples: 200)
        XCTAssertEqual(match.matched ?? 0, 1, accuracy: 1e-12)
        // Rotations of a square about its centre match it only near multiples of 90 degrees.
        XCTAssertLessThan(match.null ?? 1, 0.5)
        // One point per seed: matched, but a rotation about itself is no null.
        let single = RecoveryMetrics.seedMatch([[[0.5, 0.5]], [[0.52, 0.5]]], radius: 0.25)
        XCTAssertEqual(single.matched ?? 0, 1, accuracy: 1e-12)
        XCTAssertNil(single.null)
    }

    /// The grid is what the docs say: 48 tuning cells, 24 held out, no cell in both.
    func testGridIsFixed() {
        XCTAssertEqual(RecoveryGrid.tuning.count, 48)
        XCTAssertEqual(RecoveryGrid.heldOut.count, 24)
        XCTAssertTrue(Set(RecoveryGrid.tuning).isDisjoint(with: Set(RecoveryGrid.heldOut.map { var c = $0; c.heldOut = false; return c })))
        XCTAssertEqual(Set(RecoveryGrid.heldOut.map(\.seed)), [11, 12, 13])
    }

    /// Variant names with overrides parse, and bad ones are refused.
    func testVariantOverrides() throws {
        XCTAssertNotNil(ModelVariant.named("node-hrf-burn+latent=8+confounds=1"))
        XCTAssertNil(ModelVariant.named("node+latent=-1"))
        XCTAssertNil(ModelVariant.named("node+colour=blue"))
        XCTAssertNil(ModelVariant.named("lfads"))
        guard let variant = ModelVariant.named("node-hrf-nuisance+hidden=16") else { return XCTFail("variant not parsed") }
        let (model, _) = variant.configurations(observations: 10, latent: 4, seed: 1, epochs: 1, repetitionTime: 0.72)
        XCTAssertEqual(model.latent, 12)
        XCTAssertEqual(model.hidden, 16)
        XCTAssertEqual(model.window, 48)
        XCTAssertEqual(model.burnIn, 16)
        XCTAssertEqual(model.encoderLead, 7)
        XCTAssertEqual(model.covariateCount, 7)
        XCTAssertEqual(model.observationKernel?.count, 44)
        let leaky = ModelVariant.named("node-hrf-driven+leak=0.5")?.configurations(observations: 10, latent: 4, seed: 1, epochs: 1, repetitionTime: 0.72).0
        XCTAssertEqual(leaky?.fieldLeak, 0.5)
        XCTAssertEqual(leaky?.predictivePosterior, true)
        XCTAssertNil(ModelVariant.named("node+leak=-1"))
        XCTAssertNil(ModelVariant.named("node+leak=inf"))
        // refit is the benchmark's second stage, not a model setting: config.json stays as without it.
        let refit = try XCTUnwrap(ModelVariant.named("node-hrf-driven+refit=1"))
        XCTAssertTrue(refit.refitsField)
        XCTAssertFalse(try XCTUnwrap(ModelVariant.named("node-hrf-driven")).refitsField)
        XCTAssertEqual(refit.configurations(observations: 10, latent: 4, seed: 1, epochs: 1, repetitionTime: 0.72).0,
                       ModelVariant.nodeHRFDriven.configurations(observations: 10, latent: 4, seed: 1, epochs: 1, repetitionTime: 0.72).0)
        XCTAssertNil(ModelVariant.named("node+refit=2"))
    }
}
