import Core
import Federation
import Foundation
import Model
import Preprocessing
import Sparse

/// Sparse adapters of a fitted model (`fmridyn adapt`, `fmridyn merge`): the few weights that
/// matter most on new data are fine-tuned and stored as a change to the base model; several
/// such changes are merged back into one model.
public enum SparseAdaptation {
    /// How an adapter is selected and trained.
    public struct Settings: Sendable {
        /// Fraction of weight-matrix entries to fine-tune, in (0, 1].
        public var keep = 0.05
        /// How the kept fraction is spread (over all matrices, or per layer).
        public var scope: PruningScope = .global
        public var epochs = 10
        public var learningRate = 1e-3
        public var batchSize = 32
        public var seed: UInt64 = 1
        /// Continue an interrupted adaptation in OUT/training.
        public var resume = false
        public init() {}
    }

    /// What `adapt` wrote.
    public struct AdapterSummary: Sendable {
        public let coordinates: Int
        public let prunableWeights: Int
        public let baseValidationELBO: Double
        public let adaptedValidationELBO: Double
    }

    /// Selects the `keep` fraction of weight entries by gradient magnitude on `runs` (|dELBO/dw|
    /// averaged over up to 4 batches of their training windows, at the base parameters), trains
    /// only those, and writes OUT/adapter.safetensors (flat indices and deltas per parameter) and
    /// OUT/adapter.json; OUT/training/ holds the fine-tuning run.
    public static func adapt(modelDirectory model: String, runs loaded: [RunData], settings: Settings, out: String,
                             progress: @escaping @Sendable (String) -> Void) throws -> AdapterSummary {
        let fitted = try FittedModel(directory: model)
        let (base, description) = (fitted.svae, fitted.description)
        let runs = try fitted.prepare(loaded)
        let c = base.configuration
        guard runs[0].timeseries.columns == c.observations else {
            throw PipelineError("the inputs have \(runs[0].timeseries.columns) features but \(model) was fitted on \(c.observations); extract them with the same atlas", kind: .input)
        }
        let data = try WindowDataset(runs: runs, window: c.window, stride: c.stride, validationFraction: 0.2, seed: settings.seed)
        // Gradient saliency on the new data at the base parameters.
        let names = prunableParameters(base)
        let shapes = Dictionary(uniqueKeysWithValues: base.parameters.filter { names.contains($0.name) }.map { ($0.name, base[keyPath: $0.path].shape) })
        let saliency = try GradientSaliency.scores(base, names: names, data: data, windows: data.training, batches: 4, batchSize: settings.batchSize,
                                                   seed: settings.seed, shuffleSeed: settings.seed ^ 0xADA9, includeWeight: false)
        let selection = Pruning.masks(scores: saliency, order: names, shapes: shapes, sparsity: 1 - settings.keep, scope: settings.scope)

        var training = TrainingConfiguration()
        training.epochs = settings.epochs
        training.learningRate = settings.learningRate
        training.batchSize = settings.batchSize
        training.klWarmupEpochs = 0
        var trainer = Trainer(directory: out + "/training", model: c, training: training)
        trainer.initialModel = base
        trainer.trainableMasks = selection
        trainer.version = FMRIDynVersion.current
        trainer.progress = progress
        try trainer.fit(data, resume: settings.resume)
        let (tuned, _) = try Trainer.loadModel(from: out + "/training")
        let adapter = SparseAdapter.difference(base: base, tuned: tuned, selection: selection)
        let windows = data.validation.isEmpty ? data.training : data.validation
        let evaluator = Evaluator(model: c, batchSize: settings.batchSize)  // as the trainer scores
        let baseELBO = try evaluator.meanELBO(base, data, windows: windows), adaptedELBO = try evaluator.meanELBO(tuned, data, windows: windows)
        try adapter.write(to: out + "/adapter.safetensors", metadata: ["base_model": model])
        let total = names.reduce(0) { $0 + (shapes[$1] ?? []).reduce(1, *) }
        let record: [(String, JSONValue)] = [
            ("base_model", .string(model)), ("keep", .number(settings.keep)), ("scope", .string(settings.scope.rawValue)),
            ("coordinates", .integer(adapter.count)), ("prunable_weights", .integer(total)),
            ("bytes", .integer(adapter.count * 12)), ("bytes_dense_model", .integer(base.parameters.reduce(0) { $0 + base[keyPath: $1.path].count } * 4)),
            ("validation_windows", .integer(windows.count)),
            ("base_validation_elbo", .number(baseELBO)), ("adapted_validation_elbo", .number(adaptedELBO)),
            ("inputs", .array(runs.map { .string($0.source) })), ("fmridyn_version", .string(FMRIDynVersion.current)),
            ("base_split", .string(description.split)),
        ]
        try OutputFiles.write(Data((JSONValue.object(record).rendered() + "\n").utf8), to: out + "/adapter.json")
        return AdapterSummary(coordinates: adapter.count, prunableWeights: total, baseValidationELBO: baseELBO, adaptedValidationELBO: adaptedELBO)
    }

    /// What `merge` wrote; the ELBOs are set when evaluation runs were given.
    public struct MergeSummary: Sendable {
        public let coordinates: Int
        public let baseELBO: Double?
        public let mergedELBO: Double?
        /// Each adapter applied alone, in the order given.
        public let adapterELBOs: [(path: String, elbo: Double)]
    }

    /// Merges `adapters` (directories written by `adapt`) into their base model: a coordinate
    /// changed by several adapters gets the mean of their changes (`.mean`) or their sum divided
    /// by the number of adapters (`.uniform`). Writes a model directory at `out` with
    /// OUT/merge.json; with `evaluationRuns`, the mean ELBO per window of the base, of each
    /// adapter alone and of the merged model.
    public static func merge(adapters: [String], modelDirectory model: String, rule: SparseAdapter.MergeRule,
                             evaluationRuns: [RunData]?, out: String) throws -> MergeSummary {
        let (base, description) = try Trainer.loadModel(from: model)
        let loaded = try adapters.map { try SparseAdapter.read($0 + "/adapter.safetensors") }
        let merged = SparseAdapter.merge(loaded, rule: rule)
        var result = base
        try merged.apply(to: &result)
        try ModelDirectory(out).save(result, description: description, projectionFrom: ModelDirectory(model))
        var record: [(String, JSONValue)] = [("base_model", .string(model)), ("rule", .string(rule.rawValue)),
                                             ("adapters", .array(zip(adapters, loaded).map { .object([("path", .string($0)), ("coordinates", .integer($1.count))]) })),
                                             ("merged_coordinates", .integer(merged.count))]
        var baseELBO: Double?, mergedELBO: Double?, individual: [(path: String, elbo: Double)] = []
        if let evaluationRuns {
            let runs = try FittedModel(directory: model).prepare(evaluationRuns)
            let c = base.configuration
            let windows = try WindowDataset(runs: runs, window: c.window, stride: c.stride, validationFraction: 0, seed: 1)
            let all = windows.training + windows.validation
            let evaluator = Evaluator(model: c)
            for (path, adapter) in zip(adapters, loaded) {
                var alone = base
                try adapter.apply(to: &alone)
                individual.append((path, try evaluator.meanELBO(alone, windows, windows: all)))
            }
            let baseValue = try evaluator.meanELBO(base, windows, windows: all), mergedValue = try evaluator.meanELBO(result, windows, windows: all)
            (baseELBO, mergedELBO) = (baseValue, mergedValue)
            record += [("evaluation_windows", .integer(all.count)), ("base_elbo", .number(baseValue)),
                       ("adapter_elbo", .object(individual.map { ($0.path, .number($0.elbo)) })), ("merged_elbo", .number(mergedValue))]
        }
        try OutputFiles.write(Data((JSONValue.object(record).rendered() + "\n").utf8), to: out + "/merge.json")
        return MergeSummary(coordinates: merged.count, baseELBO: baseELBO, mergedELBO: mergedELBO, adapterELBOs: individual)
    }
}
