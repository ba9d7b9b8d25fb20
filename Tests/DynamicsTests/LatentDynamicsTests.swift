import Core
import Foundation
import TestSupport
import XCTest

@testable import Dynamics

final class LatentDynamicsTests: XCTestCase {
    func testJacobianMatchesFiniteDifferences() {
        var random = RandomSource(seed: 8)
        let field = MLPVectorField<Double>(dimension: 3, hidden: [10, 10], activation: .softplus, random: &random)
        let z = Tensor<Double>(shape: [4, 3], scalars: (0..<12).map { _ in random.normal() })
        let jacobian = Jacobian.evaluate(at: z) { field(0, $0) }
        XCTAssertEqual(jacobian.shape, [4, 3, 3])
        for b in 0..<4 {
            for j in 0..<3 {
                var plus = z, minus = z
                plus.withUnsafeMutableScalars { $0[b * 3 + j] += 1e-6 }
                minus.withUnsafeMutableScalars { $0[b * 3 + j] -= 1e-6 }
                let fp = field(0, plus).scalars, fm = field(0, minus).scalars
                for i in 0..<3 {
                    XCTAssertEqual(jacobian.scalars[(b * 3 + i) * 3 + j], (fp[b * 3 + i] - fm[b * 3 + i]) / 2e-6, accuracy: 1e-8)
                }
            }
        }
        // A linear field's Jacobian is its matrix.
        let linear = LinearField(matrix: Tensor(shape: [2, 2], scalars: [1, 2, 3, 4]))
        XCTAssertEqual(Jacobian.evaluate(at: Tensor(shape: [1, 2], scalars: [0.5, -1])) { linear(0, $0) }.scalars, [1, 2, 3, 4])
    }

    func testBaselinesFollowTheirEquationsAndDifferentiate() throws {
        var random = RandomSource(seed: 9)
        let gru = GRUDynamics<Double>(latent: 3, hidden: 5, random: &random)
        let z0 = Tensor<Double>(shape: [2, 3], scalars: (0..<6).map { _ in random.normal() })
        let states = try gru.rollout(z0, steps: 4)
        XCTAssertEqual(states.count, 4)
        // Step 1 by hand: h1 = GRU(z0, 0), z1 = z0 + W h1.
        let h1 = gru.cell.step(z0, Tensor(zeros: [2, 5]))
        XCTAssertClose(states[0].scalars, (z0 + gru.readout(h1)).scalars, absolute: 1e-14, relative: 0)
        let rnn = TanhRNNDynamics<Double>(latent: 3, hidden: 5, random: &random)
        let rnnStates = try rnn.rollout(z0, steps: 3)
        let manual = z0 + rnn.readout((rnn.input(z0) + rnn.recurrent(Tensor(zeros: [2, 5]))).tanh())
        XCTAssertClose(rnnStates[0].scalars, manual.scalars, absolute: 1e-14, relative: 0)
        // Gradients reach every parameter of both baselines.
        let (_, gruGradient) = valueAndGradient(of: gru) { model in ((try? model.rollout(z0, steps: 4)) ?? []).last!.squared().sum() }
        for (name, path) in gru.parameters { XCTAssertGreaterThan(gruGradient[keyPath: path].scalars.map(abs).max() ?? 0, 0, name) }
        let node = NeuralODEDynamics(field: MLPVectorField<Double>(dimension: 3, hidden: [8], zeroLastLayer: true, random: &random))
        let nodeStates = try node.rollout(z0, steps: 2)
        XCTAssertEqual(nodeStates[1].scalars, z0.scalars, "a zero last layer starts at the identity flow")
        XCTAssertEqual(node.parameters.first?.name, "field.network.layers.0.weight")
    }

    /// f(z) = MLP(z) - leak z: with a zero last layer the flow is pure decay, z(t) = z0 e^{-leak t}
    /// (RK4 at step 0.1 agrees to 1e-6; its error is about 1.5e-7 here), and the leak adds -leak I to the Jacobian.
    func testLeakyFieldDecaysAsTheExponential() throws {
        var random = RandomSource(seed: 5)
        let leak = 0.7
        let field = MLPVectorField<Double>(dimension: 3, hidden: [8], zeroLastLayer: true, leak: leak, random: &random)
        let z0 = Tensor<Double>(shape: [2, 3], scalars: [1, -2, 0.5, 3, 0, -1])
        let node = NeuralODEDynamics(field: field, method: .rk4, options: ODEOptions(stepSize: 0.1), stepSize: 1)
        let states = try node.rollout(z0, steps: 2)
        XCTAssertClose(states[1].scalars, z0.scalars.map { $0 * exp(-2 * leak) }, absolute: 1e-6, relative: 0)
        // With a trained (non-zero) network the leak's Jacobian is the network's minus leak I.
        let plain = MLPVectorField<Double>(dimension: 3, hidden: [8], random: &random)
        let leaky = MLPVectorField<Double>(network: plain.network, leak: leak)
        let point = Tensor<Double>(shape: [1, 3], scalars: [0.3, -0.2, 0.9])
        let a = Jacobian.evaluate(at: point) { plain(0, $0) }.scalars, b = Jacobian.evaluate(at: point) { leaky(0, $0) }.scalars
        for i in 0..<3 { for j in 0..<3 { XCTAssertEqual(b[i * 3 + j], a[i * 3 + j] - (i == j ? leak : 0), accuracy: 1e-10) } }
    }
}
