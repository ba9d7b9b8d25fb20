import Core
import Foundation

/// Drop-and-grow dynamic sparse training at constant density: SET (Mocanu et al. 2018, random
/// growth) and RigL (Evci et al. 2020, growth by gradient magnitude).
///
/// Every `updateInterval` steps until `endFraction` of training, each masked layer drops the
/// fraction f_t of its active weights with the smallest |w| and grows as many among its inactive
/// weights (randomly, or those with the largest |gradient|). f_t = f_0 / 2 (1 + cos(pi t / T_end))
/// (RigL's cosine decay). Grown weights start at zero with their Adam moments reset, so the
/// layer's density never changes.
public struct DynamicSparseTraining: MaskSchedule {
    public enum Growth: String, Sendable, CaseIterable {
        case random = "set"
        case gradient = "rigl"
    }

    public var growth: Growth
    public var updateInterval: Int
    public var dropFraction: Double
    public var endFraction: Double
    public var seed: UInt64

    public init(growth: Growth, updateInterval: Int = 100, dropFraction: Double = 0.3, endFraction: Double = 0.75, seed: UInt64 = 1) {
        self.growth = growth
        self.updateInterval = updateInterval
        self.dropFraction = dropFraction
        self.endFraction = endFraction
        self.seed = seed
    }

    /// The drop fraction at `step` of `totalSteps` (0 after the end of updates).
    public func fraction(step: Int, totalSteps: Int) -> Double {
        let end = Double(totalSteps) * endFraction
        guard Double(step) < end else { return 0 }
        return dropFraction / 2 * (1 + Foundation.cos(Double.pi * Double(step) / end))
    }

    public func update<M: Module>(step: Int, totalSteps: Int, model: inout M, gradient: M, masks: inout ParameterMasks<M.Scalar>,
                                  optimizer: inout OptimizerState<M.Scalar>) where M.Scalar == Float {
        guard updateInterval > 0, step % updateInterval == 0 else { return }
        let fraction = fraction(step: step, totalSteps: totalSteps)
        guard fraction > 0 else { return }
        var random = RandomSource(seed: seed &+ UInt64(step) &* 0x9E37_79B9_7F4A_7C15)
        for (name, path) in model.parameters {
            guard var mask = masks.masks[name]?.scalars else { continue }
            var weights = model[keyPath: path].scalars
            let active = mask.indices.filter { mask[$0] != 0 }
            let inactive = mask.indices.filter { mask[$0] == 0 }
            let count = min(Int((Double(active.count) * fraction).rounded()), inactive.count)
            guard count > 0 else { continue }
            // Drop: smallest magnitude first (index order on ties, for determinism).
            let dropped = active.sorted { abs(weights[$0]) != abs(weights[$1]) ? abs(weights[$0]) < abs(weights[$1]) : $0 < $1 }.prefix(count)
            // Grow among the weights inactive before this update (RigL/SET never regrow what they just dropped).
            let grown: [Int]
            switch growth {
            case .random:
                var candidates = inactive
                candidates.shuffle(using: &random)
                grown = Array(candidates.prefix(count))
            case .gradient:
                let g = gradient[keyPath: path].scalars
                grown = Array(inactive.sorted { abs(g[$0]) != abs(g[$1]) ? abs(g[$0]) > abs(g[$1]) : $0 < $1 }.prefix(count))
            }
            for index in dropped { mask[index] = 0; weights[index] = 0 }
            for index in grown { mask[index] = 1; weights[index] = 0 }
            let shape = model[keyPath: path].shape
            model[keyPath: path] = Tensor(shape: shape, scalars: weights)
            masks.masks[name] = Tensor(shape: shape, scalars: mask)
            for suffix in [".exp_avg", ".exp_avg_sq", ".momentum"] {
                guard var buffer = optimizer.buffers[name + suffix]?.scalars else { continue }
                for index in grown { buffer[index] = 0 }
                for index in dropped { buffer[index] = 0 }
                optimizer.buffers[name + suffix] = Tensor(shape: shape, scalars: buffer)
            }
        }
    }
}

/// Gradual magnitude pruning with the cubic schedule of Zhu and Gupta (2017): from step
/// `start`, every `interval` steps, the sparsity target is
/// s_t = s_f + (s_i - s_f) (1 - (t - start) / (end - start))^3, reached by magnitude over the
/// weights still active (masks only ever lose entries), constant after `end`.
public struct IterativeMagnitudePruning: MaskSchedule {
    public var finalSparsity: Double
    public var initialSparsity: Double
    public var startFraction: Double
    public var endFraction: Double
    public var interval: Int
    public var scope: PruningScope

    public init(finalSparsity: Double, initialSparsity: Double = 0, startFraction: Double = 0.1, endFraction: Double = 0.75,
                interval: Int = 50, scope: PruningScope = .global) {
        self.finalSparsity = finalSparsity
        self.initialSparsity = initialSparsity
        self.startFraction = startFraction
        self.endFraction = endFraction
        self.interval = interval
        self.scope = scope
    }

    /// The target sparsity at `step` of `totalSteps`.
    public func sparsity(step: Int, totalSteps: Int) -> Double {
        let start = Double(totalSteps) * startFraction, end = Double(totalSteps) * endFraction
        if Double(step) < start { return initialSparsity }
        if Double(step) >= end { return finalSparsity }
        let progress = (Double(step) - start) / (end - start)
        return finalSparsity + (initialSparsity - finalSparsity) * Foundation.pow(1 - progress, 3)
    }

    public func update<M: Module>(step: Int, totalSteps: Int, model: inout M, gradient: M, masks: inout ParameterMasks<M.Scalar>,
                                  optimizer: inout OptimizerState<M.Scalar>) where M.Scalar == Float {
        let lastPruningStep = Int((Double(totalSteps) * endFraction).rounded(.up))
        guard interval > 0, step % interval == 0 || step == lastPruningStep else { return }
        let target = sparsity(step: step, totalSteps: totalSteps)
        guard target > 0 else { return }
        let names = model.parameters.map(\.name).filter { masks.masks[$0] != nil }
        var scores = Pruning.scores(model, names: names, criterion: .magnitude)
        // Pruned weights stay pruned: they score below every active weight.
        for name in names {
            guard let mask = masks.masks[name]?.scalars, var values = scores[name] else { continue }
            for index in values.indices where mask[index] == 0 { values[index] = -1 }
            scores[name] = values
        }
        let shapes = Dictionary(uniqueKeysWithValues: model.parameters.filter { names.contains($0.name) }.map { ($0.name, model[keyPath: $0.path].shape) })
        let next = Pruning.masks(scores: scores, order: names, shapes: shapes, sparsity: target, scope: scope)
        for (name, mask) in next.masks { masks.masks[name] = mask }
        masks.apply(to: &model)
    }
}

/// Group sparse projection during training: every `interval` steps until `endFraction` of
/// training, the rows of the masked weight matrices are projected to average Hoyer sparsity
/// `hoyerTarget`, per layer or all layers as one group (`grouping`) (weights may come back between projections); at
/// `endFraction` the layers are pruned by magnitude to `finalSparsity` and the mask is fixed
/// for the rest of training (fine-tuning).
public struct GroupSparseTraining: MaskSchedule {
    /// Which vectors form one group for the projection.
    public enum Grouping: String, Sendable, CaseIterable {
        /// Each layer's rows form its own group (every layer reaches the target on average).
        case layer
        /// All prunable layers' rows form one group (the target holds for the model on average).
        case model
    }

    public var hoyerTarget: Double
    public var finalSparsity: Double
    public var interval: Int
    public var endFraction: Double
    public var scope: PruningScope
    public var grouping: Grouping

    public init(hoyerTarget: Double, finalSparsity: Double, interval: Int = 50, endFraction: Double = 0.75, scope: PruningScope = .global,
                grouping: Grouping = .layer) {
        self.grouping = grouping
        self.hoyerTarget = hoyerTarget
        self.finalSparsity = finalSparsity
        self.interval = interval
        self.endFraction = endFraction
        self.scope = scope
    }

    public func update<M: Module>(step: Int, totalSteps: Int, model: inout M, gradient: M, masks: inout ParameterMasks<M.Scalar>,
                                  optimizer: inout OptimizerState<M.Scalar>) where M.Scalar == Float {
        let end = Int((Double(totalSteps) * endFraction).rounded(.up))
        let names = model.parameters.map(\.name).filter { masks.masks[$0] != nil }
        if step == end {
            let shapes = Dictionary(uniqueKeysWithValues: model.parameters.filter { names.contains($0.name) }.map { ($0.name, model[keyPath: $0.path].shape) })
            let next = Pruning.masks(scores: Pruning.scores(model, names: names, criterion: .magnitude), order: names, shapes: shapes,
                                     sparsity: finalSparsity, scope: scope)
            for (name, mask) in next.masks { masks.masks[name] = mask }
            masks.apply(to: &model)
            return
        }
        guard step < end, interval > 0, step % interval == 0 else { return }
        // Rows of each 2-D layer as vectors; projected per layer or all together.
        let layers = model.parameters.filter { names.contains($0.name) && model[keyPath: $0.path].rank == 2 && model[keyPath: $0.path].shape[1] > 1 }
        func rows(_ tensor: Tensor<Float>) -> [[Double]] {
            let (count, columns) = (tensor.shape[0], tensor.shape[1])
            return (0..<count).map { r in (0..<columns).map { Double(tensor.scalars[r * columns + $0]) } }
        }
        let groups: [[(name: String, path: WritableKeyPath<M, Tensor<Float>>)]] = grouping == .model ? [layers] : layers.map { [$0] }
        for group in groups {
            let vectors = group.map { rows(model[keyPath: $0.path]) }
            let projected = GroupSparseProjection.project(vectors.flatMap { $0 }, target: hoyerTarget)
            var offset = 0
            for (layer, original) in zip(group, vectors) {
                let part = projected[offset..<(offset + original.count)]
                offset += original.count
                model[keyPath: layer.path] = Tensor(shape: model[keyPath: layer.path].shape, scalars: part.flatMap { $0.map(Float.init) })
            }
        }
    }
}
