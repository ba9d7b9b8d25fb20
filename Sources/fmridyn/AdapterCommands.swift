import ArgumentParser
import Core
import Federation
import Foundation
import Model
import Pipeline
import Preprocessing
import Sparse

/// `fmridyn adapt`: a sparse adapter of a fitted model for new data.
struct Adapt: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Fine-tune a small subset of a fitted model's weights on new data and store the change as a sparse adapter.",
        discussion: """
            The --keep fraction of weight-matrix entries with the largest gradient magnitude on the \
            new data (|dELBO/dw| averaged over up to 4 batches of its training windows; --scope global \
            or per layer) is trained, everything else stays at the base model's values. The change \
            is written as OUT/adapter.safetensors (per parameter: flat indices I64, delta values F32) \
            with OUT/adapter.json (base model, selection, validation ELBO of the base and the adapted \
            model on the new data's held-out windows). OUT/training/ holds the fine-tuning run \
            (--resume continues it).

            Example:
              fmridyn adapt --model model sub-07_task-motor_run-1_timeseries.tsv --tr 0.72 --keep 0.05 --epochs 10 --out adapters/sub-07
            """
    )

    @Option(help: "The base model directory.")
    var model: String
    @OptionGroup var input: ModelInputOptions
    @Option(help: "Fraction of weight-matrix entries to fine-tune.")
    var keep = 0.05
    @Option(help: "global or layer: how the kept fraction is spread.")
    var scope: AdapterScope = .global
    @Option var epochs = 10
    @Option var lr = 1e-3
    @Option var batchSize = 32
    @Option var seed: UInt64 = 1
    @Flag(help: "Continue an interrupted adaptation in OUT/training.")
    var resume = false
    @Option(help: "The adapter directory.")
    var out: String
    @OptionGroup var diagnostics: DiagnosticOptions

    func validate() throws {
        guard keep > 0, keep <= 1 else { throw ValidationError("--keep must be in (0, 1].") }
        guard epochs >= 1, batchSize >= 1 else { throw ValidationError("--epochs and --batch-size must be at least 1.") }
        try NumericOptions.positive("--lr", lr)
    }

    func run() throws {
        let logger = diagnostics.makeLogger()
        let (base, description) = try Trainer.loadModel(from: model)
        var runs = try VoxelMode.runs(try input.loadRuns(), for: model)
        try description.requireMatchingFeatures(runs, modelDirectory: model)
        let c = base.configuration
        try ExternalInputs.attach(&runs, for: c)
        guard runs[0].timeseries.columns == c.observations else {
            throw ValidationError("the inputs have \(runs[0].timeseries.columns) features but \(model) was fitted on \(c.observations); extract them with the same atlas")
        }
        let data = try WindowDataset(runs: runs, window: c.window, stride: c.stride, validationFraction: 0.2, seed: seed)
        // Gradient saliency on the new data at the base parameters.
        let names = prunableParameters(base)
        let shapes = Dictionary(uniqueKeysWithValues: base.parameters.filter { names.contains($0.name) }.map { ($0.name, base[keyPath: $0.path].shape) })
        let saliency = try GradientSaliency.scores(base, names: names, data: data, windows: data.training, batches: 4, batchSize: batchSize,
                                                              seed: seed, shuffleSeed: seed ^ 0xADA9, includeWeight: false)
        let selection = Pruning.masks(scores: saliency, order: names, shapes: shapes, sparsity: 1 - keep, scope: scope.pruningScope)

        var training = TrainingConfiguration()
        training.epochs = epochs
        training.learningRate = lr
        training.batchSize = batchSize
        training.klWarmupEpochs = 0
        var trainer = Trainer(directory: out + "/training", model: c, training: training)
        trainer.initialModel = base
        trainer.trainableMasks = selection
        trainer.version = FMRIDyn.version
        let quiet = diagnostics.quiet
        trainer.progress = { line in if !quiet { FileHandle.standardError.write(Data((line + "\n").utf8)) } }
        try trainer.fit(data, resume: resume)
        let (tuned, _) = try Trainer.loadModel(from: out + "/training")
        let adapter = SparseAdapter.difference(base: base, tuned: tuned, selection: selection)
        let windows = data.validation.isEmpty ? data.training : data.validation
        let baseELBO = try trainer.meanELBO(base, data, windows: windows), adaptedELBO = try trainer.meanELBO(tuned, data, windows: windows)
        try adapter.write(to: out + "/adapter.safetensors", metadata: ["base_model": model])
        let total = names.reduce(0) { $0 + (shapes[$1] ?? []).reduce(1, *) }
        let record: [(String, JSONValue)] = [
            ("base_model", .string(model)), ("keep", .number(keep)), ("scope", .string(scope.rawValue)),
            ("coordinates", .integer(adapter.count)), ("prunable_weights", .integer(total)),
            ("bytes", .integer(adapter.count * 12)), ("bytes_dense_model", .integer(base.parameters.reduce(0) { $0 + base[keyPath: $1.path].count } * 4)),
            ("validation_windows", .integer(windows.count)),
            ("base_validation_elbo", .number(baseELBO)), ("adapted_validation_elbo", .number(adaptedELBO)),
            ("inputs", .array(runs.map { .string($0.source) })), ("fmridyn_version", .string(FMRIDyn.version)),
            ("base_split", .string(description.split)),
        ]
        try OutputFiles.write(Data((JSONValue.object(record).rendered() + "\n").utf8), to: out + "/adapter.json")
        let summary = String(format: "%@: %d coordinates (%.1f%% of %d weights); validation ELBO %.2f -> %.2f nats per window", out, adapter.count,
                             100 * Double(adapter.count) / Double(max(1, total)), total, baseELBO, adaptedELBO)
        logger.info("\(summary)")
    }
}

/// `fmridyn merge`: several sparse adapters of one base model combined into one model.
struct Merge: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Merge sparse adapters into their base model.",
        discussion: """
            Each coordinate changed by several adapters gets the mean of their changes (--rule mean, \
            the default) or their sum divided by the number of adapters (--rule uniform). Writes a \
            model directory (config.json, model.safetensors) and OUT/merge.json; with --data, the \
            mean ELBO per window on that data of the base model, of each adapter applied alone and of \
            the merged model.

            Example:
              fmridyn merge adapters/sub-07 adapters/sub-08 --model model --out merged --data runs.tsv --manifest
            """
    )

    @Argument(help: "Adapter directories written by fmridyn adapt.")
    var adapters: [String]
    @Option(help: "The base model directory.")
    var model: String
    @Option(help: "mean or uniform.")
    var rule = "mean"
    @Option(parsing: .upToNextOption, help: "Region-timeseries TSVs (or a manifest) to evaluate base, adapters and merge on.")
    var data: [String] = []
    @Flag var manifest = false
    @Option var tr: Double?
    @Option(help: "The merged model directory.")
    var out: String
    @OptionGroup var diagnostics: DiagnosticOptions

    func validate() throws {
        try NumericOptions.positive("--tr", tr, unit: "seconds")
        guard !adapters.isEmpty else { throw ValidationError("give at least one adapter directory.") }
        guard SparseAdapter.MergeRule(rawValue: rule) != nil else { throw ValidationError("--rule must be mean or uniform.") }
    }

    func run() throws {
        let (base, description) = try Trainer.loadModel(from: model)
        let loaded = try adapters.map { try SparseAdapter.read($0 + "/adapter.safetensors") }
        let merged = SparseAdapter.merge(loaded, rule: SparseAdapter.MergeRule(rawValue: rule) ?? .mean)
        var result = base
        try merged.apply(to: &result)
        try ModelDirectory(out).save(result, description: description, projectionFrom: ModelDirectory(model))
        var record: [(String, JSONValue)] = [("base_model", .string(model)), ("rule", .string(rule)),
                                             ("adapters", .array(zip(adapters, loaded).map { .object([("path", .string($0)), ("coordinates", .integer($1.count))]) })),
                                             ("merged_coordinates", .integer(merged.count))]
        if !data.isEmpty {
            var runs = try VoxelMode.runs(try RunLoader.load(inputs: data, manifest: manifest, tr: tr ?? 1, events: nil), for: model)
            try description.requireMatchingFeatures(runs, modelDirectory: model)
            let c = base.configuration
            try ExternalInputs.attach(&runs, for: c)
            let windows = try WindowDataset(runs: runs, window: c.window, stride: c.stride, validationFraction: 0, seed: 1)
            let all = windows.training + windows.validation
            let evaluator = Evaluator(model: c)
            var individual: [(String, JSONValue)] = [], lines: [String] = []
            for (path, adapter) in zip(adapters, loaded) {
                var alone = base
                try adapter.apply(to: &alone)
                let elbo = try evaluator.meanELBO(alone, windows, windows: all)
                individual.append((path, .number(elbo)))
                lines.append(path + " " + String(format: "%.2f", elbo))
            }
            let baseELBO = try evaluator.meanELBO(base, windows, windows: all), mergedELBO = try evaluator.meanELBO(result, windows, windows: all)
            record += [("evaluation_windows", .integer(all.count)), ("base_elbo", .number(baseELBO)), ("adapter_elbo", .object(individual)),
                       ("merged_elbo", .number(mergedELBO))]
            print(String(format: "ELBO per window: base %.2f, merged %.2f; adapters alone: ", baseELBO, mergedELBO) + lines.joined(separator: ", "))
        }
        try OutputFiles.write(Data((JSONValue.object(record).rendered() + "\n").utf8), to: out + "/merge.json")
        diagnostics.makeLogger().info("\(out): \(merged.count) coordinates from \(adapters.count) adapters (\(rule))")
    }
}
