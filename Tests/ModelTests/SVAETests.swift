import Core
import Dynamics
import TestSupport
import XCTest

@testable import Model

final class SVAETests: XCTestCase {
    func tinyConfiguration(_ inference: SVAEConfiguration.Inference, _ dynamics: SVAEConfiguration.DynamicsKind) -> SVAEConfiguration {
        var c = SVAEConfiguration(observations: 5)
        c.latent = 2
        c.hidden = 3
        c.window = 4
        c.inference = inference
        c.dynamics = dynamics
        c.solverStep = 0.5
        return c
    }

    /// The full negative ELBO against central differences, for every scheme and dynamics.
    func testObjectiveGradientMatchesFiniteDifferences() throws {
        for inference in SVAEConfiguration.Inference.allCases {
            for dynamics in SVAEConfiguration.DynamicsKind.allCases {
                var model = SVAE<Double>(configuration: tinyConfiguration(inference, dynamics))
                // Non-zero last layer so the ODE field matters in the check.
                for (name, path) in model.parameters where name.contains("node") {
                    model[keyPath: path] = model[keyPath: path].detached + Tensor(repeating: 0.05, shape: model[keyPath: path].shape)
                }
                let x = windows(2, 4, 5, seed: 1)
                func loss(_ m: SVAE<Double>) -> Tensor<Double> {
                    var random = RandomSource(seed: 99)  // the same noise every evaluation
                    return (try? m.objective(x, klWeight: 0.7, freeBits: 0.05, random: &random).loss) ?? Tensor(.nan)
                }
                let checked = assertGradientsMatchCentralDifferences(model, every: 7, label: "\(inference) \(dynamics)", loss)
                XCTAssertGreaterThan(checked, 20)
            }
        }
    }

    /// With external inputs (dz/dt = f(z) + B u): the gradient, B included, against central
    /// differences, and the inputs change the objective while u = 0 leaves it as the autonomous model's.
    func testExternalInputsGradientAndEffect() throws {
        for inference in SVAEConfiguration.Inference.allCases {
            for dynamics in SVAEConfiguration.DynamicsKind.allCases {
                var c = tinyConfiguration(inference, dynamics)
                c.externalInputs = ["left", "right"]
                var model = SVAE<Double>(configuration: c)
                for (name, path) in model.parameters where name.contains("node") {
                    model[keyPath: path] = model[keyPath: path].detached + Tensor(repeating: 0.05, shape: model[keyPath: path].shape)
                }
                XCTAssertNotNil(model.parameters.first { $0.name == "input_map.weight" })
                let x = windows(2, 4, 5, seed: 1), u = windows(2, 4, 2, seed: 3)
                func loss(_ m: SVAE<Double>, _ inputs: Tensor<Double>?) -> Tensor<Double> {
                    var random = RandomSource(seed: 99)
                    return (try? m.objective(x, inputs: inputs, klWeight: 0.7, random: &random).loss) ?? Tensor(.nan)
                }
                let (value, gradient) = valueAndGradient(of: model) { loss($0, u) }
                XCTAssertTrue(value.isFinite)
                for (name, path) in model.parameters where name == "input_map.weight" || name.contains("dynamics") {
                    for index in stride(from: 0, to: model[keyPath: path].count, by: 5) {
                        var plus = model, minus = model
                        plus[keyPath: path].withUnsafeMutableScalars { $0[index] += 1e-6 }
                        minus[keyPath: path].withUnsafeMutableScalars { $0[index] -= 1e-6 }
                        let numeric = (loss(plus, u).scalar - loss(minus, u).scalar) / 2e-6
                        XCTAssertEqual(gradient[keyPath: path].scalars[index], numeric, accuracy: 1e-5 * max(1, abs(numeric)), "\(inference) \(dynamics) \(name)[\(index)]")
                    }
                }
                let inputGradient = gradient[keyPath: model.parameters.first { $0.name == "input_map.weight" }!.path].scalars
                XCTAssertTrue(inputGradient.contains { abs($0) > 1e-8 }, "B receives a gradient")
                // u = 0 gives the autonomous model's objective (same other parameters).
                var autonomous = SVAE<Double>(configuration: tinyConfiguration(inference, dynamics))
                for (name, path) in autonomous.parameters { autonomous[keyPath: path] = model[keyPath: model.parameters.first { $0.name == name }!.path] }
                let zero = Tensor<Double>(zeros: [2, 4, 2])
                XCTAssertEqual(loss(model, zero).scalar, loss(autonomous, nil).scalar, accuracy: 1e-10)
                XCTAssertNotEqual(loss(model, u).scalar, loss(model, zero).scalar)
            }
        }
    }

    func testOverfitsASingleWindow() throws {
        var c = SVAEConfiguration(observations: 6)
        c.latent = 3
        c.hidden = 16
        c.window = 8
        var model = SVAE<Float>(configuration: c)
        // A smooth two-dimensional signal mixed into six features.
        let t = (0..<8).map { Double($0) / 8 }
        let x = Tensor<Float>(shape: [1, 8, 6], scalars: t.flatMap { s in (0..<6).map { Float(sin(2 * Double.pi * s + Double($0)) + 0.5 * cos(4 * Double.pi * s * Double($0 % 2))) } })
        var adam = Adam<Float>(learningRate: 0.01)
        var random = RandomSource(seed: 5)
        var first = Float.nan, last = Float.nan
        for step in 0..<300 {
            let (value, gradient) = try valueAndGradient(of: model) { try $0.objective(x, klWeight: 0.1, random: &random).loss }
            if step == 0 { first = value }
            last = value
            adam.update(&model, along: gradient)
        }
        XCTAssertLessThan(last, first - 20, "the negative ELBO of one window falls from \(first) to \(last)")
        let reconstruction = model.decoder(try model.posteriorMeans(x.reshaped([8, 6])))
        let error = (reconstruction - x.reshaped([8, 6])).squared().mean().scalar
        XCTAssertLessThan(error, 0.1, "posterior-mean reconstruction error")
    }

    func testPosteriorMeansCoverWholeRuns() throws {
        for inference in SVAEConfiguration.Inference.allCases {
            var c = tinyConfiguration(inference, .node)
            c.window = 4
            let model = SVAE<Double>(configuration: c)
            let run = windows(1, 11, 5, seed: 3).reshaped([11, 5])
            let means = try model.posteriorMeans(run)
            XCTAssertEqual(means.shape, [11, 2])
            XCTAssertTrue(means.scalars.allSatisfy(\.isFinite))
        }
    }
}
