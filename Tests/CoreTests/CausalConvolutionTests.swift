import TestSupport
import XCTest

@testable import Core

final class CausalConvolutionTests: XCTestCase {
    /// The forward pass against the definition y_t = sum_l h_l x_max(t-l, 0), written out.
    func testMatchesTheDefinition() {
        let kernel = [0.2, 0.5, 0.4, -0.1]
        let x: [Double] = [1, 2, -1, 0.5, 3, -2, 1,   0, 1, 0, 0, -1, 2, 0.25]  // [2, 7, 1]
        let y = Tensor(shape: [2, 7, 1], scalars: x).causalConvolution(kernel: kernel).scalars
        for b in 0..<2 {
            for t in 0..<7 {
                var expected = 0.0
                for (l, h) in kernel.enumerated() { expected += h * x[b * 7 + max(t - l, 0)] }
                XCTAssertEqual(y[b * 7 + t], expected, accuracy: 1e-14, "b \(b) t \(t)")
            }
        }
        // A constant input is steady: output = input x sum(h).
        let constant = Tensor<Double>(repeating: 2, shape: [1, 5, 3]).causalConvolution(kernel: kernel)
        for value in constant.scalars { XCTAssertEqual(value, 2 * 1.0, accuracy: 1e-14) }
    }

    func testGradientMatchesCentralDifferences() {
        var random = RandomSource(seed: 3)
        let kernel = (0..<9).map { _ in random.uniform(-1, 1) }
        let x = Tensor<Double>(shape: [2, 6, 3], scalars: (0..<36).map { _ in random.normal() })
        let weights = Tensor<Double>(shape: [2, 6, 3], scalars: (0..<36).map { _ in random.normal() })
        func f(_ input: Tensor<Double>) -> Tensor<Double> { (input.causalConvolution(kernel: kernel) * weights).sum() }
        let (_, gradient) = valueAndGradient(at: x, f)
        for index in 0..<x.count {
            var plus = x, minus = x
            plus.scalars[index] += 1e-6
            minus.scalars[index] -= 1e-6
            XCTAssertEqual(gradient.scalars[index], (f(plus).scalar - f(minus).scalar) / 2e-6, accuracy: 1e-8, "element \(index)")
        }
    }
}
