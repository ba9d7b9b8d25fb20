import Analysis
import Core
import Foundation
import Simulation
import XCTest

@testable import RecoveryBenchmark

/// The field refit against an analytic system: dz/dt = -a z + b u with u held over each TR has
/// the exact one-step map z' = e^{-a} z + (1 - e^{-a}) b u / a, so the refit must find the
/// field's one fixed point at 0 with both eigenvalues -a, and B = b.
final class FieldOracleTests: XCTestCase {
    func testRefitRecoversALinearDrivenSystem() throws {
        let a = 0.5, b = [0.8, -0.4]
        var random = RandomSource(seed: 3)
        var paths: [[[Double]]] = [], inputs: [[[Double]]] = []
        // Short paths from spread starts and inputs drawn independently of the state, so that
        // neither the field nor B can stand in for the other.
        for _ in 0..<24 {
            var z = [1.5 * random.normal(), 1.5 * random.normal()]
            var path: [[Double]] = [], drive: [[Double]] = []
            for _ in 0..<20 {
                let u = random.uniform() < 0.3 ? 1.0 : 0.0
                path.append(z)
                drive.append([u])
                let decay = exp(-a)
                z = z.indices.map { decay * z[$0] + (1 - decay) * b[$0] * u / a }
            }
            paths.append(path)
            inputs.append(drive)
        }
        let (field, map, r2) = try FieldOracle.fitField(paths: paths, inputs: inputs, hidden: 16, iterations: 1500, learningRate: 1e-2, seed: 1)
        XCTAssertGreaterThan(r2, 0.99, "one-step increments")
        let weights = try XCTUnwrap(map).weight.scalars
        XCTAssertEqual(weights[0], b[0], accuracy: 0.05)
        XCTAssertEqual(weights[1], b[1], accuracy: 0.05)
        let (fixed, _) = FixedPointFinder.find({ field(0, $0) }, system: .flow, starts: [[0.5, 0.5], [-0.5, 0.3], [0.2, -0.6]])
        XCTAssertEqual(fixed.count, 1)
        XCTAssertEqual(fixed.first?.classification, "stable")
        for coordinate in fixed.first?.z ?? [] { XCTAssertEqual(coordinate, 0, accuracy: 0.05) }
        for (re, im) in fixed.first?.eigenvalues ?? [] {
            XCTAssertEqual(re, -a, accuracy: 0.05)
            XCTAssertEqual(im, 0, accuracy: 0.05)
        }
        // Without inputs there is no map to return.
        XCTAssertNil(try FieldOracle.fitField(paths: paths, inputs: nil, hidden: 4, iterations: 2, seed: 1).inputMap)
        XCTAssertThrowsError(try FieldOracle.fitField(paths: [], inputs: nil, seed: 1))
    }

    /// The degraded path scores the asked state R^2 under the affine read-out, its error has the
    /// asked lag-one correlation, and R^2 = 1 leaves the path alone.
    func testPathErrorHasTheAskedStateR2AndCorrelation() throws {
        // Two runs of a 2-D path with unequal scales (a slow sine and a faster cosine).
        let paths: [[[Double]]] = (0..<2).map { (run: Int) -> [[Double]] in
            (0..<4000).map { (t: Int) -> [Double] in
                let time = Double(t)
                return [3 * sin(time / 40 + Double(run)), 0.5 * cos(time / 15)]
            }
        }
        for (r2, phi) in [(0.8, 0.9), (0.5, 0.0), (0.95, 0.5)] {
            let degraded = FieldOracle.PathError(stateR2: r2, correlation: phi).degrade(paths, seed: 3)
            let score = Recovery.affineR2(recovered: degraded.flatMap { $0 }, truth: paths.flatMap { $0 })
            XCTAssertEqual(score, r2, accuracy: 0.03, "R^2 \(r2)")
            // Lag-one correlation of the added error, first dimension, first run.
            let error = zip(degraded[0], paths[0]).map { $0[0] - $1[0] }
            let mean = error.reduce(0, +) / Double(error.count)
            let centred = error.map { $0 - mean }
            var lagged = 0.0, squares = 0.0
            for t in centred.indices {
                squares += centred[t] * centred[t]
                if t > 0 { lagged += centred[t] * centred[t - 1] }
            }
            let lag = lagged / squares
            XCTAssertEqual(lag, phi, accuracy: 0.05, "correlation \(phi)")
        }
        XCTAssertEqual(FieldOracle.PathError(stateR2: 1, correlation: 0.9).degrade(paths, seed: 3), paths)
    }
}
