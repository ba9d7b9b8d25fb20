import Core

/// The right-hand side of dz/dt = f(t, z) with trainable parameters.
public protocol VectorField: Module {
    /// z: [B, D] -> dz/dt: [B, D].
    func callAsFunction(_ t: Double, _ z: Tensor<Scalar>) -> Tensor<Scalar>
}

/// An MLP vector field f(z) = MLP(z) - leak z: widths [D, hidden..., D], tanh or softplus
/// between layers (the torchdiffeq FAQ advises against ReLU: its field is not smooth),
/// optionally a zero last layer (training starts from the identity flow, or with a leak from
/// a uniform decay towards 0) and time as an extra input.
///
/// Why a leak: a field that starts at zero holds every state where it is (a continuous
/// attractor), and data that only show the state resting where the task left it never ask it
/// to form basins. With a fixed decay, holding a state is something the network must learn,
/// point by point, which is what a fixed point is.
public struct MLPVectorField<Scalar: TensorScalar>: VectorField {
    public var network: MLP<Scalar>
    public let usesTime: Bool
    /// A fixed (not trained) linear decay rate, per unit of time (0: none).
    public let leak: Double

    public var parameters: [(name: String, path: WritableKeyPath<MLPVectorField, Tensor<Scalar>>)] {
        nested(\.network, prefix: "network")
    }

    public init(dimension: Int, hidden: [Int], activation: Activation = .tanh, zeroLastLayer: Bool = false,
                usesTime: Bool = false, leak: Double = 0, random: inout RandomSource) {
        self.usesTime = usesTime
        self.leak = leak
        network = MLP(widths: [dimension + (usesTime ? 1 : 0)] + hidden + [dimension], activation: activation,
                      zeroLastLayer: zeroLastLayer, random: &random)
    }

    public init(network: MLP<Scalar>, usesTime: Bool = false, leak: Double = 0) {
        self.network = network
        self.usesTime = usesTime
        self.leak = leak
    }

    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func callAsFunction(_ t: Double, _ z: Tensor<Scalar>) -> Tensor<Scalar> {
        let f: Tensor<Scalar>
        if usesTime {
            let time = Tensor<Scalar>(repeating: Scalar(t), shape: [z.shape[0], 1])
            f = network(Tensor.concatenate([z, time], alongAxis: 1))
        } else {
            f = network(z)
        }
        return leak == 0 ? f : f - z * Scalar(leak)
    }

    /// The same field in another scalar type (Float32 training, Float64 analysis), with its
    /// time input and leak: the one place a copy is made, so no setting is dropped.
    public func converted<Other: TensorScalar>() -> MLPVectorField<Other> {
        let layers = network.layers.map { Linear<Other>(weight: $0.weight.converted(), bias: $0.bias?.converted()) }
        return MLPVectorField<Other>(network: MLP(layers: layers, activation: network.activation), usesTime: usesTime, leak: leak)
    }
}

/// dz/dt = f(t, z) + d with a constant drive d [B, D] (an external input's contribution over one
/// step). The drive is an input, not a parameter: its gradient flows through the tape of the
/// forward solve (so adjoint solves, which re-run the field off the tape, cannot use it).
public struct DrivenVectorField<Base: VectorField>: VectorField {
    public typealias Scalar = Base.Scalar
    public var base: Base
    public let drive: Tensor<Scalar>

    public var parameters: [(name: String, path: WritableKeyPath<DrivenVectorField, Tensor<Scalar>>)] {
        nested(\.base, prefix: "base")
    }

    public init(base: Base, drive: Tensor<Scalar>) {
        self.base = base
        self.drive = drive
    }

    public func callAsFunction(_ t: Double, _ z: Tensor<Scalar>) -> Tensor<Scalar> { base(t, z) + drive }
}
