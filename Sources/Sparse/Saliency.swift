import Core
import Foundation

/// Saliency scores that need the model's function, not only its weights: SynFlow, and SNIP
/// scores computed per site and aggregated (SalientGrads / SSFL).
public enum Saliency {
    /// SynFlow (Tanaka et al. 2020), iterative and data-free: for `rounds` rounds, replace the
    /// weights by |w| (masked), evaluate R = sum of `output(model)` (the caller feeds an all-ones
    /// input), score each prunable weight by |w dR/dw|, and prune to the round's sparsity
    /// 1 - (1 - s)^(k / rounds). Returns the final masks.
    public static func synflowMasks<M: Module>(_ model: M, names: [String], sparsity: Double, scope: PruningScope, rounds: Int = 100,
                                               output: (M) throws -> Tensor<Float>) rethrows -> ParameterMasks<Float> where M.Scalar == Float {
        let shapes = Dictionary(uniqueKeysWithValues: model.parameters.filter { names.contains($0.name) }.map { ($0.name, model[keyPath: $0.path].shape) })
        var masks = ParameterMasks<Float>(Dictionary(uniqueKeysWithValues: names.map { name in
            (name, Tensor<Float>(shape: shapes[name] ?? [], scalars: [Float](repeating: 1, count: (shapes[name] ?? []).reduce(1, *))))
        }))
        var absolute = model
        for (_, path) in absolute.parameters { absolute[keyPath: path] = Tensor(shape: model[keyPath: path].shape, scalars: model[keyPath: path].scalars.map(abs)) }
        for round in 1...max(1, rounds) {
            var current = absolute
            masks.apply(to: &current)
            let (_, gradient) = try valueAndGradient(of: current) { try output($0).sum() }
            var scores: [String: [Double]] = [:]
            for (name, path) in current.parameters where names.contains(name) {
                let w = current[keyPath: path].scalars, g = gradient[keyPath: path].scalars
                // Pruned weights stay pruned: below every live score.
                let mask = masks.masks[name]?.scalars ?? []
                scores[name] = w.indices.map { mask[$0] == 0 ? -1 : Double(abs(w[$0] * g[$0])) }
            }
            let target = 1 - Foundation.pow(1 - sparsity, Double(round) / Double(max(1, rounds)))
            masks = Pruning.masks(scores: scores, order: names, shapes: shapes, sparsity: target, scope: scope)
        }
        return masks
    }

    /// How per-site scores are combined into one.
    public enum SiteAggregation: String, Sendable, CaseIterable {
        /// Every site counts the same.
        case mean
        /// Sites weighted by their number of samples.
        case weighted
    }

    /// One score per weight from per-site scores (SalientGrads, SSFL): the mean, or the mean
    /// weighted by `samples`.
    public static func aggregate(_ sites: [[String: [Double]]], samples: [Int], rule: SiteAggregation) -> [String: [Double]] {
        guard let first = sites.first else { return [:] }
        let weights = rule == .mean ? sites.map { _ in 1.0 } : samples.map(Double.init)
        let total = weights.reduce(0, +)
        var result: [String: [Double]] = [:]
        for name in first.keys {
            var combined = [Double](repeating: 0, count: first[name]?.count ?? 0)
            for (site, weight) in zip(sites, weights) {
                for (index, value) in (site[name] ?? []).enumerated() { combined[index] += weight / total * value }
            }
            result[name] = combined
        }
        return result
    }

    /// Bytes one round of federated training would send: a dense update (4 bytes per parameter)
    /// against a sparse one (masked parameters as 4-byte index + 4-byte value of each kept
    /// weight; unmasked parameters dense).
    public static func communicationBytes<M: Module>(_ model: M, masks: ParameterMasks<Float>) -> (dense: Int, sparse: Int) where M.Scalar == Float {
        var dense = 0, sparse = 0
        for (name, path) in model.parameters {
            let count = model[keyPath: path].count
            dense += 4 * count
            if let mask = masks.masks[name] {
                sparse += 8 * mask.scalars.filter { $0 != 0 }.count
            } else {
                sparse += 4 * count
            }
        }
        return (dense, sparse)
    }
}

/// A compact export of a sparse model: for every masked parameter its kept flat indices (I64)
/// and values (F32) as `<name>.indices` / `<name>.values` with the shape in the metadata; other
/// parameters dense under their own names.
public enum SparseExport {
    public static func write<M: Module>(_ model: M, masks: ParameterMasks<Float>, to path: String) throws where M.Scalar == Float {
        var payloads: [(name: String, shape: [Int], payload: SafeTensors.Payload)] = []
        var metadata: [String: String] = ["format": "fmridyn-sparse"]
        for (name, path) in model.parameters {
            let tensor = model[keyPath: path]
            if let mask = masks.masks[name]?.scalars {
                let kept = mask.indices.filter { mask[$0] != 0 }
                payloads.append((name + ".indices", [kept.count], .int64(kept.map(Int64.init))))
                payloads.append((name + ".values", [kept.count], .float32(kept.map { tensor.scalars[$0] })))
                metadata[name + ".shape"] = tensor.shape.map(String.init).joined(separator: ",")
            } else {
                payloads.append((name, tensor.shape, .float32(tensor.scalars.array)))
            }
        }
        try SafeTensors.write(payloads: payloads, metadata: metadata, to: path)
    }

    /// Dense parameters from a compact export (zeros where no index is stored).
    public static func read(_ path: String) throws -> [String: Tensor<Float>] {
        let (tensors, metadata) = try SafeTensors.read(path)
        var result: [String: Tensor<Float>] = [:]
        for (name, entry) in tensors where !name.hasSuffix(".indices") && !name.hasSuffix(".values") {
            result[name] = Tensor(shape: entry.shape, scalars: entry.values.map(Float.init))
        }
        for (key, shapeText) in metadata where key.hasSuffix(".shape") {
            let name = String(key.dropLast(".shape".count))
            let shape = shapeText.split(separator: ",").compactMap { Int($0) }
            guard let indices = tensors[name + ".indices"]?.values, let values = tensors[name + ".values"]?.values, indices.count == values.count else {
                throw CheckpointError("\(path): \(name) has no matching .indices and .values")
            }
            var dense = [Float](repeating: 0, count: shape.reduce(1, *))
            for (index, value) in zip(indices, values) {
                guard index >= 0, Int(index) < dense.count else { throw CheckpointError("\(path): \(name) has index \(Int(index)) outside its shape \(shape)") }
                dense[Int(index)] = Float(value)
            }
            result[name] = Tensor(shape: shape, scalars: dense)
        }
        return result
    }
}
