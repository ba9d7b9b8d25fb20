/// A model or layer: its trainable tensors, named (the checkpoint names) and reached by
/// explicit key paths, so optimizers, masks and checkpoints need no reflection.
public protocol Module {
    associatedtype Scalar: TensorScalar
    /// Every parameter, in a fixed order. Names are dotted paths (`encoder.forward.weight_ih`).
    var parameters: [(name: String, path: WritableKeyPath<Self, Tensor<Scalar>>)] { get }
}

extension Module {
    /// Parameters of a nested module under `prefix`.
    public func nested<Child: Module>(_ child: WritableKeyPath<Self, Child>, prefix: String) -> [(name: String, path: WritableKeyPath<Self, Tensor<Scalar>>)]
    where Child.Scalar == Scalar {
        self[keyPath: child].parameters.map { (name: "\(prefix).\($0.name)", path: child.appending(path: $0.path)) }
    }

    /// Parameters of an optional nested module (none when it is nil).
    public func nested<Child: Module>(optional child: WritableKeyPath<Self, Child?>, prefix: String) -> [(name: String, path: WritableKeyPath<Self, Tensor<Scalar>>)]
    where Child.Scalar == Scalar {
        guard let value = self[keyPath: child] else { return [] }
        let forceUnwrap: WritableKeyPath<Child?, Child> = \.!
        let unwrapped: WritableKeyPath<Self, Child> = child.appending(path: forceUnwrap)
        return value.parameters.map { (name: "\(prefix).\($0.name)", path: unwrapped.appending(path: $0.path)) }
    }

    /// Total number of trainable scalars.
    public var parameterCount: Int { parameters.reduce(0) { $0 + self[keyPath: $1.path].count } }

    /// Parameter tensors by name.
    public var namedParameters: [(String, Tensor<Scalar>)] { parameters.map { ($0.name, self[keyPath: $0.path]) } }
}

/// Differentiates `loss(model)` with respect to every parameter of `model`.
///
/// - Returns: the loss value and a gradient shaped like the model: a copy of `model` whose
///   parameters hold d loss / d parameter (zeros where the loss does not depend on one).
public func valueAndGradient<M: Module>(of model: M, _ loss: (M) throws -> Tensor<M.Scalar>) rethrows -> (value: M.Scalar, gradient: M) {
    let tape = Tape<M.Scalar>()
    var tracked = model
    var nodes: [Int] = []
    for (_, path) in model.parameters {
        var parameter = model[keyPath: path].detached
        parameter.tape = tape
        parameter.node = tape.leaf(shape: parameter.shape)
        nodes.append(parameter.node)
        tracked[keyPath: path] = parameter
    }
    let output = try loss(tracked)
    precondition(output.count == 1, "the loss must be a single value, its shape is \(output.shape)")
    var gradient = model
    guard output.tape === tape else {
        for (_, path) in model.parameters { gradient[keyPath: path] = Tensor(zeros: model[keyPath: path].shape) }
        return (output.scalar, gradient)
    }
    let gradients = tape.gradients(of: output.node, seed: Tensor(repeating: 1, shape: output.shape))
    for ((_, path), node) in zip(model.parameters, nodes) {
        gradient[keyPath: path] = gradients[node] ?? Tensor(zeros: model[keyPath: path].shape)
    }
    return (output.scalar, gradient)
}

/// Gradient of a function of one tensor (used by tests and by Jacobian code).
public func valueAndGradient<Scalar: TensorScalar>(at input: Tensor<Scalar>, _ function: (Tensor<Scalar>) -> Tensor<Scalar>) -> (value: Scalar, gradient: Tensor<Scalar>) {
    let (value, gradient) = valueAndGradient(of: SingleTensor(value: input)) { function($0.value) }
    return (value, gradient.value)
}

/// One tensor as a module (differentiating with respect to an input).
public struct SingleTensor<Scalar: TensorScalar>: Module {
    public var value: Tensor<Scalar>
    public init(value: Tensor<Scalar>) { self.value = value }
    public var parameters: [(name: String, path: WritableKeyPath<SingleTensor<Scalar>, Tensor<Scalar>>)] { [("value", \.value)] }
}
