import Core
import Model
import Sparse

/// Gradient saliency of an SVAE's parameters on a set of windows: what SNIP prunes by, what a
/// site sends when sites agree on one mask (SSFL, SalientGrads), and what sparse adapters
/// select by.
public enum GradientSaliency {
    /// SNIP: |g w| of the negative ELBO at initialisation, averaged over up to `batches`
    /// batches of `windows` (in a seeded order).
    public static func snip(_ svae: SVAE<Float>, names: [String], data: WindowDataset, windows: [WindowDataset.Window], batches: Int,
                            batchSize: Int, seed: UInt64) throws -> [String: [Double]] {
        try scores(svae, names: names, data: data, windows: windows, batches: batches, batchSize: batchSize, seed: seed,
                   shuffleSeed: seed ^ 0x5A11E, includeWeight: true)
    }

    /// Per-weight |dELBO/dw| (x |w| with `includeWeight`, SNIP's saliency), averaged over up
    /// to `batches` batches of `windows` shuffled by `shuffleSeed`; batch b's sampling noise is
    /// seeded by seed + b.
    public static func scores(_ svae: SVAE<Float>, names: [String], data: WindowDataset, windows: [WindowDataset.Window], batches: Int,
                              batchSize: Int, seed: UInt64, shuffleSeed: UInt64, includeWeight: Bool) throws -> [String: [Double]] {
        var order = windows
        var shuffle = RandomSource(seed: shuffleSeed)
        order.shuffle(using: &shuffle)
        var scores: [String: [Double]] = [:]
        let count = min(batches, max(1, (order.count + batchSize - 1) / batchSize))
        let withInputs = svae.configuration.inputCount > 0
        for batch in 0..<count {
            let slice = Array(order[(batch * batchSize)..<min(order.count, (batch + 1) * batchSize)])
            guard !slice.isEmpty else { continue }
            var noise = RandomSource(seed: seed &+ UInt64(batch))
            let (_, gradient) = try valueAndGradient(of: svae) {
                try $0.objective(data.batch(slice), inputs: withInputs ? data.inputBatch(slice) : nil, klWeight: 1, random: &noise).loss
            }
            let values: [String: [Double]] = includeWeight
                ? Pruning.scores(svae, names: names, criterion: .snip(gradients: Dictionary(uniqueKeysWithValues: gradient.namedParameters)))
                : Dictionary(uniqueKeysWithValues: gradient.namedParameters.filter { names.contains($0.0) }.map { ($0.0, $0.1.scalars.map { Double(abs($0)) }) })
            for (name, score) in values {
                var total = scores[name] ?? [Double](repeating: 0, count: score.count)
                for index in score.indices { total[index] += score[index] / Double(count) }
                scores[name] = total
            }
        }
        return scores
    }
}
