import Core
import Foundation
import Model
import Simulation
import LinearAlgebra
import TestSupport
@testable import RecoveryBenchmark
import XCTest

final class WellsInitialisationTests: XCTestCase {
    /// The initialisation's convolution is the model's own (`SVAE.haemodynamic`), first-state
    /// padding included.
    func testConvolutionIsTheModels() {
        let kernel = [0.1, 0.5, 0.3, 0.1]
        var configuration = SVAEConfiguration(observations: 3)
        configuration.latent = 2
        configuration.observationKernel = kernel
        let model = SVAE<Float>(configuration: configuration)
        let path = (0..<9).map { t in [sin(Double(t)), Double(t * t) / 10 - 1] }
        let expected = model.haemodynamic(Tensor<Double>(shape: [1, 9, 2], scalars: path.flatMap { $0 })).scalars
        let convolved = WellsInitialisation.convolve(path, kernel: kernel).flatMap { $0 }
        XCTAssertEqual(convolved.count, expected.count)
        for (a, b) in zip(convolved, expected) { XCTAssertEqual(a, b, accuracy: 1e-12) }
    }

    /// With a kernel that weights lag 0, H is invertible and a vanishing penalty returns the path.
    func testDeconvolutionInvertsTheConvolution() throws {
        let kernel = [0.4, 0.35, 0.25]
        let path = (0..<30).map { t in [cos(0.3 * Double(t)), t < 15 ? 1.0 : -1.0] }
        let recovered = try WellsInitialisation.deconvolve(WellsInitialisation.convolve(path, kernel: kernel), kernel: kernel, smoothing: 1e-10)
        for (a, b) in zip(recovered.flatMap { $0 }, path.flatMap { $0 }) { XCTAssertEqual(a, b, accuracy: 1e-5) }
    }

    /// With a penalty, the path is the minimiser of |H z - s|^2 + lambda |D z|^2: every
    /// coordinate perturbation raises the objective, by the curvature alone (no first-order part).
    func testDeconvolutionMinimisesThePenalisedMisfit() throws {
        let kernel = [0, 0.2, 0.5, 0.3]  // no lag-0 weight, as the Glover kernel at a 2 s TR
        let scores = (0..<20).map { t in [sin(0.5 * Double(t)) + (t % 3 == 0 ? 0.3 : 0)] }
        let lambda = 0.7
        let z = try WellsInitialisation.deconvolve(scores, kernel: kernel, smoothing: lambda)
        func objective(_ path: [[Double]]) -> Double {
            let fitted = WellsInitialisation.convolve(path, kernel: kernel)
            var value = zip(fitted, scores).reduce(0) { $0 + ($1.0[0] - $1.1[0]) * ($1.0[0] - $1.1[0]) }
            for t in 0..<(path.count - 1) { value += lambda * (path[t + 1][0] - path[t][0]) * (path[t + 1][0] - path[t][0]) }
            return value
        }
        let best = objective(z)
        let step = 1e-3
        for t in [0, 7, 19] {
            var up = z, down = z
            up[t][0] += step
            down[t][0] -= step
            let (a, b) = (objective(up) - best, objective(down) - best)
            XCTAssertGreaterThan(a, 0)
            XCTAssertGreaterThan(b, 0)
            // Symmetric: the first-order term (the gradient) is zero at the minimiser.
            XCTAssertEqual(a, b, accuracy: 1e-9)
        }
    }

    /// A 2-D system that three conditions move around three wells (a: A to B, b: B to C,
    /// c: C to A) and that rests in them, seen through the kernel on 6 regions: the start
    /// recovers the path, places one mixture mean at each dwell state, pretrains a field whose
    /// zeros sit at those means, and decodes the regions from the convolved path.
    func testPlacesWellsWhereThePathDwells() throws {
        let kernel = [0, 0.1, 0.3, 0.3, 0.2, 0.1]
        let conditions = ["a", "b", "c"]
        let wells: [[Double]] = [[1, 0], [-0.5, 0.87], [-0.5, -0.87]]
        let volumes = 240
        var labels: [String] = [], truth: [[Double]] = [], inputs: [[Double]] = [], well: [Int] = []
        var current = 0
        // Blocks of 4 volumes every 20; the block's condition is the current well's, and at its
        // end the state jumps to the next well.
        for t in 0..<volumes {
            let phase = t % 20
            let label = phase < 4 ? conditions[current] : "rest"
            labels.append(label)
            inputs.append(conditions.map { $0 == label ? 1 : 0 })
            if phase == 3 { current = (current + 1) % 3 }
            truth.append(wells[current])
            well.append(phase >= 10 ? current : -1)
        }
        let loadings: [[Double]] = [[1, 0.4, -0.6, 0.2, 0.8, -0.3], [0.2, -1, 0.5, 0.9, 0.1, 0.6]]
        var random = RandomSource(seed: 5)
        let bold = WellsInitialisation.convolve(truth, kernel: kernel)
        let regions = bold.map { h in (0..<6).map { f in h[0] * loadings[0][f] + h[1] * loadings[1][f] + 0.02 * random.normal() } }
        var configuration = SVAEConfiguration(observations: 6)
        configuration.latent = 2
        configuration.hidden = 16
        configuration.observationKernel = kernel
        configuration.externalInputs = conditions
        configuration.inference = .initial
        // Both placements: the mixture's means, and the path's means at rest 12 s (6 volumes)
        // after each condition's blocks (there the state sits in the well that block led to).
        for settle in [nil, 12.0] {
        var options = WellsInitialisation.Options(components: 3)
        options.iterations = 1500
        options.smoothing = 0.1
        options.restSettle = settle
        let start = try WellsInitialisation(configuration: configuration, regions: [regions], labels: [labels], inputs: [inputs],
                                            conditions: conditions, repetitionTime: 2, options: options, seed: 3)
        XCTAssertEqual(start.paths.count, 1)
        let path = start.paths[0]
        XCTAssertGreaterThan(Recovery.affineR2(recovered: path, truth: truth), 0.9)
        XCTAssertGreaterThan(start.fieldFitR2, 0.9)
        XCTAssertEqual(start.mixture.count, 3)

        // The path's settled state in each well, and the distance between wells there.
        let centres = (0..<3).map { j -> [Double] in
            let rows = path.indices.filter { well[$0] == j }.map { path[$0] }
            return (0..<2).map { d in rows.reduce(0) { $0 + $1[d] } / Double(rows.count) }
        }
        func distance(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }.squareRoot() }
        let separation = distance(centres[0], centres[1])
        // One mixture mean next to each centre (a bijection: the nearest centres are distinct).
        let nearest = start.mixture.means.map { mean in (0..<3).min { distance(mean, centres[$0]) < distance(mean, centres[$1]) } ?? -1 }
        XCTAssertEqual(Set(nearest), [0, 1, 2])
        for (mean, j) in zip(start.mixture.means, nearest) { XCTAssertLessThan(distance(mean, centres[j]), 0.15 * separation) }

        // The pretrained field's zeros: small at the means next to the starting flow one
        // separation away (alpha TR separation).
        let field = try XCTUnwrap(start.model.dynamics.node?.field)
        let atMeans = field(0, Tensor<Float>(shape: [3, 2], scalars: start.mixture.means.flatMap { $0 }.map(Float.init))).scalars
        let flowScale = options.rate * 2 * separation
        for value in atMeans { XCTAssertLessThan(abs(Double(value)), 0.1 * flowScale) }

        // The decoder reads the regions from the convolved path, its noise variances small.
        let linear = try XCTUnwrap(start.model.decoder.linear)
        let h = WellsInitialisation.convolve(path, kernel: kernel)
        let fitted = linear(Tensor<Float>(shape: [volumes, 2], scalars: h.flatMap { $0 }.map(Float.init))).scalars.map(Double.init)
        let rows = stride(from: 0, to: fitted.count, by: 6).map { Array(fitted[$0..<($0 + 6)]) }
        var residual = 0.0, total = 0.0
        for (a, b) in zip(rows, regions) { for f in 0..<6 { residual += (a[f] - b[f]) * (a[f] - b[f]); total += b[f] * b[f] } }
        XCTAssertLessThan(residual / total, 0.05)
        XCTAssertTrue(start.model.decoder.logVariance.scalars.allSatisfy { $0 < Float(Foundation.log(0.05)) })
        if settle != nil {
            // One well per condition, in the conditions' order: condition a's blocks lead to well 1.
            XCTAssertEqual(nearest, [1, 2, 0])
            XCTAssertEqual(start.mixture.covariances[0], start.mixture.covariances[2], "one covariance for all wells")
        }
        }
    }

    /// Rest volumes count only once the field has held the state `settle` seconds.
    func testSettledRestMarksTheVolumesTheFieldHolds() {
        let labels = ["rest", "a", "a", "rest", "rest", "rest", "rest", "b", "rest", "rest", "x"]
        let marks = WellsInitialisation.settledRest(labels: labels, conditions: ["a", "b"], repetitionTime: 2, settle: 4)
        // Before the first block nil; 2 s after a block nil, from 4 s on the block's condition;
        // a label outside the conditions is rest.
        XCTAssertEqual(marks, [nil, nil, nil, nil, 0, 0, 0, nil, nil, 1, 1])
        XCTAssertEqual(WellsInitialisation.settledRest(labels: labels, conditions: ["a", "b"], repetitionTime: 2, settle: 0.5),
                       [nil, nil, nil, 0, 0, 0, 0, nil, 1, 1, 1])
    }

    /// The wells at rest are the settled volumes' means per condition; weights and the shared
    /// covariance come from every state's nearest well.
    func testRestWellsAreTheSettledMeans() throws {
        let path: [[Double]] = [[0, 0], [1, 1], [3, 1], [9, 9], [10, 11], [11, 10], [10, 10]]
        let settled: [Int?] = [nil, 0, 0, nil, 2, 2, nil]
        let mixture = try WellsInitialisation.restWells(paths: [path], settled: [settled], conditions: 3)
        XCTAssertEqual(mixture.means, [[2, 1], [10.5, 10.5]], "condition 1 never settled: no well")
        // Nearest wells: the first three states to [2, 1], the rest to [10.5, 10.5].
        XCTAssertEqual(mixture.weights[0], 4.0 / 9, accuracy: 1e-12)
        let deviations: [[Double]] = [[-2, -1], [-1, 0], [1, 0], [-1.5, -1.5], [-0.5, 0.5], [0.5, -0.5], [-0.5, -0.5]]
        for a in 0..<2 {
            for b in 0..<2 {
                let expected = deviations.reduce(0) { $0 + $1[a] * $1[b] } / 7 + (a == b ? 1e-6 : 0)
                XCTAssertEqual(mixture.covariances[0][a * 2 + b], expected, accuracy: 1e-12)
                XCTAssertEqual(mixture.covariances[1][a * 2 + b], expected, accuracy: 1e-12)
            }
        }
        XCTAssertThrowsError(try WellsInitialisation.restWells(paths: [path], settled: [[nil, 0, 0, nil, nil, nil, nil]], conditions: 3))
    }

    func testRefusesAModelWithoutAnObservationKernel() {
        var configuration = SVAEConfiguration(observations: 2)
        configuration.latent = 1
        configuration.externalInputs = ["a"]
        XCTAssertThrowsError(try WellsInitialisation(configuration: configuration, regions: [[[1, 2], [2, 1]]], labels: [["a", "rest"]],
                                                     inputs: [[[1], [0]]], conditions: ["a"], repetitionTime: 2,
                                                     options: .init(), seed: 1))
    }

    func testVariantSettingsChooseTheStart() throws {
        let wells = try XCTUnwrap(ModelVariant.named("node-wells"))
        XCTAssertEqual(wells.wells?.components, 8)
        XCTAssertEqual(wells.wells?.smoothing, 0.3)
        XCTAssertEqual(wells.configurations(observations: 5, latent: 2, seed: 1, epochs: 30, repetitionTime: 2).1.epochs, 300)
        XCTAssertEqual(try XCTUnwrap(ModelVariant.named("node-wells+wells=6")).wells?.smoothing, 0.3)
        let four = try XCTUnwrap(ModelVariant.named("node-wells+wells=4+wells-rate=0.5+wells-smoothing=2"))
        XCTAssertEqual(four.wells?.components, 4)
        XCTAssertEqual(four.wells?.rate, 0.5)
        XCTAssertEqual(four.wells?.smoothing, 2)
        XCTAssertNil(try XCTUnwrap(ModelVariant.named("node-wells+wells=0")).wells)
        XCTAssertEqual(try XCTUnwrap(ModelVariant.named("node-hrf+wells=3")).wells?.components, 3)
        XCTAssertNil(ModelVariant.named("node-hrf+wells-rate=2"), "a rate without wells is a mistake")
        XCTAssertNil(ModelVariant.named("node-wells+wells=-1"))
        let soft = try XCTUnwrap(ModelVariant.named("node-wells-soft"))
        XCTAssertEqual(soft.wells?.expansionLimit, 1)
        XCTAssertEqual(soft.wells?.components, 8)
        XCTAssertNil(wells.wells?.expansionLimit, "the recorded variant keeps its sharp start")
        let tempered = try XCTUnwrap(ModelVariant.named("node-wells+wells-temperature=2.5+wells-expansion=0.5"))
        XCTAssertEqual(tempered.wells?.temperature, 2.5)
        XCTAssertEqual(tempered.wells?.expansionLimit, 0.5)
        XCTAssertNil(try XCTUnwrap(ModelVariant.named("node-wells-soft+wells-expansion=0")).wells?.expansionLimit)
        XCTAssertNil(ModelVariant.named("node-wells+wells-temperature=0"))
        let rest = try XCTUnwrap(ModelVariant.named("node-wells-soft+wells-rest=6+map=0.1"))
        XCTAssertEqual(rest.wells?.restSettle, 6)
        XCTAssertEqual(rest.wells?.expansionLimit, 1, "the rest placement keeps the base's temperature rule")
        XCTAssertNil(soft.wells?.restSettle, "the recorded variants place the wells by the mixture")
        XCTAssertNil(try XCTUnwrap(ModelVariant.named("node-wells+wells-rest=0")).wells?.restSettle)
        XCTAssertNil(ModelVariant.named("node-hrf+wells-rest=6"), "rest placement without wells is a mistake")
        let mapped = try XCTUnwrap(ModelVariant.named("node-wells+map=0.05:0.2"))
        XCTAssertEqual(mapped.mapTransitionSDs, [0.05, 0.2])
        XCTAssertEqual(mapped.wells?.components, 8, "the MAP read-out keeps the base's start")
        XCTAssertEqual(ModelVariant.mapMethodName(mapped.name, transitionSD: 0.2), "node-wells+map=0.2")
        XCTAssertTrue(wells.mapTransitionSDs.isEmpty)
        XCTAssertNil(ModelVariant.named("node-wells+map=0"))
        XCTAssertNil(ModelVariant.named("node-wells+map=0.1:x"))
        let free = try XCTUnwrap(ModelVariant.named("node-wells-soft+map=0.1+free=0.3:1"))
        XCTAssertEqual(free.mapTransitionSDs, [0.1])
        XCTAssertEqual(free.freeTransitionSDs, [0.3, 1])
        XCTAssertEqual(free.wells?.expansionLimit, 1, "the read-outs keep the base's start")
        XCTAssertEqual(ModelVariant.freeMethodName(free.name, transitionSD: 0.3), "node-wells-soft+free=0.3")
        XCTAssertEqual(ModelVariant.mapMethodName(free.name, transitionSD: 0.1), "node-wells-soft+map=0.1")
        XCTAssertNil(ModelVariant.named("node-wells+free=-1"))
        let structured = try XCTUnwrap(ModelVariant.named("node-wells-soft+free=0.3+lowrank=2:5"))
        XCTAssertEqual(structured.lowRanks, [2, 5])
        XCTAssertEqual(ModelVariant.freeMethodName(structured.name, transitionSD: 0.3), "node-wells-soft+free=0.3")
        XCTAssertEqual(ModelVariant.freeMethodName(structured.name, transitionSD: 0.3, rank: 5), "node-wells-soft+free=0.3+lowrank=5")
        XCTAssertNil(ModelVariant.named("node-wells-soft+lowrank=2"), "structured noise is a task-free read-out's")
        XCTAssertNil(ModelVariant.named("node-wells-soft+free=0.3+lowrank=0"))
        // A single read-out value names the same method as the posterior means: those move aside.
        XCTAssertEqual(try XCTUnwrap(ModelVariant.named("node-wells-soft+map=0.1")).posteriorMethodName, "node-wells-soft+map=0.1+posterior")
        XCTAssertEqual(try XCTUnwrap(ModelVariant.named("node-wells-soft+free=0.3")).posteriorMethodName, "node-wells-soft+free=0.3+posterior")
        XCTAssertEqual(mapped.posteriorMethodName, mapped.name)
        XCTAssertEqual(free.posteriorMethodName, free.name)
    }

    /// Three wells in 2-D, fitted to points around them.
    private func threeWells() throws -> GaussianMixture {
        let centres: [[Double]] = [[1, 0], [-0.5, 0.9], [-0.6, -0.8]]
        var random = RandomSource(seed: 11)
        let points = (0..<300).map { i in centres[i % 3].map { $0 + 0.25 * random.normal() } }
        var generator = SplitMix64(state: 4)
        return try GaussianMixture(fitting: points, components: 3, using: &generator)
    }

    /// The analytic Jacobian of the flow toward the wells matches central differences of the
    /// flow itself, f0(x) = -alpha (x - sum_j r_j(x) mu_j), at temperatures 1 and 2.5.
    func testFlowJacobianMatchesCentralDifferences() throws {
        let mixture = try threeWells()
        let alpha = 0.7
        func flow(_ x: [Double], _ temperature: Double) -> [Double] {
            let r = mixture.responsibilities([x], temperature: temperature)[0]
            return (0..<2).map { d in -alpha * (x[d] - zip(r, mixture.means).reduce(0) { $0 + $1.0 * $1.1[d] }) }
        }
        for temperature in [1.0, 2.5] {
            for x in [[0.2, 0.3], [0.25, 0.45], [-0.55, 0.05], [1.1, -0.2]] {
                let jacobian = WellsInitialisation.flowJacobian(of: mixture, rate: alpha, temperature: temperature, at: x)
                let h = 1e-6
                for b in 0..<2 {
                    var up = x, down = x
                    up[b] += h
                    down[b] -= h
                    let (fu, fd) = (flow(up, temperature), flow(down, temperature))
                    for a in 0..<2 { XCTAssertEqual(jacobian[a * 2 + b], (fu[a] - fd[a]) / (2 * h), accuracy: 1e-6) }
                }
            }
        }
    }

    /// One component: J = -alpha I everywhere, so the flow only contracts (expansion -alpha).
    /// Three: the boundaries between wells expand, and a higher temperature expands less.
    func testLargestExpansionFallsWithTemperature() throws {
        var generator = SplitMix64(state: 2)
        let points = (0..<50).map { i in [sin(Double(i)), cos(Double(3 * i))] }
        let single = try GaussianMixture(fitting: points, components: 1, using: &generator)
        XCTAssertEqual(try WellsInitialisation.largestExpansion(of: single, rate: 0.7, temperature: 1, at: points), -0.7, accuracy: 1e-12)
        let mixture = try threeWells()
        var grid: [[Double]] = []
        for i in 0..<21 {
            for j in 0..<21 { grid.append([-1.5 + 0.15 * Double(i), -1.5 + 0.15 * Double(j)]) }
        }
        let sharp = try WellsInitialisation.largestExpansion(of: mixture, rate: 0.7, temperature: 1, at: grid)
        let soft = try WellsInitialisation.largestExpansion(of: mixture, rate: 0.7, temperature: 4, at: grid)
        XCTAssertGreaterThan(sharp, 0.7, "sharp boundaries separate states faster than the flow contracts them")
        XCTAssertLessThan(soft, sharp)
    }
}
