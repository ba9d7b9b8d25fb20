import Core
import LinearAlgebra
import Preprocessing
import TestSupport
import XCTest

@testable import Model

/// `SVAE.mapPath`: the most probable path under the model with transition noise.
final class MAPPathTests: XCTestCase {
    /// Several q at once share their schedules' stages and give each q's own path bit for bit.
    func testTaskFreePathsEqualOneCallPerTransitionSD() throws {
        let (model, x, _) = try linearModel()
        let sds = [0.3, 0.05, 1, 0.1]
        let together = try model.taskFreePaths(x, transitionSDs: sds, options: .init(transitionSD: 1))
        for (q, path) in zip(sds, together) {
            XCTAssertEqual(path.scalars, try model.taskFreePath(x, options: .init(transitionSD: q)).scalars, "q = \(q)")
        }
        XCTAssertNotEqual(together[0].scalars, together[1].scalars, "different q, different paths")
        XCTAssertThrowsError(try model.taskFreePaths(x, transitionSDs: [0.1, 0], options: .init(transitionSD: 0.1)))
    }

    /// A model whose every map is linear: the field's last layer starts at zero, so with a leak
    /// f(z) = -leak z and its one-step map is z -> C z + g(u); the decoder is linear and the
    /// observation a convolution. The energy is then quadratic and its minimiser solves normal
    /// equations, assembled here from the model's linear operators (probed column by column)
    /// and the variances and transition weight the energy's formula states.
    func testMatchesTheNormalEquationsOfALinearModel() throws {
        let (model, x, u) = try linearModel()
        let expected = try normalEquationSolution(model, x: x, inputs: u, q: 0.4)
        var options = SVAE<Double>.MAPPathOptions(transitionSD: 0.4)
        options.tolerance = 1e-9
        options.iterations = 2000
        let path = try model.mapPath(x, inputs: u, start: Tensor(zeros: [x.shape[0], 2]), options: options)
        for (found, value) in zip(path.scalars, expected) { XCTAssertEqual(found, value, accuracy: 1e-4) }
        XCTAssertGreaterThan(expected.map(abs).max() ?? 0, 0.05, "a non-trivial path")
    }

    /// The task-free read-out is the minimiser of the same energy without the inputs' drive,
    /// wherever its annealing starts; with the drive the minimiser is elsewhere.
    func testTheTaskFreePathIsTheMinimiserWithoutInputs() throws {
        let (model, x, u) = try linearModel()
        let q = 0.1
        let expected = try normalEquationSolution(model, x: x, inputs: nil, q: q)
        let driven = try normalEquationSolution(model, x: x, inputs: u, q: q)
        var options = SVAE<Double>.MAPPathOptions(transitionSD: q)
        options.tolerance = 1e-9
        options.iterations = 2000
        let path = try model.taskFreePath(x, options: options)
        for (found, value) in zip(path.scalars, expected) { XCTAssertEqual(found, value, accuracy: 1e-4) }
        XCTAssertGreaterThan(zip(expected, driven).map { abs($0 - $1) }.max() ?? 0, 0.05, "the inputs move the minimiser")
        XCTAssertClose(SVAE<Double>.annealingSchedule(to: 0.1), [1, 0.3, 0.1], absolute: 1e-12)
        XCTAssertClose(SVAE<Double>.annealingSchedule(to: 0.05), [1, 0.3, 0.1, 0.05], absolute: 1e-12)
        XCTAssertEqual(SVAE<Double>.annealingSchedule(to: 2), [2])
    }

    /// With structured noise the likelihood term is 1/2 sum_t e_t^T P e_t: the minimiser of a
    /// linear model solves the normal equations with that full precision, and differs from the
    /// diagonal noise's.
    func testStructuredNoiseMatchesTheNormalEquationsWithItsPrecision() throws {
        let (model, x, u) = try linearModel()
        let (t, r) = (x.shape[0], x.shape[1])
        var random = RandomSource(seed: 3)
        let residuals = (0..<(40 * r)).map { _ in random.normal() }
        let noise = try StructuredNoise(residuals: residuals, steps: 40, features: r, rank: 1)
        XCTAssertEqual(noise.precision.count, r * r)
        var options = SVAE<Double>.MAPPathOptions(transitionSD: 0.4)
        options.tolerance = 1e-9
        options.iterations = 2000
        options.noise = noise
        let expected = try normalEquationSolution(model, x: x, inputs: u, q: 0.4, precision: noise.precision)
        let diagonal = try normalEquationSolution(model, x: x, inputs: u, q: 0.4)
        let path = try model.mapPath(x, inputs: u, start: Tensor(zeros: [t, 2]), options: options)
        for (found, value) in zip(path.scalars, expected) { XCTAssertEqual(found, value, accuracy: 1e-4) }
        XCTAssertGreaterThan(zip(expected, diagonal).map { abs($0 - $1) }.max() ?? 0, 0.01, "the noise's shape moves the minimiser")
        options.noise = try StructuredNoise(residuals: Array(residuals.prefix(40 * 3)), steps: 40, features: 3, rank: 1)
        XCTAssertThrowsError(try model.mapPath(x, inputs: u, start: Tensor(zeros: [t, 2]), options: options))
    }

    /// The fitted noise of residuals drawn with a known covariance C = v v^T + d I: its precision
    /// inverts C (to sampling error), the decoder's direction is kept out of its low-rank part,
    /// and a total variance rescales C.
    func testStructuredNoiseRecoversAKnownCovariance() throws {
        let (r, steps) = (6, 20_000)
        let v: [Double] = [2, -1, 0.5, 0, 1, -1.5]
        let d = [Double](repeating: 0.8, count: 6)  // isotropic: probabilistic PCA is then exact
        var random = RandomSource(seed: 11)
        var residuals = [Double](repeating: 0, count: steps * r)
        for s in 0..<steps {
            let a = random.normal()
            for f in 0..<r { residuals[s * r + f] = a * v[f] + d[f].squareRoot() * random.normal() + 3 }
        }
        let noise = try StructuredNoise(residuals: residuals, steps: steps, features: r, rank: 1)
        // P C = I for the true C.
        for i in 0..<r {
            for j in 0..<r {
                let pc = (0..<r).reduce(0.0) { $0 + noise.precision[i * r + $1] * (v[$1] * v[j] + ($1 == j ? d[j] : 0)) }
                XCTAssertEqual(pc, i == j ? 1 : 0, accuracy: 0.05, "(P C)[\(i), \(j)]")
            }
        }
        XCTAssertEqual(noise.explainedFraction, v.map { $0 * $0 }.reduce(0, +) / (v.map { $0 * $0 }.reduce(0, +) + d.reduce(0, +)), accuracy: 0.03)
        // Excluding v's direction leaves only isotropic-ish noise: the precision is nearly diagonal.
        let excluded = try StructuredNoise(residuals: residuals, steps: steps, features: r, rank: 1, excluded: v, excludedColumns: 1)
        let offDiagonal = (0..<r).flatMap { i in (0..<r).filter { $0 != i }.map { abs(excluded.precision[i * r + $0]) } }.max() ?? 0
        XCTAssertLessThan(offDiagonal, 0.2)
        XCTAssertGreaterThan((0..<r).flatMap { i in (0..<r).filter { $0 != i }.map { abs(noise.precision[i * r + $0]) } }.max() ?? 0, 0.2)
        let scaled = try StructuredNoise(residuals: residuals, steps: steps, features: r, rank: 1, totalVariance: 1)
        // Scaling C to trace 1 scales P by the fitted trace, the true one (12.75) to sampling error.
        let ratio = scaled.precision[0] / noise.precision[0]
        XCTAssertEqual(ratio, v.map { $0 * $0 }.reduce(0, +) + d.reduce(0, +), accuracy: 0.4)
        for (a, b) in zip(scaled.precision, noise.precision) { XCTAssertEqual(a, b * ratio, accuracy: 1e-9 * max(1, abs(a))) }
        XCTAssertThrowsError(try StructuredNoise(residuals: residuals, steps: steps, features: r, rank: r))
    }

    /// `latents --task-free` goes through `LatentExport`: a run without inputs is read out as
    /// the task-free path of its standardized signals, while the read-out given the task
    /// refuses that run and names the events it needs.
    func testLatentExportReadsTheTaskFreePathWithoutInputs() throws {
        let (double, x, _) = try linearModel()
        let model: SVAE<Float> = double.converted()
        let (t, r) = (x.shape[0], x.shape[1])
        var run = RunData(timeseries: SignalMatrix(timePoints: t, columns: r, values: Array(x.scalars)), repetitionTime: 2)
        run.source = "sub-01_run-1"
        let options = SVAE<Float>.MAPPathOptions(transitionSD: 0.3)
        let exported = try LatentExport.trajectories(model: model, runs: [run], mapPath: options, taskFree: true)
        let standardized = run.standardized
        let signals = Tensor<Float>(shape: [t, r], scalars: standardized.rows.flatMap { $0.map(Float.init) })
        let expected = try model.taskFreePath(signals, options: options)
        XCTAssertEqual(exported[0].values.flatMap { $0 }, Array(expected.scalars))
        XCTAssertGreaterThan(expected.scalars.map(abs).max() ?? 0, 0.01, "a non-trivial path")
        XCTAssertThrowsError(try LatentExport.trajectories(model: model, runs: [run], mapPath: options)) {
            XCTAssertTrue("\($0)".contains("events"), "\($0)")
        }
        XCTAssertThrowsError(try LatentExport.trajectories(model: model, runs: [run], taskFree: true))
    }

    /// A model whose every map is linear: the field's last layer starts at zero, so with a leak
    /// f(z) = -leak z and its one-step map is z -> C z + g(u); the decoder is linear and the
    /// observation a convolution. Data x [9, 4] and one input channel u [9, 1].
    private func linearModel() throws -> (SVAE<Double>, Tensor<Double>, Tensor<Double>) {
        var c = SVAEConfiguration(observations: 4)
        c.latent = 2
        c.hidden = 5
        c.fieldLeak = 0.3
        c.observationKernel = [0.2, 0.5, 0.3]
        c.externalInputs = ["a"]
        c.inference = .initial
        c.seed = 5
        var model = SVAE<Double>(configuration: c)
        model.decoder.logVariance = Tensor(shape: [4], scalars: [-0.5, 0.2, 0.0, 0.7])
        let (t, r) = (9, 4)
        var random = RandomSource(seed: 17)
        let x = Tensor<Double>(shape: [t, r], scalars: (0..<(t * r)).map { _ in random.normal() })
        let u = Tensor<Double>(shape: [t, 1], scalars: (0..<t).map { $0 % 3 == 0 ? 1 : 0 })
        return (model, x, u)
    }

    /// The energy of a linear model is quadratic and its minimiser solves normal equations,
    /// assembled here from the model's linear operators (probed column by column) and the
    /// variances and transition weight the energy's formula states; `inputs` nil: no drive.
    /// `precision` (row-major [R, R]): the observation term's full precision instead of the
    /// decoder's diagonal one.
    private func normalEquationSolution(_ model: SVAE<Double>, x: Tensor<Double>, inputs u: Tensor<Double>?, q: Double,
                                        precision full: [Double]? = nil) throws -> [Double] {
        let (t, r) = (x.shape[0], x.shape[1])
        let k = model.configuration.latent
        // Linear operators: observation mean = M z + m0 (z flattened t-major), step = C z + g_t.
        let n = t * k
        func mean(_ z: [Double]) -> [Double] { Array(model.observe(Tensor(shape: [1, t, k], scalars: z)).scalars) }
        let m0 = mean([Double](repeating: 0, count: n))
        var columns: [[Double]] = []
        for j in 0..<n {
            var e = [Double](repeating: 0, count: n); e[j] = 1
            columns.append(zip(mean(e), m0).map { $0 - $1 })
        }
        let (stepOfBasis, _) = try model.dynamics.step(Tensor(shape: [k, k], scalars: [1, 0, 0, 1]), memory: nil, drive: nil)
        let cMatrix = Array(stepOfBasis.scalars)  // row j: the step of e_j
        let drive = try u.map { try XCTUnwrap(model.inputMap)($0.slice(alongAxis: 0, 0..<(t - 1))) }
        let (g, _) = try model.dynamics.step(Tensor(zeros: [t - 1, k]), memory: nil, drive: drive)
        // Linearity of the probed step (otherwise the energy is not quadratic).
        let (twice, _) = try model.dynamics.step(Tensor(shape: [1, k], scalars: [2, -1]), memory: nil, drive: nil)
        XCTAssertEqual(twice.scalars[0], 2 * cMatrix[0] - cMatrix[2], accuracy: 1e-12)

        // Residual rows J z - target with weights: observations 1 / sigma_r^2, transitions 1 / q^2.
        var rows: [[Double]] = [], targets: [Double] = [], weights: [Double] = []
        let precision = model.decoder.logVariance.scalars.map { exp(-$0) }
        for time in 0..<t {
            for feature in 0..<r {
                let index = time * r + feature
                rows.append(columns.map { $0[index] })
                targets.append(x.scalars[index] - m0[index])
                weights.append(precision[feature])
            }
        }
        for time in 1..<t {
            for d in 0..<k {
                var row = [Double](repeating: 0, count: n)
                row[time * k + d] = 1
                for j in 0..<k { row[(time - 1) * k + j] -= cMatrix[j * k + d] }
                rows.append(row)
                targets.append(g.scalars[(time - 1) * k + d])
                weights.append(1 / (q * q))
            }
        }
        var normal = [Double](repeating: 0, count: n * n), rhs = [Double](repeating: 0, count: n)
        if let full {
            // Observation rows couple within a volume through P: replace their diagonal weights.
            for time in 0..<t {
                for f in 0..<r {
                    for g in 0..<r {
                        let (a, b, p) = (rows[time * r + f], rows[time * r + g], full[f * r + g])
                        for i in 0..<n where a[i] != 0 {
                            rhs[i] += p * a[i] * targets[time * r + g]
                            for j in 0..<n { normal[i * n + j] += p * a[i] * b[j] }
                        }
                    }
                }
            }
            for index in 0..<(t * r) { weights[index] = 0 }
        }
        for (row, (target, weight)) in zip(rows, zip(targets, weights)) {
            for i in 0..<n where row[i] != 0 {
                rhs[i] += weight * row[i] * target
                for j in 0..<n { normal[i * n + j] += weight * row[i] * row[j] }
            }
        }
        try DenseLinearAlgebra.solve(&normal, &rhs, n: n)
        return rhs
    }

    /// As q shrinks the path is pulled onto the model's own rollout (the q -> 0 limit).
    func testASmallTransitionNoiseFollowsTheRollout() throws {
        var c = SVAEConfiguration(observations: 3)
        c.latent = 2
        c.hidden = 4
        c.inference = .initial
        c.seed = 9
        var model = SVAE<Double>(configuration: c)
        var random = RandomSource(seed: 4)
        let last = try XCTUnwrap(model.dynamics.node?.field.network.layers.count) - 1
        model.dynamics.node?.field.network.layers[last].weight = Tensor(shape: [2, 4], scalars: (0..<8).map { _ in 0.5 * random.normal() })
        let t = 12
        let x = Tensor<Double>(shape: [t, 3], scalars: (0..<(t * 3)).map { _ in random.normal() })
        func gapToRollout(_ q: Double) throws -> Double {
            let path = try model.mapPath(x, start: Tensor(zeros: [t, 2]), options: .init(transitionSD: q))
            let z0 = Tensor<Double>(shape: [1, 2], scalars: Array(path.scalars[0..<2]))
            let rollout = try model.dynamics.path(z0, steps: t - 1, drives: nil)
            return zip(path.scalars, rollout.scalars).map { ($0 - $1) * ($0 - $1) }.reduce(0, +).squareRoot()
        }
        let loose = try gapToRollout(1), tight = try gapToRollout(0.01)
        XCTAssertGreaterThan(loose, 0.1)
        XCTAssertLessThan(tight, loose / 20)
    }

    func testRefusesTheGRUBaseline() {
        var c = SVAEConfiguration(observations: 2)
        c.latent = 1
        c.dynamics = .rnn
        let model = SVAE<Double>(configuration: c)
        XCTAssertThrowsError(try model.mapPath(Tensor(zeros: [3, 2]), start: Tensor(zeros: [3, 1]), options: .init(transitionSD: 0.1)))
    }
}
