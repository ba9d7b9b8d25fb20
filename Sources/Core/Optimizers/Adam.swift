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
        let settings = (lr: learningRate, b1: beta1, b2: beta2, eps: epsilon, wd: weightDecay, decoupled: decoupledWeightDecay,
                        c1: correction1, c2: correction2)
        // Taken out of the model and the state so the storages are uniquely owned and updated in
        // place (reading them through the stored tensors would copy them every step).
        var slots: [AdamSlot<Scalar>] = []
        for (name, path) in model.parameters {
            let g = gradient[keyPath: path].scalars
            let shape = model[keyPath: path].shape
            let parameter = model[keyPath: path].scalars
            model[keyPath: path] = Tensor(zeros: [0])
            let m = state.buffers.removeValue(forKey: name + ".exp_avg")?.scalars ?? TensorStorage(zeros: g.count)
            let v = state.buffers.removeValue(forKey: name + ".exp_avg_sq")?.scalars ?? TensorStorage(zeros: g.count)
            slots.append(AdamSlot(name: name, shape: shape, parameter: parameter, gradient: g, m: m, v: v, mask: masks?.masks[name]?.scalars))
        }
        // Tensors are shared out whole among the cores, largest first to the least loaded core
        // (two cores never touch one array). Each element's update is the same on any core, so
        // the result does not depend on how many there are.
        let workers = slots.reduce(0, { $0 + $1.gradient.count }) >= 32_768 ? max(1, min(ComputeThreads.cores, slots.count, 8)) : 1
        var assignment = [[Int]](repeating: [], count: workers), load = [Int](repeating: 0, count: workers)
        for index in slots.indices.sorted(by: { slots[$0].gradient.count > slots[$1].gradient.count }) {
            let worker = load.indices.min { load[$0] < load[$1] } ?? 0
            assignment[worker].append(index)
            load[worker] += slots[index].gradient.count
        }
        slots.withUnsafeMutableBufferPointer { all in
            nonisolated(unsafe) let shared = all
            let plan = assignment
            let body: @Sendable (Int) -> Void = { worker in
                for index in plan[worker] { shared[index].update(settings) }
            }
            if workers > 1 { DispatchQueue.concurrentPerform(iterations: workers, execute: body) } else { body(0) }
        }
        for (slot, (_, path)) in zip(slots, model.parameters) {
            model[keyPath: path] = Tensor(shape: slot.shape, scalars: slot.parameter)
            state.buffers[slot.name + ".exp_avg"] = Tensor(shape: slot.shape, scalars: slot.m)
            state.buffers[slot.name + ".exp_avg_sq"] = Tensor(shape: slot.shape, scalars: slot.v)
        }
    }
}

/// One parameter's buffers during an Adam update.
struct AdamSlot<Scalar: TensorScalar> {
    let name: String
    let shape: [Int]
    var parameter: TensorStorage<Scalar>
    let gradient: TensorStorage<Scalar>
    var m: TensorStorage<Scalar>, v: TensorStorage<Scalar>
    let mask: TensorStorage<Scalar>?

    /// Updates every element (the storages are uniquely owned: no copy on write).
    mutating func update(_ settings: (lr: Double, b1: Double, b2: Double, eps: Double, wd: Double, decoupled: Bool, c1: Double, c2: Double)) {
        parameter.withUnsafeMutableBufferPointer { p in
            gradient.withUnsafeBufferPointer { g in
                m.withUnsafeMutableBufferPointer { m in
                    v.withUnsafeMutableBufferPointer { v in
                        Adam<Scalar>.step(p, g, m, v, mask, settings)
                    }
                }
            }
        }
    }
}

import Dispatch
import Foundation

extension Adam {
    /// The element loop, specialised per scalar type (called once per parameter tensor).
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    static func step(_ p: UnsafeMutableBufferPointer<Scalar>, _ g: UnsafeBufferPointer<Scalar>, _ m: UnsafeMutableBufferPointer<Scalar>,
                     _ v: UnsafeMutableBufferPointer<Scalar>, _ mask: TensorStorage<Scalar>?,
                     _ s: (lr: Double, b1: Double, b2: Double, eps: Double, wd: Double, decoupled: Bool, c1: Double, c2: Double)) {
        // In the parameters' own precision, as PyTorch does (Float64 models, which the golden
        // trajectories use, are unaffected); branches hoisted out of the element loop.
        let count = p.count
        guard let pb = p.baseAddress, let gb = g.baseAddress, let mb = m.baseAddress, let vb = v.baseAddress else { return }
        let lr = Scalar(s.lr), b1 = Scalar(s.b1), b2 = Scalar(s.b2), eps = Scalar(s.eps), c1 = Scalar(s.c1), c2 = Scalar(s.c2)
        let oneMinusB1 = Scalar(1 - s.b1), oneMinusB2 = Scalar(1 - s.b2)
        let keep = Scalar(s.decoupled ? 1 - s.lr * s.wd : 1)
        let l2 = Scalar(s.decoupled ? 0 : s.wd)
        var start = 0
        if Scalar.self == Float.self {
            // Eight lanes at a time (the same operations in the same order per element).
            typealias V = SIMD8<Float>
            let (p8, g8, m8, v8) = (UnsafeMutableRawPointer(pb), UnsafeRawPointer(gb), UnsafeMutableRawPointer(mb), UnsafeMutableRawPointer(vb))
            let (lrV, b1V, b2V, epsV, c1V, c2V) = (V(repeating: Float(lr)), V(repeating: Float(b1)), V(repeating: Float(b2)),
                                                    V(repeating: Float(eps)), V(repeating: Float(c1)), V(repeating: Float(c2)))
            let (a1, a2, keepV, l2V) = (V(repeating: Float(oneMinusB1)), V(repeating: Float(oneMinusB2)), V(repeating: Float(keep)), V(repeating: Float(l2)))
            while start + 8 <= count {
                let offset = start * 4
                let pv = p8.loadUnaligned(fromByteOffset: offset, as: V.self)
                let d = g8.loadUnaligned(fromByteOffset: offset, as: V.self) + l2V * pv
                let mi = b1V * m8.loadUnaligned(fromByteOffset: offset, as: V.self) + a1 * d
                let vi = b2V * v8.loadUnaligned(fromByteOffset: offset, as: V.self) + a2 * d * d
                m8.storeBytes(of: mi, toByteOffset: offset, as: V.self)
                v8.storeBytes(of: vi, toByteOffset: offset, as: V.self)
                p8.storeBytes(of: pv * keepV - lrV * (mi / c1V) / ((vi / c2V).squareRoot() + epsV), toByteOffset: offset, as: V.self)
                start += 8
            }
        }
        for i in start..<count {
            let parameter = pb[i] * keep
            let d = gb[i] + l2 * pb[i]
            let mi = b1 * mb[i] + oneMinusB1 * d
            let vi = b2 * vb[i] + oneMinusB2 * d * d
            mb[i] = mi
            vb[i] = vi
            pb[i] = parameter - lr * (mi / c1) / ((vi / c2).squareRoot() + eps)
        }
        mask?.withUnsafeBufferPointer { mask in
            for i in 0..<count where mask[i] == 0 { pb[i] = 0 }
        }
    }
}
