import Core
import Federation
import Model
import Sparse

/// `fmridyn prune --method`: how a fitted model's weight matrices are pruned in one shot.
public enum OneShotPruneMethod: String, CaseIterable, Sendable {
    /// Smallest |w| removed.
    case magnitude
    /// A seeded random subset removed.
    case random
    /// Each matrix projected to the target Hoyer sparsity; its zeros are the mask.
    case gsp
    /// Data-free SynFlow scores (all-ones input through the noise-free path), iteratively.
    case synflow
    /// |g w| on windows of data.
    case snip
}

/// One-shot pruning of a fitted SVAE's weight matrices (biases and vectors stay dense).
public enum OneShotPruning {
    /// The masks for `svae` at `sparsity`. `windows` gives SNIP's gradients (required for
    /// `.snip`, unused otherwise); `scope` applies to magnitude, random, SNIP and SynFlow.
    public static func masks(_ svae: SVAE<Float>, method: OneShotPruneMethod, sparsity: Double, scope: PruningScope, seed: UInt64,
                             windows: WindowDataset? = nil) throws -> ParameterMasks<Float> {
        let names = prunableParameters(svae)
        let shapes = Dictionary(uniqueKeysWithValues: svae.parameters.filter { names.contains($0.name) }.map { ($0.name, svae[keyPath: $0.path].shape) })
        switch method {
        case .gsp:
            let vectors = names.compactMap { name in svae.parameters.first { $0.name == name }.map { svae[keyPath: $0.path].scalars.map(Double.init) } }
            let projected = GroupSparseProjection.project(vectors, target: sparsity)
            return ParameterMasks(Dictionary(uniqueKeysWithValues: zip(names, projected).map { name, values in
                (name, Tensor<Float>(shape: shapes[name] ?? [values.count], scalars: values.map { $0 == 0 ? 0 : 1 }))
            }))
        case .synflow:
            return try SparseTrainingSetup.synflowMasks(svae, names: names, sparsity: sparsity, scope: scope, rounds: 100)
        case .snip:
            guard let windows else { throw PipelineError("SNIP pruning scores |g w| on windows of data; give the runs (`data`)") }
            let scores = try GradientSaliency.snip(svae, names: names, data: windows, windows: windows.training + windows.validation,
                                                   batches: 4, batchSize: 32, seed: seed)
            return Pruning.masks(scores: scores, order: names, shapes: shapes, sparsity: sparsity, scope: scope)
        case .magnitude, .random:
            let criterion: PruningCriterion = method == .random ? .random(seed: seed) : .magnitude
            return Pruning.masks(scores: Pruning.scores(svae, names: names, criterion: criterion), order: names, shapes: shapes,
                                 sparsity: sparsity, scope: scope)
        }
    }

    /// Prunes the model at `modelDirectory` and writes the pruned model with its masks (and
    /// the voxel projection, if any) to `out`; SNIP's windows come from `runs`, read as the
    /// model reads them. Returns the kept and the total prunable weights.
    public static func prune(modelDirectory: String, method: OneShotPruneMethod, sparsity: Double, scope: PruningScope, seed: UInt64,
                             runs: [RunData]?, out: String) throws -> (kept: Int, total: Int) {
        let fitted = try FittedModel(directory: modelDirectory)
        var svae = fitted.svae
        let c = svae.configuration
        let windows = try runs.map { try WindowDataset(runs: fitted.prepare($0), window: c.window, stride: c.stride, validationFraction: 0, seed: seed) }
        let masks = try masks(svae, method: method, sparsity: sparsity, scope: scope, seed: seed, windows: windows)
        masks.apply(to: &svae)
        try ModelDirectory(out).save(svae, description: fitted.description, masks: masks, projectionFrom: ModelDirectory(modelDirectory))
        let kept = masks.masks.values.reduce(0) { $0 + $1.scalars.filter { $0 != 0 }.count }
        return (kept, masks.masks.values.reduce(0) { $0 + $1.count })
    }
}
