import TestSupport
import XCTest

@testable import Core

/// Every operation and layer against central finite differences in Float64.
final class GradientCheckTests: XCTestCase {
    var random = RandomSource(seed: 7)

    func randomTensor(_ shape: [Int], low: Double = -1, high: Double = 1) -> Tensor<Double> {
        Tensor(shape: shape, scalars: (0..<shape.reduce(1, *)).map { _ in random.uniform(low, high) })
    }

    /// Compares the tape's gradient of `f` at `x` with central differences (step 1e-6).
    func check(_ name: String, at x: Tensor<Double>, tolerance: Double = 1e-6, _ f: (Tensor<Double>) -> Tensor<Double>,
               file: StaticString = #filePath, line: UInt = #line) {
        let (_, gradient) = valueAndGradient(at: x, f)
        let step = 1e-6
        var numeric = [Double](repeating: 0, count: x.count)
        for index in 0..<x.count {
            var plus = x, minus = x
            plus.scalars[index] += step
            minus.scalars[index] -= step
            numeric[index] = (f(plus).scalar - f(minus).scalar) / (2 * step)
        }
        let scale = max(1e-3, numeric.map(abs).max() ?? 0)
        let worst = zip(gradient.scalars, numeric).map { abs($0 - $1) }.max() ?? 0
        XCTAssertLessThan(worst / scale, tolerance, "\(name): max |analytic - numeric| = \(worst) (scale \(scale))", file: file, line: line)
    }

    /// Every `step`-th element of every parameter: the tape's gradient of `loss(model)` against
    /// central differences (step 1e-6, absolute accuracy 1e-7).
    func checkParameterGradients<M: Module>(of model: M, every step: Int, label: String, _ loss: (M) -> Tensor<Double>,
                                            file: StaticString = #filePath, line: UInt = #line) where M.Scalar == Double {
        let (_, gradient) = valueAndGradient(of: model, loss)
        for (name, path) in model.parameters {
            for index in stride(from: 0, to: model[keyPath: path].count, by: step) {
                var plus = model, minus = model
                plus[keyPath: path].scalars[index] += 1e-6
                minus[keyPath: path].scalars[index] -= 1e-6
                let numeric = (loss(plus).scalar - loss(minus).scalar) / 2e-6
                XCTAssertEqual(gradient[keyPath: path].scalars[index], numeric, accuracy: 1e-7, "\(label)\(name)[\(index)]", file: file, line: line)
            }
        }
    }

    func testElementwiseFunctions() {
        let x = randomTensor([3, 4])
        let positive = randomTensor([3, 4], low: 0.2, high: 2)
        let weights = randomTensor([3, 4])
        check("exp", at: x) { ($0.exp() * weights).sum() }
        check("log", at: positive) { ($0.log() * weights).sum() }
        check("tanh", at: x) { ($0.tanh() * weights).sum() }
        check("sigmoid", at: x) { ($0.sigmoid() * weights).sum() }
        check("softplus", at: x) { ($0.softplus() * weights).sum() }
        check("relu", at: x) { ($0.relu() * weights).sum() }
        check("elu", at: x) { ($0.elu(alpha: 0.7) * weights).sum() }
        check("square", at: x) { ($0.squared() * weights).sum() }
        check("sqrt", at: positive) { ($0.squareRoot() * weights).sum() }
        check("scalar ops", at: x) { ((($0 * 3 + 2) / 4 - 1) * weights).sum() }
    }

    func testBroadcastingArithmetic() {
        let a = randomTensor([2, 3, 4]), row = randomTensor([4]), column = randomTensor([2, 3, 1]), scalar = randomTensor([])
        let positive = randomTensor([2, 1, 4], low: 0.5, high: 2)
        check("add row", at: row) { (a + $0).squared().sum() }
        check("sub column", at: column) { (a - $0).squared().sum() }
        check("mul scalar", at: scalar) { (a * $0).squared().sum() }
        check("div middle", at: positive) { (a / $0).squared().sum() }
        check("div numerator", at: a) { ($0 / positive).squared().sum() }
        check("mul both", at: a) { ($0 * $0 * row).sum() }
    }

    func testReductionsAndShapes() {
        let x = randomTensor([2, 3, 4])
        let w = randomTensor([2, 4])
        check("sum axis", at: x) { ($0.sum(alongAxis: 1) * w).sum() }
        check("mean axis keep", at: x) { ($0.mean(alongAxis: 2, keepingDimension: true).squared()).sum() }
        check("mean", at: x) { $0.squared().mean() }
        let (w46, w264, w232, w4, w234) = (randomTensor([4, 6]), randomTensor([2, 6, 4]), randomTensor([2, 3, 2]), randomTensor([4]), randomTensor([2, 3, 4]))
        check("reshape", at: x) { ($0.reshaped([6, 4]).transposed().squared() * w46).sum() }
        check("concat", at: x) { (Tensor.concatenate([$0, $0.squared()], alongAxis: 1) * w264).sum() }
        check("slice", at: x) { ($0.slice(alongAxis: 2, 1..<3) * w232).sum() }
        // A leading-axis slice is a view of its input's storage; its gradient still lands in place.
        let w134 = randomTensor([1, 3, 4])
        check("leading-axis slice (view)", at: x) { ($0.slice(alongAxis: 0, 1..<2) * w134).sum() + ($0.slice(alongAxis: 0, 0..<2).tanh()).sum() }
        // Overlapping slices of one tensor, along time as the sequential posterior takes them,
        // plus an ordinary use: their gradients all add into the same input gradient.
        check("time slices", at: x) { value in
            var total = (value.squared() * w234).sum()
            for t in [0, 1, 2, 1] { total = total + (value.slice(alongAxis: 1, t..<(t + 1)).reshaped([2, 4]) * w.squared()).sum() * Double(t + 1) }
            return total + (value.slice(alongAxis: 1, 1..<3).tanh()).sum()
        }
        check("gather/scatter", at: x) { ($0.gathered(flatIndices: [0, 5, 5, 23]).scattered(toFlatIndices: [1, 2, 3, 0], shape: [4]) * w4).sum() }
        check("reverse time", at: x) { ($0.reversedInTime() * w234).sum() }
    }

    func testMatrixProducts() {
        let a = randomTensor([3, 5]), b = randomTensor([5, 4]), batchA = randomTensor([2, 3, 5]), batchB = randomTensor([2, 5, 4])
        let w = randomTensor([3, 4])
        check("matmul left", at: a) { ($0.matmul(b) * w).sum() }
        check("matmul right", at: b) { (a.matmul($0) * w).sum() }
        check("matmul 3d x 2d", at: batchA) { ($0.matmul(b)).squared().sum() }
        check("batched left", at: batchA) { $0.matmul(batchB).squared().sum() }
        check("batched right", at: batchB) { batchA.matmul($0).squared().sum() }
        let weight = randomTensor([4, 5]), bias = randomTensor([4])
        check("linear input", at: batchA) { $0.linear(weight: weight, bias: bias).squared().sum() }
        check("linear weight", at: weight) { batchA.linear(weight: $0, bias: bias).squared().sum() }
        check("linear bias", at: bias) { batchA.linear(weight: weight, bias: $0).squared().sum() }
    }

    func testMLPParameters() {
        var random = RandomSource(seed: 3)
        let mlp = MLP<Double>(widths: [3, 5, 4, 2], activation: .tanh, random: &random)
        let x = randomTensor([6, 3])
        let target = randomTensor([6, 2])
        let loss = { (model: MLP<Double>) in (model(x) - target).squared().mean() }
        let (_, gradient) = valueAndGradient(of: mlp, loss)
        XCTAssertEqual(mlp.parameters.map(\.name), ["layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias", "layers.2.weight", "layers.2.bias"])
        for (name, path) in mlp.parameters {
            for index in 0..<mlp[keyPath: path].count {
                var plus = mlp, minus = mlp
                plus[keyPath: path].scalars[index] += 1e-6
                minus[keyPath: path].scalars[index] -= 1e-6
                let numeric = (loss(plus).scalar - loss(minus).scalar) / 2e-6
                XCTAssertEqual(gradient[keyPath: path].scalars[index], numeric, accuracy: 1e-7, "\(name)[\(index)]")
            }
        }
    }

    /// The time-major output [T, B, 2H] holds the batch-major output's values with the first two
    /// axes swapped, and its gradients (input and every weight) match central differences.
    func testBidirectionalGRUTimeMajorOutput() {
        var random = RandomSource(seed: 5)
        let gru = BidirectionalGRU<Double>(inputSize: 3, hiddenSize: 4, random: &random)
        let x = randomTensor([2, 5, 3]), weights = randomTensor([5, 2, 8])
        let batchMajor = gru(x), timeMajor = gru(x, timeMajorOutput: true)
        XCTAssertEqual(timeMajor.shape, [5, 2, 8])
        var swapped = [Double](repeating: .nan, count: batchMajor.count)
        for b in 0..<2 { for t in 0..<5 { for f in 0..<8 { swapped[(t * 2 + b) * 8 + f] = batchMajor.scalars[(b * 5 + t) * 8 + f] } } }
        XCTAssertEqual(timeMajor.scalars.array, swapped)
        check("bidirectional gru, time-major", at: x) { (gru($0, timeMajorOutput: true) * weights).sum() }
        checkParameterGradients(of: gru, every: 1, label: "time-major ") { ($0(x, timeMajorOutput: true) * weights).sum() }
    }

    func testGRUSequenceAllGradients() {
        var random = RandomSource(seed: 11)
        let gru = GRU<Double>(inputSize: 3, hiddenSize: 4, random: &random)
        let x = randomTensor([2, 5, 3]), h0 = randomTensor([2, 4]), weights = randomTensor([2, 5, 4])
        check("gru input", at: x) { (gru($0, initial: h0) * weights).sum() }
        check("gru initial state", at: h0) { (gru(x, initial: $0) * weights).sum() }
        let stepWeights = randomTensor([2, 4])
        check("gru step", at: h0) { (gru.step(x.slice(alongAxis: 1, 0..<1).reshaped([2, 3]), $0) * stepWeights).sum() }
        checkParameterGradients(of: gru, every: 3, label: "") { ($0(x, initial: h0) * weights).sum() }
        let bidirectional = BidirectionalGRU<Double>(inputSize: 3, hiddenSize: 4, random: &random)
        let bidirectionalWeights = randomTensor([2, 5, 8])
        check("bidirectional input", at: x) { (bidirectional($0) * bidirectionalWeights).sum() }
        XCTAssertEqual(bidirectional.parameters.map(\.name).first, "forward.weight_ih")
        // The fused, concurrent op equals the two directions run one after the other ...
        let separate = Tensor.concatenate([bidirectional.forward(x), bidirectional.backward(x.reversedInTime()).reversedInTime()], alongAxis: 2)
        XCTAssertEqual(bidirectional(x).scalars, separate.scalars)
        // ... and its parameter gradients match central differences.
        checkParameterGradients(of: bidirectional, every: 5, label: "bidirectional ") { ($0(x) * bidirectionalWeights).sum() }
    }

    func testReparameterizationGradient() {
        let logVariance = randomTensor([5])
        check("reparameterized", at: logVariance) { lv in
            var random = RandomSource(seed: 5)  // the same epsilon on every evaluation
            return Tensor.reparameterized(mean: Tensor(zeros: [5]), logVariance: lv, using: &random).squared().sum()
        }
    }

    /// The fused GRU rollout with readout feedback equals the step-by-step composition
    /// (GRU.step, readout product, residual add) in value and in every input's gradient, and
    /// its gradients match central differences.
    func testFeedbackRolloutEqualsStepByStep() {
        var source = RandomSource(seed: 31)
        var gru = GRU<Double>(inputSize: 3, hiddenSize: 4, random: &source)
        gru.biasHH = randomTensor([12])  // non-zero recurrent bias: it sits inside the reset gate
        let readout = randomTensor([3, 4]), z0 = randomTensor([2, 3]), weights = randomTensor([2, 5, 3])
        func stepwise(_ cell: GRU<Double>, _ r: Tensor<Double>, _ start: Tensor<Double>) -> Tensor<Double> {
            var z = start, h = Tensor<Double>(zeros: [2, 4])
            var states: [Tensor<Double>] = []
            for _ in 0..<5 {
                h = cell.step(z, h)
                z = z + h.matmul(r.transposed())
                states.append(z.reshaped([2, 1, 3]))
            }
            return Tensor.concatenate(states, alongAxis: 1)
        }
        let fused = gru.feedbackRollout(z0, readout: readout, steps: 5)
        let reference = stepwise(gru, readout, z0)
        XCTAssertEqual(fused.shape, [2, 5, 3])
        for (a, b) in zip(fused.scalars, reference.scalars) { XCTAssertEqual(a, b, accuracy: 1e-13) }
        // Every input: z0, the four GRU tensors and the readout.
        struct Inputs: Module {
            var gru: GRU<Double>
            var readout: Tensor<Double>
            var z0: Tensor<Double>
            var parameters: [(name: String, path: WritableKeyPath<Inputs, Tensor<Double>>)] {
                nested(\.gru, prefix: "gru") + [("readout", \.readout), ("z0", \.z0)]
            }
        }
        let inputs = Inputs(gru: gru, readout: readout, z0: z0)
        let (_, fusedGradient) = valueAndGradient(of: inputs) { ($0.gru.feedbackRollout($0.z0, readout: $0.readout, steps: 5) * weights).sum() }
        let (_, referenceGradient) = valueAndGradient(of: inputs) { (stepwise($0.gru, $0.readout, $0.z0) * weights).sum() }
        for (name, path) in inputs.parameters {
            for (a, b) in zip(fusedGradient[keyPath: path].scalars, referenceGradient[keyPath: path].scalars) {
                XCTAssertEqual(a, b, accuracy: 1e-12, name)
            }
        }
        check("feedback rollout z0", at: z0) { (gru.feedbackRollout($0, readout: readout, steps: 5) * weights).sum() }
        check("feedback rollout readout", at: readout) { (gru.feedbackRollout(z0, readout: $0, steps: 5) * weights).sum() }
    }
}
