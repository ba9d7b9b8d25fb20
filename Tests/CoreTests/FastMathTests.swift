import Foundation
import XCTest

@testable import Core

final class FastMathTests: XCTestCase {
    func testVectorExpSigmoidTanhAccuracy() {
        var worst = (exp: Float(0), sigmoid: Float(0), tanh: Float(0))
        var x: Float = -20
        while x < 20 {
            let lanes = SIMD8<Float>((0..<8).map { x + Float($0) * 0.0013 })
            let e = FastMath.exp(lanes), s = FastMath.sigmoid(lanes), t = FastMath.tanh(lanes)
            for lane in 0..<8 {
                let v = lanes[lane]
                worst.exp = max(worst.exp, abs(e[lane] - expf(v)) / expf(v))
                worst.sigmoid = max(worst.sigmoid, abs(s[lane] - 1 / (1 + expf(-v))))
                worst.tanh = max(worst.tanh, abs(t[lane] - tanhf(v)))
            }
            x += 0.0137
        }
        XCTAssertLessThan(worst.exp, 4e-7, "relative error of exp")
        XCTAssertLessThan(worst.sigmoid, 2e-7, "absolute error of sigmoid")
        XCTAssertLessThan(worst.tanh, 4e-7, "absolute error of tanh")
        XCTAssertEqual(FastMath.exp(SIMD8(repeating: -200))[0], expf(-87), accuracy: 1e-6 * expf(-87), "clamped, no garbage")
    }

    func testFloatGRUAgreesWithDouble() {
        var random = RandomSource(seed: 4)
        let double = GRU<Double>(inputSize: 7, hiddenSize: 20, random: &random)  // 20 = two SIMD groups + tail
        let float = GRU<Float>(weightIH: double.weightIH.converted(), weightHH: double.weightHH.converted(),
                               biasIH: double.biasIH.converted(), biasHH: double.biasHH.converted())
        let x = Tensor<Double>(shape: [3, 6, 7], scalars: (0..<126).map { _ in random.normal() })
        let reference = double(x)
        let single = float(x.converted())
        for (a, b) in zip(single.scalars, reference.scalars) { XCTAssertEqual(Double(a), b, accuracy: 2e-6) }
        let (_, gradDouble) = valueAndGradient(of: double) { $0(x).sum() }
        let (_, gradFloat) = valueAndGradient(of: float) { $0(x.converted()).sum() }
        for (a, b) in zip(gradFloat.weightHH.scalars, gradDouble.weightHH.scalars) { XCTAssertEqual(Double(a), b, accuracy: 1e-4) }
    }
}
