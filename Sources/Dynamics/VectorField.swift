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
