/// Adam (Kingma and Ba) and AdamW (decoupled weight decay, Loshchilov and Hutter) with
/// PyTorch's update rules and defaults (betas 0.9/0.999, eps 1e-8):
///
///     Adam:  g += wd p
///     AdamW: p *= 1 - lr wd
///     m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2
///     p -= lr (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)
public struct Adam<Scalar: TensorScalar>: Optimizer {
    public var learningRate: Double
    public var beta1: Double
    public var beta2: Double
    public var epsilon: Double
    public var weightDecay: Double
    /// AdamW's decoupled decay instead of Adam's L2 term.
    public var decoupledWeightDecay: Bool
    public var state = OptimizerState<Scalar>()

    public init(learningRate: Double = 1e-3, beta1: Double = 0.9, beta2: Double = 0.999, epsilon: Double = 1e-8,
                weightDecay: Double = 0, decoupledWeightDecay: Bool = false) {
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.decoupledWeightDecay = decoupledWeightDecay
    }

    /// AdamW with PyTorch's default weight decay 0.01.
    public static func adamW(learningRate: Double = 1e-3, weightDecay: Double = 0.01) -> Adam {
        Adam(learningRate: learningRate, weightDecay: weightDecay, decoupledWeightDecay: true)
    }

    public mutating func update<M: Module>(_ model: inout M, along gradient: M, masks: ParameterMasks<Scalar>?) where M.Scalar == Scalar {
        state.step += 1
        let t = Double(state.step)
        let correction1 = 1 - Foundation.pow(beta1, t), correction2 = 1 - Foundation.pow(beta2, t)
        for (name, path) in model.parameters {
            let g = gradient[keyPath: path].scalars
            let shape = gradient[keyPath: path].shape
            let mask = masks?.masks[name]?.scalars
            var m = state.buffers[name + ".exp_avg"]?.scalars ?? [Scalar](repeating: 0, count: g.count)
            var v = state.buffers[name + ".exp_avg_sq"]?.scalars ?? [Scalar](repeating: 0, count: g.count)
            let settings = (lr: learningRate, b1: beta1, b2: beta2, eps: epsilon, wd: weightDecay, decoupled: decoupledWeightDecay,
                            c1: correction1, c2: correction2)
            model[keyPath: path].withUnsafeMutableScalars { p in
                g.withUnsafeBufferPointer { g in
                    m.withUnsafeMutableBufferPointer { m in
                        v.withUnsafeMutableBufferPointer { v in
                            Self.step(p, g, m, v, mask, settings)
                        }
                    }
                }
            }
            state.buffers[name + ".exp_avg"] = Tensor(shape: shape, scalars: m)
            state.buffers[name + ".exp_avg_sq"] = Tensor(shape: shape, scalars: v)
        }
    }
}

import Foundation

extension Adam {
    /// The element loop, specialised per scalar type (called once per parameter tensor).
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    static func step(_ p: UnsafeMutableBufferPointer<Scalar>, _ g: UnsafeBufferPointer<Scalar>, _ m: UnsafeMutableBufferPointer<Scalar>,
                     _ v: UnsafeMutableBufferPointer<Scalar>, _ mask: [Scalar]?,
                     _ s: (lr: Double, b1: Double, b2: Double, eps: Double, wd: Double, decoupled: Bool, c1: Double, c2: Double)) {
        for i in 0..<p.count {
            var parameter = Double(p[i])
            var d = Double(g[i])
            if s.decoupled { parameter *= 1 - s.lr * s.wd } else { d += s.wd * parameter }
            let mi = s.b1 * Double(m[i]) + (1 - s.b1) * d
            let vi = s.b2 * Double(v[i]) + (1 - s.b2) * d * d
            m[i] = Scalar(mi)
            v[i] = Scalar(vi)
            parameter -= s.lr * (mi / s.c1) / ((vi / s.c2).squareRoot() + s.eps)
            p[i] = Scalar(parameter)
            if let mask, mask[i] == 0 { p[i] = 0 }
        }
    }
}
