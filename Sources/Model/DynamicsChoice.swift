import Core
import Dynamics

/// The latent dynamics chosen at run time: the neural ODE or the GRU baseline.
public struct DynamicsChoice<Scalar: TensorScalar>: Module {
    public var node: NeuralODEDynamics<Scalar>?
    public var rnn: GRUDynamics<Scalar>?

    public var parameters: [(name: String, path: WritableKeyPath<DynamicsChoice, Tensor<Scalar>>)] {
        nested(optional: \.node, prefix: "node") + nested(optional: \.rnn, prefix: "rnn")
    }

    public init(configuration c: SVAEConfiguration, random: inout RandomSource) {
        switch c.dynamics {
        case .node:
            let field = MLPVectorField<Scalar>(dimension: c.latent, hidden: [c.hidden, c.hidden], activation: .tanh,
                                               zeroLastLayer: true, leak: c.fieldLeak ?? 0, random: &random)
            let options = ODEOptions(stepSize: c.solver.isAdaptive ? nil : c.solverStep)
            node = NeuralODEDynamics(field: field, method: c.solver, options: options, stepSize: 1, adjoint: c.adjoint)
        case .rnn:
            rnn = GRUDynamics(latent: c.latent, hidden: c.hidden, random: &random)
        }
    }

    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func rollout(_ z0: Tensor<Scalar>, steps: Int) throws -> [Tensor<Scalar>] {
        if let node { return try node.rollout(z0, steps: steps) }
        if let rnn { return try rnn.rollout(z0, steps: steps) }
        return []
    }

    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func step(_ z: Tensor<Scalar>, memory: Tensor<Scalar>?) throws -> (Tensor<Scalar>, Tensor<Scalar>?) {
        if let node { return try node.step(z, memory: memory) }
        if let rnn { return try rnn.step(z, memory: memory) }
        return (z, nil)
    }

    /// One step with an external drive d [B, K] (nil: undriven): dz/dt = f(z) + d over the
    /// step for the neural ODE, z' = z + W h' + d for the GRU baseline.
    public func step(_ z: Tensor<Scalar>, memory: Tensor<Scalar>?, drive: Tensor<Scalar>?) throws -> (Tensor<Scalar>, Tensor<Scalar>?) {
        guard let drive else { return try step(z, memory: memory) }
        if let node { return (try node.step(z, drive: drive), nil) }
        if let rnn {
            let (next, h) = try rnn.step(z, memory: memory)
            return (next + drive, h)
        }
        return (z + drive, nil)
    }

    /// z0 followed by the states after 1...steps steps, as [B, steps + 1, K]. The undriven GRU
    /// baseline rolls out as one fused operation (`GRU.feedbackRollout`).
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func path(_ z0: Tensor<Scalar>, steps: Int, drives: [Tensor<Scalar>]?) throws -> Tensor<Scalar> {
        if drives == nil, steps > 0, let rnn {
            let rolled = rnn.cell.feedbackRollout(z0, readout: rnn.readout.weight, steps: steps)
            return Tensor.concatenate([z0.reshaped([z0.shape[0], 1, z0.shape[1]]), rolled], alongAxis: 1)
        }
        return Tensor.stackedInTime([z0] + (try rollout(z0, steps: steps, drives: drives)))
    }

    /// The states after 1...steps steps, step s driven by `drives[s - 1]` (nil: undriven).
    public func rollout(_ z0: Tensor<Scalar>, steps: Int, drives: [Tensor<Scalar>]?) throws -> [Tensor<Scalar>] {
        guard let drives else { return try rollout(z0, steps: steps) }
        var z = z0
        var memory: Tensor<Scalar>? = nil
        var states: [Tensor<Scalar>] = []
        for s in 0..<steps {
            (z, memory) = try step(z, memory: memory, drive: drives[s])
            states.append(z)
        }
        return states
    }
}

extension Tensor {
    /// States [B, K] of consecutive steps as one [B, T, K] tensor.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    static func stackedInTime(_ states: [Tensor]) -> Tensor {
        let (batch, k) = (states[0].shape[0], states[0].shape[1])
        return Tensor.concatenate(states.map { $0.reshaped([batch, 1, k]) }, alongAxis: 1)
    }
}
