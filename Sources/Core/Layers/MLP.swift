/// Activation functions for `MLP`.
public enum Activation: String, Sendable, Codable, CaseIterable {
    case tanh, softplus, relu, elu, sigmoid, identity

    public func callAsFunction<Scalar>(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
        switch self {
        case .tanh: return x.tanh()
        case .softplus: return x.softplus()
        case .relu: return x.relu()
        case .elu: return x.elu()
        case .sigmoid: return x.sigmoid()
        case .identity: return x
        }
    }
}

/// A multilayer perceptron: Linear layers of the given widths with an activation between
/// them (none after the last). `zeroLastLayer` starts the output at exactly zero.
public struct MLP<Scalar: TensorScalar>: Module {
    public var layers: [Linear<Scalar>]
    public let activation: Activation

    public var parameters: [(name: String, path: WritableKeyPath<MLP, Tensor<Scalar>>)] {
        layers.indices.flatMap { index -> [(name: String, path: WritableKeyPath<MLP, Tensor<Scalar>>)] in
            let layer: WritableKeyPath<MLP, Linear<Scalar>> = \MLP.layers[index]
            return layers[index].parameters.map { (name: "layers.\(index).\($0.name)", path: layer.appending(path: $0.path)) }
        }
    }

    /// - Parameter widths: [inputs, hidden..., outputs].
    public init(widths: [Int], activation: Activation, zeroLastLayer: Bool = false, random: inout RandomSource) {
        precondition(widths.count >= 2, "an MLP needs input and output widths")
        self.activation = activation
        var layers: [Linear<Scalar>] = []
        for index in 0..<(widths.count - 1) {
            let isLast = index == widths.count - 2
            layers.append(Linear(inputs: widths[index], outputs: widths[index + 1], zeroInitialized: isLast && zeroLastLayer, random: &random))
        }
        self.layers = layers
    }

    public init(layers: [Linear<Scalar>], activation: Activation) {
        self.layers = layers
        self.activation = activation
    }

    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
        var h = x
        for (index, layer) in layers.enumerated() {
            h = layer(h)
            if index < layers.count - 1 { h = activation(h) }
        }
        return h
    }
}
