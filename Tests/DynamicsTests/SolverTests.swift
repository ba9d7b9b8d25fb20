import CLinearAlgebra
import Core
import Foundation
import TestSupport
import XCTest

@testable import Dynamics

/// dz/dt = z A^T for a fixed matrix A (test field).
struct LinearField: VectorField {
    var matrix: Tensor<Double>
    var parameters: [(name: String, path: WritableKeyPath<LinearField, Tensor<Double>>)] { [("matrix", \.matrix)] }
    func callAsFunction(_ t: Double, _ z: Tensor<Double>) -> Tensor<Double> { z.linear(weight: matrix, bias: nil) }
}

/// dz/dt = z (1 - z) (logistic growth).
struct LogisticField: VectorField {
    var rate: Tensor<Double> = Tensor(shape: [1], scalars: [1])
    var parameters: [(name: String, path: WritableKeyPath<LogisticField, Tensor<Double>>)] { [("rate", \.rate)] }
    func callAsFunction(_ t: Double, _ z: Tensor<Double>) -> Tensor<Double> { z * (Tensor(1.0) - z) * rate }
}

final class SolverTests: XCTestCase {
    /// exp(A t) z0 for symmetric A from LAPACK's eigen-decomposition (dsyev).
    func matrixExponential(_ a: [Double], dimension n: Int, time t: Double, applyTo z: [Double]) -> [Double] {
        var vectors = a
        var values = [Double](repeating: 0, count: n)
        XCTAssertEqual(LAPACKE_dsyev(LAPACK_ROW_MAJOR, Int8(UInt8(ascii: "V")), Int8(UInt8(ascii: "U")), Int32(n), &vectors, Int32(n), &values), 0)
        // V diag(e^{lambda t}) V^T z
        var projected = [Double](repeating: 0, count: n)
        for k in 0..<n { for i in 0..<n { projected[k] += vectors[i * n + k] * z[i] } }
        var result = [Double](repeating: 0, count: n)
        for i in 0..<n { for k in 0..<n { result[i] += vectors[i * n + k] * Foundation.exp(values[k] * t) * projected[k] } }
        return result
    }

    func testLinearSystemAgainstMatrixExponential() throws {
        let a: [Double] = [-0.5, 0.3, 0.1, 0.3, -0.8, 0.2, 0.1, 0.2, -0.3]
        let field = LinearField(matrix: Tensor(shape: [3, 3], scalars: a))  // symmetric: z A^T = z A
        let z0 = Tensor<Double>(shape: [2, 3], scalars: [1, -0.5, 0.25, 0.3, 0.9, -1.2])
        let times = [0.0, 0.5, 1.7, 3.0]
        for (method, options, tolerance) in [(ODEMethod.dopri5, ODEOptions(), 1e-7), (.rk4, ODEOptions(stepSize: 0.01), 1e-9)] {
            let solution = try odeSolve(field, initial: z0, times: times, method: method, options: options)
            for (index, t) in times.enumerated() {
                for row in 0..<2 {
                    let expected = matrixExponential(a, dimension: 3, time: t, applyTo: Array(z0.scalars[(3 * row)..<(3 * row + 3)]))
                    XCTAssertClose(Array(solution.states[index].scalars[(3 * row)..<(3 * row + 3)]), expected, absolute: tolerance, relative: 0, "\(method) t=\(t)")
                }
            }
        }
    }

    func testLogisticGrowthClosedForm() throws {
        let z0 = Tensor<Double>(shape: [3, 1], scalars: [0.1, 0.5, 0.9])
        let times = Array(stride(from: 0.0, through: 6, by: 0.75))
        let solution = try odeSolve(LogisticField(), initial: z0, times: times, method: .dopri5)
        for (index, t) in times.enumerated() {
            let expected = z0.scalars.map { 1 / (1 + (1 / $0 - 1) * Foundation.exp(-t)) }
            XCTAssertClose(solution.states[index].scalars, expected, absolute: 1e-7, relative: 0, "t=\(t)")
        }
    }

    func testHarmonicOscillatorConservesEnergy() throws {
        // x' = v, v' = -x: energy x^2 + v^2 is constant.
        let field = LinearField(matrix: Tensor(shape: [2, 2], scalars: [0, 1, -1, 0]))
        let z0 = Tensor<Double>(shape: [1, 2], scalars: [1, 0])
        let times = Array(stride(from: 0.0, through: 20, by: 1))
        for (method, options) in [(ODEMethod.rk4, ODEOptions(stepSize: 0.05)), (.dopri5, ODEOptions())] {
            let solution = try odeSolve(field, initial: z0, times: times, method: method, options: options)
            for state in solution.states {
                XCTAssertEqual(state.scalars[0] * state.scalars[0] + state.scalars[1] * state.scalars[1], 1, accuracy: 1e-6, "\(method)")
            }
            XCTAssertEqual(solution.states.last?.scalars[0] ?? 0, Foundation.cos(20), accuracy: 1e-6)
        }
    }

    func testConvergenceOrders() throws {
        let field = LogisticField()
        let z0 = Tensor<Double>(shape: [1, 1], scalars: [0.2])
        let exact = 1 / (1 + (1 / 0.2 - 1) * Foundation.exp(-2.0))
        for (method, expectedOrder) in [(ODEMethod.euler, 1.0), (.midpoint, 2.0), (.rk4, 4.0)] {
            let steps = [0.2, 0.1, 0.05, 0.025]
            let errors = try steps.map { step in
                abs(try odeSolve(field, initial: z0, times: [0, 2], method: method, options: ODEOptions(stepSize: step)).states[1].scalar - exact)
            }
            // Least-squares slope of log error against log step.
            let x = steps.map { Foundation.log($0) }, y = errors.map { Foundation.log($0) }
            let mx = x.reduce(0, +) / 4, my = y.reduce(0, +) / 4
            let slope = zip(x, y).reduce(0) { $0 + ($1.0 - mx) * ($1.1 - my) } / x.reduce(0) { $0 + ($1 - mx) * ($1 - mx) }
            XCTAssertEqual(slope, expectedOrder, accuracy: 0.15, "\(method) order")
        }
    }

    func testDopri5AgainstTightRK4Reference() throws {
        var random = RandomSource(seed: 5)
        let field = MLPVectorField<Double>(dimension: 4, hidden: [16, 16], activation: .tanh, random: &random)
        let z0 = Tensor<Double>(shape: [3, 4], scalars: (0..<12).map { _ in random.normal() })
        let times = [0.0, 1, 2, 3, 4]
        let reference = try odeSolve(field, initial: z0, times: times, method: .rk4, options: ODEOptions(stepSize: 0.001))
        let adaptive = try odeSolve(field, initial: z0, times: times, method: .dopri5)
        for (a, b) in zip(adaptive.states, reference.states) { XCTAssertClose(a.scalars, b.scalars, absolute: 1e-6, relative: 0) }
        XCTAssertGreaterThan(adaptive.evaluations, 10)
    }

    func testFailuresAreReportedNotLooped() {
        // z' = z^2 blows up at t = 1 for z0 = 1.
        struct BlowUp: VectorField {
            var scale: Tensor<Double> = Tensor(shape: [1], scalars: [1])
            var parameters: [(name: String, path: WritableKeyPath<BlowUp, Tensor<Double>>)] { [("scale", \.scale)] }
            func callAsFunction(_ t: Double, _ z: Tensor<Double>) -> Tensor<Double> { z * z * scale }
        }
        let z0 = Tensor<Double>(shape: [1, 1], scalars: [1])
        XCTAssertThrowsError(try odeSolve(BlowUp(), initial: z0, times: [0, 2], method: .dopri5, options: ODEOptions(maxSteps: 500))) { error in
            XCTAssertTrue("\(error)".contains("rk4") || "\(error)".contains("non-finite"), "\(error)")
        }
        XCTAssertThrowsError(try odeSolve(BlowUp(), initial: z0, times: [0, 10], method: .euler, options: ODEOptions(stepSize: 0.5))) { error in
            XCTAssertTrue("\(error)".contains("non-finite"), "\(error)")
        }
        XCTAssertThrowsError(try odeSolve(BlowUp(), initial: z0, times: [1, 0], method: .rk4))
    }
}
