import Foundation
import TestSupport
import XCTest

@testable import Core

/// Layers, optimizers, clipping and schedules against PyTorch 2.15 (bench/golden/core_torch.py).
final class TorchParityTests: XCTestCase {
    nonisolated(unsafe) static let golden: [String: Any] = (try? Fixtures.json("core/torch_golden.json") as? [String: Any]) ?? [:]

    func tensor(_ any: Any?) -> Tensor<Double> {
        let array = GoldenArray(any)
        return Tensor(shape: array.shape, scalars: array.values)
    }

    func testMLPForwardAndGradients() throws {
        let g = try XCTUnwrap(Self.golden["mlp"] as? [String: Any])
        let layers = (0..<3).map { Linear<Double>(weight: tensor(g["layers.\($0).weight"]), bias: tensor(g["layers.\($0).bias"])) }
        let mlp = MLP(layers: layers, activation: .tanh)
        let x = tensor(g["input"])
        XCTAssertClose(mlp(x).scalars, tensor(g["output"]).scalars, absolute: 1e-12, relative: 1e-10)
        let (loss, gradient) = valueAndGradient(of: mlp) { ($0(x).squared()).mean() }
        XCTAssertEqual(loss, g["loss"] as? Double ?? .nan, accuracy: 1e-12)
        for (name, path) in mlp.parameters {
            XCTAssertClose(gradient[keyPath: path].scalars, tensor(g["grad." + name]).scalars, absolute: 1e-12, relative: 1e-9, name)
        }
        let (_, inputGradient) = valueAndGradient(at: x) { mlp($0).squared().mean() }
        XCTAssertClose(inputGradient.scalars, tensor(g["input_grad"]).scalars, absolute: 1e-12, relative: 1e-9)
    }

    func testGRUForwardAndGradients() throws {
        let g = try XCTUnwrap(Self.golden["gru"] as? [String: Any])
        let gru = GRU(weightIH: tensor(g["weight_ih_l0"]), weightHH: tensor(g["weight_hh_l0"]),
                      biasIH: tensor(g["bias_ih_l0"]), biasHH: tensor(g["bias_hh_l0"]))
        let x = tensor(g["input"]), h0 = tensor(g["h0"]).reshaped([3, 5]).detached, weights = tensor(g["weights"])
        XCTAssertClose(gru(x, initial: h0).scalars, tensor(g["output"]).scalars, absolute: 1e-12, relative: 1e-10)
        let (loss, gradient) = valueAndGradient(of: gru) { ($0(x, initial: h0) * weights).sum() }
        XCTAssertEqual(loss, g["loss"] as? Double ?? .nan, accuracy: 1e-10)
        let torchNames = ["weight_ih": "weight_ih_l0", "weight_hh": "weight_hh_l0", "bias_ih": "bias_ih_l0", "bias_hh": "bias_hh_l0"]
        for (name, path) in gru.parameters {
            XCTAssertClose(gradient[keyPath: path].scalars, tensor(g["grad." + (torchNames[name] ?? "")]).scalars, absolute: 1e-11, relative: 1e-9, name)
        }
        let (_, dx) = valueAndGradient(at: x) { (gru($0, initial: h0) * weights).sum() }
        XCTAssertClose(dx.scalars, tensor(g["input_grad"]).scalars, absolute: 1e-11, relative: 1e-9)
        let (_, dh0) = valueAndGradient(at: h0) { (gru(x, initial: $0) * weights).sum() }
        XCTAssertClose(dh0.scalars, tensor(g["h0_grad"]).scalars, absolute: 1e-11, relative: 1e-9)
    }

    func testBidirectionalGRUMatchesTorch() throws {
        let g = try XCTUnwrap(Self.golden["bigru"] as? [String: Any])
        func direction(_ suffix: String) -> GRU<Double> {
            GRU(weightIH: tensor(g["weight_ih_l0" + suffix]), weightHH: tensor(g["weight_hh_l0" + suffix]),
                biasIH: tensor(g["bias_ih_l0" + suffix]), biasHH: tensor(g["bias_hh_l0" + suffix]))
        }
        let model = BidirectionalGRU(forward: direction(""), backward: direction("_reverse"))
        let x = tensor(g["input"]), h0 = tensor(g["h0"])
        // PyTorch was given non-zero initial states for both directions; use the same.
        let forwardStates = model.forward(x, initial: h0.slice(alongAxis: 0, 0..<1).reshaped([3, 5]).detached)
        let backwardStates = model.backward(x.reversedInTime(), initial: h0.slice(alongAxis: 0, 1..<2).reshaped([3, 5]).detached).reversedInTime()
        let output = Tensor.concatenate([forwardStates, backwardStates], alongAxis: 2)
        XCTAssertClose(output.scalars, tensor(g["output"]).scalars, absolute: 1e-12, relative: 1e-10)
    }

    func testOptimizerTrajectories() throws {
        let g = try XCTUnwrap(Self.golden["optimizers"] as? [String: Any])
        let p0 = tensor(g["p0"]), target = tensor(g["target"]), w = tensor(g["w"])
        let cases = try XCTUnwrap(g["cases"] as? [[String: Any]])
        XCTAssertEqual(cases.count, 6)
        for entry in cases {
            let name = entry["name"] as? String ?? ""
            var model = SingleTensor(value: p0)
            var trajectory: [Double] = []
            func run<O: Optimizer>(_ optimizer: O) where O.Scalar == Double {
                var optimizer = optimizer
                for _ in 0..<10 {
                    let gradient = SingleTensor(value: ((model.value - target) * w * 2).detached)
                    optimizer.update(&model, along: gradient)
                    trajectory += model.value.scalars
                }
            }
            switch name {
            case "sgd": run(SGD<Double>(learningRate: 0.1))
            case "sgd_momentum": run(SGD<Double>(learningRate: 0.05, momentum: 0.9, weightDecay: 0.01))
            case "sgd_nesterov": run(SGD<Double>(learningRate: 0.05, momentum: 0.9, nesterov: true))
            case "adam": run(Adam<Double>(learningRate: 0.01))
            case "adam_l2": run(Adam<Double>(learningRate: 0.01, weightDecay: 0.05))
            case "adamw": run(Adam<Double>.adamW(learningRate: 0.01, weightDecay: 0.1))
            default: XCTFail("unknown case \(name)")
            }
            XCTAssertClose(trajectory, tensor(entry["trajectory"]).scalars, absolute: 1e-12, relative: 1e-10, name)
        }
    }

    /// Large models are updated by several cores at once, each taking whole tensors: the
    /// parameters, moments and masked zeros equal the one-core update exactly.
    func testAdamSharedAcrossCoresEqualsOneCore() {
        struct Model: Module {
            var a: Tensor<Float>, b: Tensor<Float>, c: Tensor<Float>
            var parameters: [(name: String, path: WritableKeyPath<Model, Tensor<Float>>)] { [("a", \.a), ("b", \.b), ("c", \.c)] }
        }
        var random = RandomSource(seed: 8)
        func tensor(_ n: Int) -> Tensor<Float> { Tensor(shape: [n], scalars: (0..<n).map { _ in Float(random.normal()) }) }
        let sizes = [40_001, 30_000, 7]
        let start = Model(a: tensor(sizes[0]), b: tensor(sizes[1]), c: tensor(sizes[2]))
        let gradients = (0..<3).map { _ in Model(a: tensor(sizes[0]), b: tensor(sizes[1]), c: tensor(sizes[2])) }
        let masks = ParameterMasks<Float>(["a": Tensor(shape: [sizes[0]], scalars: (0..<sizes[0]).map { $0 % 3 == 0 ? 0 : 1 })])
        func run(cores: Int) -> (Model, OptimizerState<Float>) {
            ComputeThreads.set(cores)
            var model = start
            masks.apply(to: &model)
            var adam = Adam<Float>.adamW(learningRate: 0.01)
            for gradient in gradients { adam.update(&model, along: gradient, masks: masks) }
            return (model, adam.state)
        }
        let (one, oneState) = run(cores: 1)
        let (two, twoState) = run(cores: 2)
        ComputeThreads.set(ProcessInfo.processInfo.activeProcessorCount)
        for (name, path) in start.parameters {
            XCTAssertEqual(one[keyPath: path].scalars, two[keyPath: path].scalars, name)
            XCTAssertEqual(oneState.buffers[name + ".exp_avg_sq"]?.scalars, twoState.buffers[name + ".exp_avg_sq"]?.scalars, name)
            XCTAssertNotEqual(two[keyPath: path].scalars[1], start[keyPath: path].scalars[1], name)
        }
        XCTAssertTrue(stride(from: 0, to: sizes[0], by: 3).allSatisfy { two.a.scalars[$0] == 0 })
    }

    func testMasksKeepWeightsAtZero() {
        var model = SingleTensor(value: Tensor<Double>(shape: [4], scalars: [1, 2, 3, 4]))
        let masks = ParameterMasks<Double>(["value": Tensor(shape: [4], scalars: [1, 0, 1, 0])])
        masks.apply(to: &model)
        var adam = Adam<Double>(learningRate: 0.1)
        for _ in 0..<5 {
            adam.update(&model, along: SingleTensor(value: Tensor(shape: [4], scalars: [1, -1, 1, -1])), masks: masks)
        }
        XCTAssertEqual(model.value.scalars[1], 0)
        XCTAssertEqual(model.value.scalars[3], 0)
        XCTAssertNotEqual(model.value.scalars[0], 1)
    }

    func testClippingMatchesTorch() throws {
        let g = try XCTUnwrap(Self.golden["clipping"] as? [String: Any])
        struct Pair: Module {
            var a: Tensor<Double>
            var b: Tensor<Double>
            var parameters: [(name: String, path: WritableKeyPath<Pair, Tensor<Double>>)] { [("a", \.a), ("b", \.b)] }
        }
        var gradient = Pair(a: tensor(g["a"]), b: tensor(g["b"]))
        let norm = clipGradientNorm(&gradient, maxNorm: 1.5)
        XCTAssertEqual(norm, g["norm"] as? Double ?? .nan, accuracy: 1e-12)
        XCTAssertClose(gradient.a.scalars.array + gradient.b.scalars.array, tensor(g["a_clipped"]).scalars.array + tensor(g["b_clipped"]).scalars.array, absolute: 1e-14, relative: 1e-12)
    }

    func testSchedulesMatchTorch() throws {
        let g = try XCTUnwrap(Self.golden["schedules"] as? [String: Any])
        let step = (0..<12).map { LearningRateSchedule.step(stepSize: 3, gamma: 0.5).learningRate(initial: 0.1, epoch: $0) }
        XCTAssertClose(step, g["step"] as? [Double] ?? [], absolute: 1e-15, relative: 1e-12)
        let cosine = (0..<12).map { LearningRateSchedule.cosine(period: 10, minimum: 0.001).learningRate(initial: 0.1, epoch: $0) }
        XCTAssertClose(cosine, g["cosine"] as? [Double] ?? [], absolute: 1e-12, relative: 1e-9)
        let plateau = try XCTUnwrap(g["plateau"] as? [String: Any])
        var scheduler = ReduceOnPlateau(factor: 0.5, patience: 2, cooldown: 1)
        var rate = 0.1
        var rates: [Double] = []
        for metric in plateau["metrics"] as? [Double] ?? [] {
            rate = scheduler.step(metric: metric, learningRate: rate)
            rates.append(rate)
        }
        XCTAssertClose(rates, plateau["rates"] as? [Double] ?? [], absolute: 1e-15, relative: 1e-12)
    }
}
