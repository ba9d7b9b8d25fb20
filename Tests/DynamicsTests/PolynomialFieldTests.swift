import Core
import XCTest

@testable import Dynamics

final class PolynomialFieldTests: XCTestCase {
    /// C(K + d, d) monomials, the constant first, each of total degree <= d, none repeated.
    func testMonomials() {
        let field = PolynomialField(dimension: 4, degree: 3)
        XCTAssertEqual(field.termCount, 35)
        XCTAssertEqual(field.exponents[0], [0, 0, 0, 0])
        XCTAssertEqual(Set(field.exponents).count, 35)
        XCTAssertTrue(field.exponents.allSatisfy { $0.reduce(0, +) <= 3 && $0.allSatisfy { $0 >= 0 } })
        XCTAssertEqual(PolynomialField(dimension: 2, degree: 2).termCount, 6)
    }

    /// The simulator's cubic wells f_i(x) = x_i - x_i^3 written in the basis: its velocity,
    /// its analytic Jacobian diag(1 - 3 x_i^2), and the tensor form agree.
    func testCubicWellsAndJacobian() throws {
        var field = PolynomialField(dimension: 2, degree: 3)
        var coefficients = [Double](repeating: 0, count: field.termCount * 2)
        for (term, exponent) in field.exponents.enumerated() {
            if exponent == [1, 0] { coefficients[term * 2 + 0] = 1 }
            if exponent == [3, 0] { coefficients[term * 2 + 0] = -1 }
            if exponent == [0, 1] { coefficients[term * 2 + 1] = 1 }
            if exponent == [0, 3] { coefficients[term * 2 + 1] = -1 }
        }
        field.coefficients = coefficients
        let x = [0.3, -1.7]
        let v = field.velocity(x)
        XCTAssertEqual(v[0], 0.3 - 0.027, accuracy: 1e-12)
        XCTAssertEqual(v[1], -1.7 + 4.913, accuracy: 1e-12)
        let j = field.jacobian(x)
        XCTAssertEqual(j[0], 1 - 3 * 0.09, accuracy: 1e-12)
        XCTAssertEqual(j[3], 1 - 3 * 2.89, accuracy: 1e-12)
        XCTAssertEqual(j[1], 0, accuracy: 1e-12)
        XCTAssertEqual(j[2], 0, accuracy: 1e-12)
        XCTAssertEqual(field.velocity([1, -1]), [0, 0])
    }

    /// A random cubic field in three variables: the Jacobian against central differences, and
    /// the tensor form (values and autodiff Jacobian) against the scalar form.
    func testJacobianAgainstDifferencesAndTensorForm() throws {
        var random = RandomSource(seed: 7)
        var field = PolynomialField(dimension: 3, degree: 3)
        field.coefficients = (0..<field.coefficients.count).map { _ in random.normal() }
        let x = [0.4, -0.8, 1.1]
        let analytic = field.jacobian(x)
        for j in 0..<3 {
            var plus = x, minus = x
            plus[j] += 1e-6
            minus[j] -= 1e-6
            let (fp, fm) = (field.velocity(plus), field.velocity(minus))
            for i in 0..<3 { XCTAssertEqual(analytic[i * 3 + j], (fp[i] - fm[i]) / 2e-6, accuracy: 1e-6) }
        }
        let points = [x, [0.1, 0.2, -0.3], [-1.5, 0.0, 0.7]]
        let tensor = field(Tensor<Double>(shape: [3, 3], scalars: points.flatMap { $0 })).scalars
        for (row, point) in points.enumerated() {
            let v = field.velocity(point)
            for d in 0..<3 { XCTAssertEqual(tensor[row * 3 + d], v[d], accuracy: 1e-12) }
        }
        let autodiff = Jacobian.evaluate(at: Tensor(shape: [1, 3], scalars: x)) { field($0) }.scalars
        for index in 0..<9 { XCTAssertEqual(autodiff[index], analytic[index], accuracy: 1e-10) }
    }
}
