import Core
import Dynamics
import TestSupport
import XCTest

@testable import Analysis

final class FixedPointTests: XCTestCase {
    /// fixed_points.json as a typed report: the counts follow the classifications, joint maps
    /// say so, and the JSON reads back equal (keys as documented).
    func testFixedPointReportRoundTrip() throws {
        let report = FixedPointReport(system: "map (z, h) -> (z + W h', h'), h' = GRU(z, h)", starts: 8, counts: ["stable": 1, "unstable": 0, "saddle": 0, "marginal": 0],
                                      fixedPoints: [.init(z: [0.5, -1], q: 1e-9, eigenvalues: [[0.5, 0.2], [-0.3, 0]], classification: "stable", count: 6, memory: [0.1])],
                                      slowPoints: [])
        let data = try report.encoded()
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
        XCTAssertEqual(Set(object.keys), ["system", "starts", "counts", "fixed_points", "slow_points"])
        XCTAssertEqual(try JSONDecoder().decode(FixedPointReport.self, from: data), report)
        XCTAssertTrue(report.isMap)
        XCTAssertEqual(report.fixedPoints[0].leadingEigenvalue(isMap: true) ?? 0, (0.25 + 0.04).squareRoot(), accuracy: 1e-12)
        XCTAssertEqual(report.fixedPoints[0].leadingEigenvalue(isMap: false), 0.5)
        XCTAssertThrowsError(try FixedPointReport.read(contentsOf: "/nonexistent/fixed_points.json")) { error in
            XCTAssertTrue("\(error)".contains("fmridyn fixed-points"), "\(error)")
        }
    }

    func grid(_ values: [Double], dimension: Int) -> [[Double]] {
        var points: [[Double]] = [[]]
        for _ in 0..<dimension { points = points.flatMap { p in values.map { p + [$0] } } }
        return points
    }

    /// z' = z - z^3 per dimension: 3^d fixed points, 2^d stable, one unstable, the rest saddles.
    func testCubicSystemFindsAllNineFixedPoints() {
        let field: (Tensor<Double>) -> Tensor<Double> = { z in z - z * z * z }
        var options = FixedPointOptions()
        options.maxIterations = 300
        let starts = grid([-1.3, -0.8, -0.3, 0.2, 0.7, 1.2], dimension: 2)
        let (fixed, _) = FixedPointFinder.find(field, system: .flow, starts: starts, options: options)
        XCTAssertEqual(fixed.count, 9)
        for point in fixed {
            for value in point.z { XCTAssertEqual(min(abs(value), abs(abs(value) - 1)), 0, accuracy: 1e-9) }
            let ones = point.z.filter { abs(abs($0) - 1) < 1e-6 }.count
            XCTAssertEqual(point.classification, ones == 2 ? "stable" : (ones == 0 ? "unstable" : "saddle"), "\(point.z)")
            XCTAssertLessThan(point.q, 1e-12)
        }
        XCTAssertEqual(fixed.filter { $0.classification == "stable" }.count, 4)
        XCTAssertEqual(fixed.reduce(0) { $0 + $1.count }, 36, "every start converged somewhere")
    }

    /// z' = A (z - c): one fixed point c with A's eigenvalues.
    func testLinearSystem() {
        let a = Tensor<Double>(shape: [2, 2], scalars: [-1, 2, -2, -1])  // eigenvalues -1 +- 2i
        let c = Tensor<Double>(shape: [2], scalars: [0.5, -0.25])
        let field: (Tensor<Double>) -> Tensor<Double> = { z in (z - c).linear(weight: a, bias: nil) }
        let (fixed, _) = FixedPointFinder.find(field, system: .flow, starts: [[1, 1], [-1, 0.3], [0, 2]])
        XCTAssertEqual(fixed.count, 1)
        XCTAssertClose(fixed[0].z, [0.5, -0.25], absolute: 1e-9, relative: 0)
        XCTAssertClose(fixed[0].eigenvalues.map(\.0), [-1, -1], absolute: 1e-9, relative: 0)
        XCTAssertClose(fixed[0].eigenvalues.map { abs($0.1) }, [2, 2], absolute: 1e-9, relative: 0)
        XCTAssertEqual(fixed[0].classification, "stable")
        XCTAssertEqual(fixed[0].count, 3)
    }

    /// A Hopfield-style map z' = tanh(W z), W = 2 P P^T / 4 storing two orthogonal patterns:
    /// fixed points a p with a = tanh(2a) (a = 0.9575), stable; the origin is a saddle
    /// (eigenvalues 2, 2, 0, 0).
    func testHopfieldMapFixedPoints() {
        let patterns: [[Double]] = [[1, -1, 1, -1], [1, 1, -1, -1]]
        var w = [Double](repeating: 0, count: 16)
        for p in patterns { for i in 0..<4 { for j in 0..<4 { w[i * 4 + j] += 2 * p[i] * p[j] / 4 } } }
        let weight = Tensor<Double>(shape: [4, 4], scalars: w)
        let map: (Tensor<Double>) -> Tensor<Double> = { z in z.linear(weight: weight, bias: nil).tanh() }
        let starts = patterns.flatMap { p in [p.map { 0.8 * $0 }, p.map { -0.9 * $0 }] } + [[0.05, -0.02, 0.01, 0.03]]
        let (fixed, _) = FixedPointFinder.find(map, system: .map, starts: starts)
        for point in fixed {
            let image = map(Tensor(shape: [1, 4], scalars: point.z)).scalars
            XCTAssertClose(image, point.z, absolute: 1e-6, relative: 0)
        }
        let stable = fixed.filter { $0.classification == "stable" }
        XCTAssertEqual(stable.count, 4, "each stored pattern and its negative")
        for point in stable { XCTAssertClose(point.z.map(abs), [0.957504, 0.957504, 0.957504, 0.957504], absolute: 1e-5, relative: 0) }
        for point in stable { XCTAssertTrue(point.eigenvalues.allSatisfy { ($0.0 * $0.0 + $0.1 * $0.1).squareRoot() < 1 }) }
        XCTAssertTrue(fixed.contains { $0.z.allSatisfy { abs($0) < 1e-6 } && $0.classification == "saddle" }, "the origin")
    }
}

