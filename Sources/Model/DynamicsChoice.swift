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
                                               zeroLastLayer: true, random: &random)
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
}
