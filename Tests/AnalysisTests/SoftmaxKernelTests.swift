import Foundation
import XCTest

@testable import Analysis

/// The vectorised exp and log of the logistic-regression objective against libm.
final class SoftmaxKernelTests: XCTestCase {
    func testExponentialMatchesLibmToAFewUlp() {
        var values = stride(from: -745.0, through: 0, by: 0.37).map { $0 } + [-1e-300, 0, 1e-12, 0.5, 1, 3.3, 700]
        let count = values.count
        values.withUnsafeMutableBufferPointer { SoftmaxKernels.exponentiate($0.baseAddress!, count: count) }
        let inputs = stride(from: -745.0, through: 0, by: 0.37).map { $0 } + [-1e-300, 0, 1e-12, 0.5, 1, 3.3, 700]
        for (x, y) in zip(inputs, values) {
            if x < -708 {
                // Clamped: e^-708 ~ 3e-308 stands in for anything smaller (irrelevant next to 1).
                XCTAssertLessThan(y, 4e-308, "\(x)")
            } else {
                XCTAssertEqual(y, Foundation.exp(x), accuracy: 4 * Foundation.exp(x).ulp, "\(x)")
            }
        }
    }

    func testSumOfLogsMatchesLibm() {
        let values = (0..<1001).map { 1 + Double($0) * 0.019 } + [1e-300, 0.3, 7.5e10, Double.leastNormalMagnitude]
        var expected = 0.0
        for v in values { expected += Foundation.log(v) }
        let sum = values.withUnsafeBufferPointer { SoftmaxKernels.sumOfLogs($0.baseAddress!, count: values.count) }
        XCTAssertEqual(sum, expected, accuracy: 1e-12 * abs(expected))
        for v in [1.0, 1.4142135623730951, 2, 2.5, 20, 0.7] {
            let lane = SoftmaxKernels.log(SoftmaxKernels.V(repeating: v))[0]
            XCTAssertEqual(lane, Foundation.log(v), accuracy: 2 * max(abs(Foundation.log(v)).ulp, Double.ulpOfOne), "\(v)")
        }
    }
}
