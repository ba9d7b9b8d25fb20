import Core
import Dynamics
import Preprocessing
import Simulation
import XCTest

@testable import RecoveryBenchmark

final class RolloutFitTests: XCTestCase {
    /// Runs simulated from the fit's own model class: the wells f(x) = x - x^3 in two variables,
    /// two conditions pushing between corners, Euler on 4 points per TR (1 s), the Glover
    /// convolution (zeros before the run), 10 regions with Gaussian noise. `inputs` on the grid.
    struct Synthetic {
        var regions: [[[Double]]] = [], inputs: [[[Double]]] = [], neural: [[[Double]]] = [], bold: [[[Double]]] = []
        let tr = 1.0, substeps = 4

        init(runs: Int, volumes: Int, seed: UInt64) {
            var random = RandomSource(seed: seed)
            let gains = [[2.5, 2.5], [-2.5, 0.0]]
            let loading = (0..<2).map { _ in (0..<10).map { _ in random.normal() } }
            let kernel = HemodynamicResponse.glover.kernel(repetitionTime: tr, oversampling: substeps)
            let dt = tr / Double(substeps)
            for run in 0..<runs {
                let shift = 5 * run
                let u = (0..<volumes).map { t -> [Double] in
                    let blockA = (10 + shift..<18 + shift).contains(t) || (70 + shift..<78 + shift).contains(t)
                    let blockB = (40 + shift..<48 + shift).contains(t) || (100..<108).contains(t)
                    return [blockA ? 1 : 0, blockB ? 1 : 0]
                }
                var x = [-1.0, -1.0]
                var grid: [[Double]] = []
                for n in 0..<(volumes * substeps) {
                    grid.append(x)
                    let drive = u[n / substeps]
                    for d in 0..<2 { x[d] += dt * (x[d] - x[d] * x[d] * x[d] + drive[0] * gains[0][d] + drive[1] * gains[1][d]) }
                }
                let h = (0..<volumes).map { t -> [Double] in
                    var value = [0.0, 0.0]
                    for (j, w) in kernel.enumerated() where t * substeps >= j {
                        let s = grid[t * substeps - j]; value[0] += w * s[0]; value[1] += w * s[1]
                    }
                    return value
                }
                inputs.append(RolloutFit.heldInputs(u, substeps: substeps))
                neural.append(stride(from: 0, to: grid.count, by: substeps).map { grid[$0] })
                bold.append(h)
                regions.append(h.map { b in (0..<10).map { f in loading[0][f] * b[0] + loading[1][f] * b[1] + 0.3 + 0.05 * random.normal() } })
            }
        }
    }

    func options(iterations: Int, alternations: Int) -> RolloutFit.Options {
        var options = RolloutFit.Options()
        options.components = [4]
        options.iterations = iterations
        options.alternations = alternations
        options.refitIterations = iterations
        return options
    }

    /// The forward-sensitivity Jacobian of the whitened residuals against central differences,
    /// for a field, a gain and an initial-state column.
    func testResidualJacobianMatchesCentralDifferences() throws {
        let data = Synthetic(runs: 2, volumes: 60, seed: 3)
        let noisyTargets = data.bold
        let fit = try RolloutFit(regions: data.regions, inputs: data.inputs, targets: noisyTargets, repetitionTime: data.tr,
                                 options: options(iterations: 0, alternations: 0), seed: 1)
        var random = RandomSource(seed: 5)
        var field = fit.field
        field.coefficients = field.coefficients.map { $0 + 0.05 * random.normal() }
        let gains = fit.gains.map { $0 + 0.1 * random.normal() }
        let x0 = [0.2, -0.4]
        let statistic = fit.observation.statistic(data.regions[0])
        let (residuals, jacobian, columns) = fit.residualJacobian(field: field, gains: gains, x0: x0, inputs: data.inputs[0],
                                                                   statistic: statistic, includeField: true)
        XCTAssertEqual(columns, (field.termCount + 2) * 2 + 2)
        XCTAssertEqual(residuals.count, 60 * 2)
        let m = field.termCount
        for column in [3, 2 * m - 1, m * 2 + 1, m * 2 + 3, columns - 2, columns - 1] {
            let epsilon = 1e-6
            func residualsAt(_ sign: Double) -> [Double] {
                var f = field, g = gains, start = x0
                if column < m * 2 { f.coefficients[column] += sign * epsilon } else if column < (m + 2) * 2 { g[column - m * 2] += sign * epsilon } else { start[column - (m + 2) * 2] += sign * epsilon }
                return fit.residualJacobian(field: f, gains: g, x0: start, inputs: data.inputs[0], statistic: statistic, includeField: true).residuals
            }
            let (plus, minus) = (residualsAt(1), residualsAt(-1))
            var largest = 0.0, error = 0.0
            for row in residuals.indices {
                let numeric = (plus[row] - minus[row]) / (2 * epsilon)
                largest = max(largest, abs(numeric))
                error = max(error, abs(numeric - jacobian[row * columns + column]))
            }
            XCTAssertGreaterThan(largest, 1e-4, "column \(column) moves the residuals")
            XCTAssertLessThan(error, 1e-5 * max(1, largest), "column \(column)")
        }
    }

    /// The field-free path is the minimiser of its quadratic objective: the objective's gradient,
    /// computed here independently, vanishes there.
    func testRandomWalkPathIsTheMinimiser() throws {
        var random = RandomSource(seed: 11)
        let (t, s, k) = (12, 2, 2)
        let statistic = (0..<t).map { _ in (0..<k).map { _ in random.normal() } }
        let metric = [2.0, 0.6, 0.6, 1.0]
        let kernel = [0.1, 0.5, 0.3, 0.1]
        let (dt, sigma) = (0.5, 0.4)
        let path = try RolloutFit.randomWalkPath(statistic, metric: metric, kernel: kernel, substeps: s, step: dt, diffusion: sigma)
        XCTAssertEqual(path.count, t * s)
        var gradient = [[Double]](repeating: [0, 0], count: t * s)
        for row in 0..<t {
            var h = [0.0, 0.0]
            for (j, w) in kernel.enumerated() where row * s >= j { for d in 0..<k { h[d] += w * path[row * s - j][d] } }
            let e = [h[0] - statistic[row][0], h[1] - statistic[row][1]]
            let me = [metric[0] * e[0] + metric[1] * e[1], metric[2] * e[0] + metric[3] * e[1]]
            for (j, w) in kernel.enumerated() where row * s >= j { for d in 0..<k { gradient[row * s - j][d] += w * me[d] } }
        }
        let weight = 1 / (sigma * sigma * dt)
        for n in 0..<(t * s - 1) {
            for d in 0..<k {
                let difference = path[n + 1][d] - path[n][d]
                gradient[n + 1][d] += weight * difference
                gradient[n][d] -= weight * difference
            }
        }
        let largest = gradient.flatMap { $0 }.map(abs).max() ?? 1
        XCTAssertLessThan(largest, 1e-7)
        XCTAssertGreaterThan(path.flatMap { $0 }.map(abs).max() ?? 0, 0.1, "the path follows the statistic")
    }

    /// On data from its own model class, the fit recovers the states (affine R^2 against the
    /// neural truth, training runs and a run it never saw) and the visited wells.
    func testRecoversItsOwnClass() throws {
        let data = Synthetic(runs: 4, volumes: 120, seed: 21)
        var random = RandomSource(seed: 2)
        let targets = data.bold.map { run in run.map { b in b.map { $0 + 0.1 * random.normal() } } }
        let training = 0..<3
        let fit = try RolloutFit(regions: Array(data.regions[training]), inputs: Array(data.inputs[training]), targets: Array(targets[training]),
                                 repetitionTime: data.tr, options: options(iterations: 60, alternations: 1), seed: 1)
        XCTAssertEqual(fit.stages.count, 2)
        XCTAssertLessThan(fit.stages[0].misfit, fit.stages[0].misfitStart)
        let paths = try fit.paths(regions: data.regions, inputs: data.inputs)
        let map = try XCTUnwrap(Recovery.affineMap(recovered: paths[training].flatMap { $0 }, truth: data.neural[training].flatMap { $0 }))
        func r2(_ runs: Range<Int>) -> Double {
            let predicted = paths[runs].flatMap { $0 }.map { Recovery.apply(map, to: $0) }
            let truth = data.neural[runs].flatMap { $0 }
            let mean = (0..<2).map { d in truth.reduce(0) { $0 + $1[d] } / Double(truth.count) }
            var residual = 0.0, total = 0.0
            for (p, y) in zip(predicted, truth) { for d in 0..<2 { residual += (p[d] - y[d]) * (p[d] - y[d]); total += (y[d] - mean[d]) * (y[d] - mean[d]) } }
            return 1 - residual / total
        }
        XCTAssertGreaterThan(r2(0..<3), 0.97)
        XCTAssertGreaterThan(r2(3..<4), 0.95)
    }

    /// Events on the grid: on from the first grid time at or after the onset until before its end.
    func testGridInputs() {
        let events = [Event(onset: 1.2, duration: 1.2, condition: "b"), Event(onset: 0, duration: 0.5, condition: "a"),
                      Event(onset: 0, duration: 3, condition: "unknown")]
        // TR 1 s, 2 substeps: grid times 0, 0.5, ..., 2.5.
        let inputs = RolloutFit.gridInputs(events: events, conditions: ["a", "b"], volumes: 3, repetitionTime: 1, substeps: 2)
        XCTAssertEqual(inputs.map { $0[0] }, [1, 0, 0, 0, 0, 0])
        XCTAssertEqual(inputs.map { $0[1] }, [0, 0, 0, 1, 1, 0])  // 1.5 and 2.0 lie in [1.2, 2.4), 2.5 does not
        XCTAssertEqual(RolloutFit.heldInputs([[1, 0], [0, 2]], substeps: 2), [[1, 0], [1, 0], [0, 2], [0, 2]])
    }

    /// Levenberg-Marquardt reaches Rosenbrock's minimum (1, 1) from (-1.2, 1), residuals
    /// (10 (y - x^2), 1 - x), under either damping rule.
    func testLevenbergMarquardtSolvesRosenbrock() throws {
        func residuals(_ v: [Double]) -> [Double] { [10 * (v[1] - v[0] * v[0]), 1 - v[0]] }
        let cost = { (v: [Double]) in residuals(v).reduce(0) { $0 + $1 * $1 } / 2 }
        let normal = { (v: [Double]) -> (Double, [Double], [Double]) in
            let r = residuals(v), j = [-20 * v[0], 10, -1, 0]
            let a = [j[0] * j[0] + j[2] * j[2], j[0] * j[1] + j[2] * j[3], j[0] * j[1] + j[2] * j[3], j[1] * j[1] + j[3] * j[3]]
            return (cost(v), a, [j[0] * r[0] + j[2] * r[1], j[1] * r[0] + j[3] * r[1]])
        }
        for damping in [1e10, 0] {
            var v = [-1.2, 1.0]
            let (_, start, end) = try RolloutFit.levenbergMarquardt(&v, iterations: 200, largestDamping: damping, cost: cost, normal: normal)
            XCTAssertEqual(start, 12.1, accuracy: 1e-12)
            XCTAssertLessThan(end, 1e-16)
            XCTAssertEqual(v[0], 1, accuracy: 1e-6)
            XCTAssertEqual(v[1], 1, accuracy: 1e-6)
        }
    }

    /// Benchmark method names: defaults, the fourteenth round, settings after it, and errors.
    func testSpecification() throws {
        XCTAssertNil(try RolloutFit.Options(specification: "node-wells"))
        let plain = try XCTUnwrap(RolloutFit.Options(specification: "rollout-wells"))
        XCTAssertEqual(plain, RolloutFit.Options())
        XCTAssertEqual(plain.padding, .firstState)
        XCTAssertEqual(plain.components, [4, 6, 8])
        let round = try XCTUnwrap(RolloutFit.Options(specification: "rollout-wells+round=14+components=4:6"))
        XCTAssertEqual(round.components, [4, 6])
        XCTAssertEqual(round.padding, .firstState)
        XCTAssertFalse(round.gridInputs)
        XCTAssertFalse(round.fitsValidationRuns)
        XCTAssertEqual(round.largestDamping, 0)
        let mixed = try XCTUnwrap(RolloutFit.Options(specification: "rollout-wells+padding=zeros+damping=100+inputs=held+runs=training"))
        XCTAssertEqual([mixed.largestDamping], [100])
        XCTAssertEqual(mixed.padding, .zeros)
        XCTAssertFalse(mixed.gridInputs)
        XCTAssertFalse(mixed.fitsValidationRuns)
        for bad in ["rollout-wells+components=4:x", "rollout-wells+padding=mirror", "rollout-wells+speed=2", "rollout-wells+damping"] {
            XCTAssertThrowsError(try RolloutFit.Options(specification: bad), bad)
        }
    }
}

extension RolloutFitTests {
    /// A constant path's convolution: the kernel's partial sums over the run's start with zeros
    /// before the run, the whole sum with the first state held.
    func testConvolutionPadding() throws {
        let data = Synthetic(runs: 2, volumes: 40, seed: 3)
        for padding in [RolloutFit.Padding.zeros, .firstState] {
            var options = options(iterations: 0, alternations: 0)
            options.padding = padding
            let fit = try RolloutFit(regions: data.regions, inputs: data.inputs, targets: data.bold, repetitionTime: data.tr, options: options, seed: 1)
            let h = fit.convolved([[Double]](repeating: [1, 2], count: 40 * data.substeps))
            let total = fit.kernel.reduce(0, +)
            for t in [0, 3, 39] {
                let expected = padding == .zeros ? fit.kernel.prefix(t * data.substeps + 1).reduce(0, +) : total
                XCTAssertEqual(h[t][0], expected, accuracy: 1e-12)
                XCTAssertEqual(h[t][1], 2 * expected, accuracy: 1e-12)
            }
            XCTAssertLessThan(fit.kernel.count, 39 * data.substeps, "the last volume sees the whole kernel")
        }
    }
}
