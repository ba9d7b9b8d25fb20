import Core

/// How a latent state moves forward by one step (one TR): the neural ODE or a recurrent
/// baseline, behind one interface so the sequential VAE can use either.
public protocol LatentDynamics: Module {
    /// The states after 1...steps steps from z0 [B, D] (z0 itself not included).
    func rollout(_ z0: Tensor<Scalar>, steps: Int) throws -> [Tensor<Scalar>]

    /// One step from z [B, D] with the recurrent memory of the previous step (nil at the
    /// start; always nil for the neural ODE). Returns the next state and memory.
    func step(_ z: Tensor<Scalar>, memory: Tensor<Scalar>?) throws -> (Tensor<Scalar>, Tensor<Scalar>?)
}

extension LatentDynamics {
    /// Recurrent models roll out by repeating `step`, carrying the memory along.
    public func rollout(_ z0: Tensor<Scalar>, steps: Int) throws -> [Tensor<Scalar>] {
        var z = z0
        var memory: Tensor<Scalar>? = nil
        var states: [Tensor<Scalar>] = []
        for _ in 0..<steps {
            (z, memory) = try step(z, memory: memory)
            states.append(z)
        }
        return states
    }
}

/// dz/dt = f(z) integrated over `stepSize` per step (default one TR = 1 time unit).
public struct NeuralODEDynamics<Scalar: TensorScalar>: LatentDynamics {
    public var field: MLPVectorField<Scalar>
    public var method: ODEMethod
    public var options: ODEOptions
    public var stepSize: Double
    public var adjoint: Bool

    public var parameters: [(name: String, path: WritableKeyPath<NeuralODEDynamics, Tensor<Scalar>>)] {
        nested(\.field, prefix: "field")
    }

    public init(field: MLPVectorField<Scalar>, method: ODEMethod = .rk4, options: ODEOptions = ODEOptions(stepSize: 1),
                stepSize: Double = 1, adjoint: Bool = false) {
        self.field = field
        self.method = method
        self.options = options
        self.stepSize = stepSize
        self.adjoint = adjoint
    }

    public func rollout(_ z0: Tensor<Scalar>, steps: Int) throws -> [Tensor<Scalar>] {
        let times = (0...steps).map { Double($0) * stepSize }
        let solution = adjoint ? try odeSolveAdjoint(field, initial: z0, times: times, method: method, options: options)
            : try odeSolve(field, initial: z0, times: times, method: method, options: options)
        return Array(solution.states.dropFirst())
    }

    public func step(_ z: Tensor<Scalar>, memory: Tensor<Scalar>?) throws -> (Tensor<Scalar>, Tensor<Scalar>?) {
        (try rollout(z, steps: 1)[0], nil)
    }

    /// One step of dz/dt = f(z) + d with the drive d [B, D] held constant over the step.
    public func step(_ z: Tensor<Scalar>, drive: Tensor<Scalar>) throws -> Tensor<Scalar> {
        guard !adjoint else { throw ODEError("external inputs need the direct (non-adjoint) gradient; fit without `adjoint`") }
        let solution = try odeSolve(DrivenVectorField(base: field, drive: drive), initial: z, times: [0, stepSize], method: method, options: options)
        return solution.states[1]
    }
}

/// The GRU baseline: h_{t+1} = GRU(z_t, h_t), z_{t+1} = z_t + W h_{t+1} (h_0 = 0).
public struct GRUDynamics<Scalar: TensorScalar>: LatentDynamics {
    public var cell: GRU<Scalar>
    public var readout: Linear<Scalar>

    public var parameters: [(name: String, path: WritableKeyPath<GRUDynamics, Tensor<Scalar>>)] {
        nested(\.cell, prefix: "cell") + nested(\.readout, prefix: "readout")
    }

    public init(latent: Int, hidden: Int, random: inout RandomSource) {
        cell = GRU(inputSize: latent, hiddenSize: hidden, random: &random)
        readout = Linear(inputs: hidden, outputs: latent, bias: false, random: &random)
    }

    public func step(_ z: Tensor<Scalar>, memory: Tensor<Scalar>?) throws -> (Tensor<Scalar>, Tensor<Scalar>?) {
        let h = cell.step(z, memory ?? Tensor(zeros: [z.shape[0], cell.hiddenSize]))
        return (z + readout(h), h)
    }
}

/// A vanilla tanh RNN baseline: h_{t+1} = tanh(W_z z_t + W_h h_t + b), z_{t+1} = z_t + W h_{t+1}.
public struct TanhRNNDynamics<Scalar: TensorScalar>: LatentDynamics {
    public var input: Linear<Scalar>
    public var recurrent: Linear<Scalar>
    public var readout: Linear<Scalar>

    public var parameters: [(name: String, path: WritableKeyPath<TanhRNNDynamics, Tensor<Scalar>>)] {
        nested(\.input, prefix: "input") + nested(\.recurrent, prefix: "recurrent") + nested(\.readout, prefix: "readout")
    }

    public init(latent: Int, hidden: Int, random: inout RandomSource) {
        input = Linear(inputs: latent, outputs: hidden, random: &random)
        recurrent = Linear(inputs: hidden, outputs: hidden, bias: false, weightInitializer: .orthogonal(), random: &random)
        readout = Linear(inputs: hidden, outputs: latent, bias: false, random: &random)
    }

    public func step(_ z: Tensor<Scalar>, memory: Tensor<Scalar>?) throws -> (Tensor<Scalar>, Tensor<Scalar>?) {
        let previous = memory ?? Tensor(zeros: [z.shape[0], recurrent.weight.shape[0]])
        let h = (input(z) + recurrent(previous)).tanh()
        return (z + readout(h), h)
    }
}

/// Exact Jacobians of a map from [B, D] to [B, D] whose rows are independent (a vector field,
/// or one step of a recurrent map): one vector-Jacobian product per output coordinate.
public enum Jacobian {
    /// [B, D, D] with J[b, i, j] = d output[b, i] / d z[b, j].
    public static func evaluate<Scalar: TensorScalar>(at z: Tensor<Scalar>, _ map: (Tensor<Scalar>) -> Tensor<Scalar>) -> Tensor<Scalar> {
        let (batch, dimension) = (z.shape[0], z.shape[1])
        var result = [Scalar](repeating: 0, count: batch * dimension * dimension)
        for i in 0..<dimension {
            var seed = [Scalar](repeating: 0, count: batch * dimension)
            for b in 0..<batch { seed[b * dimension + i] = 1 }
            let selector = Tensor<Scalar>(shape: [batch, dimension], scalars: seed)
            let (_, gradient) = valueAndGradient(at: z) { (map($0) * selector).sum() }
            for b in 0..<batch {
                for j in 0..<dimension { result[(b * dimension + i) * dimension + j] = gradient.scalars[b * dimension + j] }
            }
        }
        return Tensor(shape: [batch, dimension, dimension], scalars: result)
    }
}
