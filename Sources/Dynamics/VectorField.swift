import Core

/// The right-hand side of dz/dt = f(t, z) with trainable parameters.
public protocol VectorField: Module {
    /// z: [B, D] -> dz/dt: [B, D].
    func callAsFunction(_ t: Double, _ z: Tensor<Scalar>) -> Tensor<Scalar>
}

/// An MLP vector field: widths [D, hidden..., D], tanh or softplus between layers (the
/// torchdiffeq FAQ advises against ReLU: its field is not smooth), optionally a zero last layer
/// (training starts from the identity flow) and time as an extra input.
public struct MLPVectorField<Scalar: TensorScalar>: VectorField {
    public var network: MLP<Scalar>
    public let usesTime: Bool

    public var parameters: [(name: String, path: WritableKeyPath<MLPVectorField, Tensor<Scalar>>)] {
        nested(\.network, prefix: "network")
    }

    public init(dimension: Int, hidden: [Int], activation: Activation = .tanh, zeroLastLayer: Bool = false,
                usesTime: Bool = false, random: inout RandomSource) {
        self.usesTime = usesTime
        network = MLP(widths: [dimension + (usesTime ? 1 : 0)] + hidden + [dimension], activation: activation,
                      zeroLastLayer: zeroLastLayer, random: &random)
    }

    public init(network: MLP<Scalar>, usesTime: Bool = false) {
        self.network = network
        self.usesTime = usesTime
    }

    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func callAsFunction(_ t: Double, _ z: Tensor<Scalar>) -> Tensor<Scalar> {
        guard usesTime else { return network(z) }
        let time = Tensor<Scalar>(repeating: Scalar(t), shape: [z.shape[0], 1])
        return network(Tensor.concatenate([z, time], alongAxis: 1))
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
