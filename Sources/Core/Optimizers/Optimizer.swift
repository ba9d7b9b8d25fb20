/// Per-parameter optimizer state, keyed by parameter name (saved in checkpoints).
public struct OptimizerState<Scalar: TensorScalar>: Equatable {
    public var step: Int = 0
    /// Named moment buffers: "<parameter>.momentum", ".exp_avg", ".exp_avg_sq".
    public var buffers: [String: Tensor<Scalar>] = [:]

    public init() {}
}

/// Parameter masks that updates respect: a masked weight (mask 0) stays exactly zero.
public struct ParameterMasks<Scalar: TensorScalar>: Equatable {
    /// Parameter name -> 0/1 tensor of the parameter's shape.
    public var masks: [String: Tensor<Scalar>] = [:]

    public init(_ masks: [String: Tensor<Scalar>] = [:]) { self.masks = masks }

    /// Zeroes the masked entries of every masked parameter of `model`.
    public func apply<M: Module>(to model: inout M) where M.Scalar == Scalar {
        for (name, path) in model.parameters {
            guard let mask = masks[name] else { continue }
            model[keyPath: path] = (model[keyPath: path] * mask).detached
        }
    }
}

/// Updates a model's parameters in place from a gradient shaped like the model.
public protocol Optimizer {
    associatedtype Scalar: TensorScalar
    var learningRate: Double { get set }
    var state: OptimizerState<Scalar> { get set }
    mutating func update<M: Module>(_ model: inout M, along gradient: M, masks: ParameterMasks<Scalar>?) where M.Scalar == Scalar
}

extension Optimizer {
    public mutating func update<M: Module>(_ model: inout M, along gradient: M) where M.Scalar == Scalar {
        update(&model, along: gradient, masks: nil)
    }
}

/// Element loops shared by the optimizers (Float64 arithmetic on each element).
enum UpdateKernel {
    static func apply<Scalar: TensorScalar>(_ parameter: inout Tensor<Scalar>, _ body: (UnsafeMutableBufferPointer<Scalar>) -> Void) {
        parameter.withUnsafeMutableScalars(body)
    }
}

/// Gradient clipping by global norm, as torch.nn.utils.clip_grad_norm_: when the norm of all
/// gradients together exceeds `maxNorm`, every gradient is scaled by maxNorm / (norm + 1e-6).
/// Returns the norm before clipping.
@discardableResult
public func clipGradientNorm<M: Module>(_ gradient: inout M, maxNorm: Double) -> Double {
    var total = 0.0
    for (_, path) in gradient.parameters {
        let squares = gradient[keyPath: path].squared().sum()
        total += Double(squares.scalar)
    }
    let norm = total.squareRoot()
    let coefficient = maxNorm / (norm + 1e-6)
    if coefficient < 1 {
        for (_, path) in gradient.parameters {
            gradient[keyPath: path] = (gradient[keyPath: path] * M.Scalar(coefficient)).detached
        }
    }
    return norm
}
