import Core
import Preprocessing
import XCTest

@testable import Model

/// Standard-normal windows [batch, window, features] from `seed`, for the model tests.
func windows(_ batch: Int, _ window: Int, _ features: Int, seed: UInt64) -> Tensor<Double> {
    var random = RandomSource(seed: seed)
    return Tensor(shape: [batch, window, features], scalars: (0..<(batch * window * features)).map { _ in random.normal() })
}

/// Every `step`-th element of the parameters whose names pass `filter`: the tape's gradient of
/// `loss` against central differences (step 1e-6, relative accuracy 1e-5). Returns how many
/// elements were checked.
@discardableResult
func assertGradientsMatchCentralDifferences(_ model: SVAE<Double>, every step: Int, label: String, where filter: (String) -> Bool = { _ in true },
                                            _ loss: (SVAE<Double>) -> Tensor<Double>, file: StaticString = #filePath, line: UInt = #line) -> Int {
    let (value, gradient) = valueAndGradient(of: model, loss)
    XCTAssertTrue(value.isFinite, "\(label): loss \(value)", file: file, line: line)
    var checked = 0
    for (name, path) in model.parameters where filter(name) {
        for index in stride(from: 0, to: model[keyPath: path].count, by: step) {
            var plus = model, minus = model
            plus[keyPath: path].withUnsafeMutableScalars { $0[index] += 1e-6 }
            minus[keyPath: path].withUnsafeMutableScalars { $0[index] -= 1e-6 }
            let numeric = (loss(plus).scalar - loss(minus).scalar) / 2e-6
            XCTAssertEqual(gradient[keyPath: path].scalars[index], numeric, accuracy: 1e-5 * max(1, abs(numeric)), "\(label) \(name)[\(index)]",
                           file: file, line: line)
            checked += 1
        }
    }
    return checked
}
