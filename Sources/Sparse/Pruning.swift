import Core
import Foundation

/// Which parameters may be pruned: weight matrices (rank >= 2) by default; biases and vectors
/// stay dense unless asked.
public func prunableParameters<M: Module>(_ model: M, includeVectors: Bool = false) -> [String] {
    model.parameters.filter { includeVectors || model[keyPath: $0.path].rank >= 2 }.map(\.name)
}

/// How a sparsity target is spread over layers.
public enum PruningScope: String, Sendable, CaseIterable {
    /// One threshold over all prunable weights.
    case global
    /// The same density in every layer.
    case layer
    /// Erdos-Renyi-Kernel densities: proportional to (sum of dims) / (product of dims),
    /// layers that would exceed 1 kept dense and the rest re-solved.
    case erk
}

/// Saliency criteria.
public enum PruningCriterion {
    case magnitude
    case random(seed: UInt64)
    /// |gradient x weight| (SNIP), from gradients averaged over batches at initialisation.
    case snip(gradients: [String: Tensor<Float>])
}

public enum Pruning {
    /// Per-parameter scores for a criterion.
    public static func scores<M: Module>(_ model: M, names: [String], criterion: PruningCriterion) -> [String: [Double]]
    where M.Scalar == Float {
        var random: RandomSource? = nil
        if case .random(let seed) = criterion { random = RandomSource(seed: seed) }
        var result: [String: [Double]] = [:]
        for (name, path) in model.parameters where names.contains(name) {
            let weights = model[keyPath: path].scalars
            switch criterion {
            case .magnitude: result[name] = weights.map { Double(abs($0)) }
            case .random: result[name] = weights.map { _ in random!.uniform() }
            case .snip(let gradients):
                let g = gradients[name]?.scalars.array ?? [Float](repeating: 0, count: weights.count)
                result[name] = zip(weights, g).map { Double(abs($0 * $1)) }
            }
        }
        return result
    }

    /// Per-layer densities for a target sparsity (fraction of prunable weights removed).
    public static func densities(shapes: [String: [Int]], sparsity: Double, scope: PruningScope) -> [String: Double] {
        let density = 1 - sparsity
        switch scope {
        case .global, .layer:
            return shapes.mapValues { _ in density }
        case .erk:
            let counts = shapes.mapValues { Double($0.reduce(1, *)) }
            let raw = shapes.mapValues { Double($0.reduce(0, +)) / Double($0.reduce(1, *)) }
            let total = counts.values.reduce(0, +)
            var dense = Set<String>()
            while true {
                // density_l = epsilon * raw_l for sparse layers; dense layers keep all weights.
                let denseCount = dense.reduce(0.0) { $0 + (counts[$1] ?? 0) }
                let budget = density * total - denseCount
                let weighted = counts.keys.filter { !dense.contains($0) }.reduce(0.0) { $0 + (raw[$1] ?? 0) * (counts[$1] ?? 0) }
                let epsilon = weighted > 0 ? budget / weighted : 0
                let over = counts.keys.filter { !dense.contains($0) && epsilon * (raw[$0] ?? 0) > 1 }
                if over.isEmpty {
                    return Dictionary(uniqueKeysWithValues: counts.keys.map { ($0, dense.contains($0) ? 1 : min(1, epsilon * (raw[$0] ?? 0))) })
                }
                dense.formUnion(over)
            }
        }
    }

    /// Masks keeping exactly round(density x count) weights per layer (global: exactly
    /// round((1 - sparsity) x total) overall) with the highest scores; ties broken by
    /// parameter order then index, so the result is deterministic.
    public static func masks(scores: [String: [Double]], order: [String], shapes: [String: [Int]], sparsity: Double,
                             scope: PruningScope) -> ParameterMasks<Float> {
        var keep: [String: Set<Int>] = [:]
        func top(_ items: [(name: String, index: Int, score: Double)], _ count: Int) -> [(name: String, index: Int, score: Double)] {
            let rank = Dictionary(uniqueKeysWithValues: order.enumerated().map { ($1, $0) })
            return Array(items.sorted {
                $0.score != $1.score ? $0.score > $1.score
                    : (rank[$0.name] ?? 0, $0.index) < (rank[$1.name] ?? 0, $1.index)
            }.prefix(count))
        }
        if scope == .global {
            let items = order.flatMap { name in (scores[name] ?? []).enumerated().map { (name: name, index: $0, score: $1) } }
            let count = Int((Double(items.count) * (1 - sparsity)).rounded())
            for item in top(items, count) { keep[item.name, default: []].insert(item.index) }
        } else {
            let density = densities(shapes: shapes, sparsity: sparsity, scope: scope)
            for name in order {
                let items = (scores[name] ?? []).enumerated().map { (name: name, index: $0, score: $1) }
                let count = Int((Double(items.count) * (density[name] ?? 1)).rounded())
                for item in top(items, count) { keep[name, default: []].insert(item.index) }
            }
        }
        var masks: [String: Tensor<Float>] = [:]
        for name in order {
            let count = scores[name]?.count ?? 0
            let kept = keep[name] ?? []
            masks[name] = Tensor(shape: shapes[name] ?? [count], scalars: (0..<count).map { kept.contains($0) ? 1 : 0 })
        }
        return ParameterMasks(masks)
    }

    /// Fraction of non-zero weights of each parameter.
    public static func density<M: Module>(_ model: M) -> [(name: String, count: Int, nonzero: Int)] {
        model.parameters.map { name, path in
            let values = model[keyPath: path].scalars
            return (name, values.count, values.filter { $0 != 0 }.count)
        }
    }
}
