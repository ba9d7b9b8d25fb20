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

/// The small training problem several test classes share.
enum TrainingFixtures {
    /// Three subjects, one run each: two latent oscillators mixed into six regions plus noise.
    static func runs(volumes: Int = 60) -> [RunData] {
        var random = RandomSource(seed: 12)
        return (1...3).map { subject in
            var matrix = SignalMatrix(timePoints: volumes, columns: 6)
            for t in 0..<volumes {
                let a = sin(Double(t) * 0.3 + Double(subject)), b = cos(Double(t) * 0.11)
                for c in 0..<6 { matrix[t, c] = (c % 2 == 0 ? a : b) * Double(c + 1) + 0.1 * random.normal() }
            }
            var run = RunData(timeseries: matrix, repetitionTime: 2)
            run.subject = String(format: "%02d", subject)
            run.task = "motor"
            run.run = "1"
            run.source = "sub-\(run.subject)"
            run.conditions = (0..<volumes).map { ($0 / 10) % 2 == 0 ? "rest" : "left_hand" }
            return run
        }
    }

    static func configurations() -> (SVAEConfiguration, TrainingConfiguration) {
        var model = SVAEConfiguration(observations: 6)
        model.latent = 2
        model.hidden = 8
        model.window = 12
        model.stride = 6
        var training = TrainingConfiguration()
        training.epochs = 3
        training.batchSize = 4
        training.learningRate = 0.005
        training.checkpointEvery = 3
        training.klWarmupEpochs = 1
        return (model, training)
    }
}
