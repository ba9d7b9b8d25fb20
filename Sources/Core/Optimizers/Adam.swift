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
            let (lr, b1, b2, eps, wd, decoupled) = (learningRate, beta1, beta2, epsilon, weightDecay, decoupledWeightDecay)
            model[keyPath: path].withUnsafeMutableScalars { p in
                for i in 0..<p.count {
                    var parameter = Double(p[i])
                    var d = Double(g[i])
                    if decoupled { parameter *= 1 - lr * wd } else { d += wd * parameter }
                    let mi = b1 * Double(m[i]) + (1 - b1) * d
                    let vi = b2 * Double(v[i]) + (1 - b2) * d * d
                    m[i] = Scalar(mi)
                    v[i] = Scalar(vi)
                    parameter -= lr * (mi / correction1) / ((vi / correction2).squareRoot() + eps)
                    p[i] = Scalar(parameter)
                    if let mask, mask[i] == 0 { p[i] = 0 }
                }
            }
            state.buffers[name + ".exp_avg"] = Tensor(shape: shape, scalars: m)
            state.buffers[name + ".exp_avg_sq"] = Tensor(shape: shape, scalars: v)
        }
    }
}

import Foundation
