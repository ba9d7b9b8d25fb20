/// Stochastic gradient descent with momentum, PyTorch's rule (dampening 0):
/// g += wd p; b = mu b + g (b = g at the first step); p -= lr (nesterov ? g + mu b : b).
public struct SGD<Scalar: TensorScalar>: Optimizer {
    public var learningRate: Double
    public var momentum: Double
    public var weightDecay: Double
    public var nesterov: Bool
    public var state = OptimizerState<Scalar>()

    public init(learningRate: Double, momentum: Double = 0, weightDecay: Double = 0, nesterov: Bool = false) {
        self.learningRate = learningRate
        self.momentum = momentum
        self.weightDecay = weightDecay
        self.nesterov = nesterov
    }

    public mutating func update<M: Module>(_ model: inout M, along gradient: M, masks: ParameterMasks<Scalar>?) where M.Scalar == Scalar {
        state.step += 1
        for (name, path) in model.parameters {
            let g = gradient[keyPath: path].scalars.array
            let mask = masks?.masks[name]?.scalars.array
            var buffer = state.buffers[name + ".momentum"]?.scalars.array
            let first = buffer == nil
            if momentum != 0 && first { buffer = [Scalar](repeating: 0, count: g.count) }
            let (lr, mu, wd, nesterov) = (learningRate, momentum, weightDecay, self.nesterov)
            model[keyPath: path].withUnsafeMutableScalars { p in
                for i in 0..<p.count {
                    var d = Double(g[i]) + wd * Double(p[i])
                    if mu != 0 {
                        let b = first ? d : mu * Double(buffer![i]) + d
                        buffer![i] = Scalar(b)
                        d = nesterov ? d + mu * b : b
                    }
                    p[i] = Scalar(Double(p[i]) - lr * d)
                    if let mask, mask[i] == 0 { p[i] = 0 }
                }
            }
            if let buffer { state.buffers[name + ".momentum"] = Tensor(shape: gradient[keyPath: path].shape, scalars: buffer) }
        }
    }
}
