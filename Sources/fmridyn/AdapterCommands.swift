import ArgumentParser
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
        var settings = SparseAdaptation.Settings()
        (settings.keep, settings.scope, settings.epochs, settings.learningRate) = (keep, scope.pruningScope, epochs, lr)
        (settings.batchSize, settings.seed, settings.resume) = (batchSize, seed, resume)
        let summary = try SparseAdaptation.adapt(modelDirectory: model, runs: try input.loadRuns(), settings: settings, out: out, progress: diagnostics.progress)
        let text = String(format: "%@: %d coordinates (%.1f%% of %d weights); validation ELBO %.2f -> %.2f nats per window", out, summary.coordinates,
                          100 * Double(summary.coordinates) / Double(max(1, summary.prunableWeights)), summary.prunableWeights,
                          summary.baseValidationELBO, summary.adaptedValidationELBO)
        diagnostics.makeLogger().info("\(text)")
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
    var rule: SparseAdapter.MergeRule = .mean
    @OptionGroup(title: "The data to evaluate base, adapters and merge on") var data: ModelDataOptions
    @Option(help: "The merged model directory.")
    var out: String
    @OptionGroup var diagnostics: DiagnosticOptions

    func validate() throws {
        guard !adapters.isEmpty else { throw ValidationError("give at least one adapter directory.") }
    }

    func run() throws {
        let runs = data.data.isEmpty ? nil : try data.inputs.loadRuns(progress: diagnostics.progress)
        let summary = try SparseAdaptation.merge(adapters: adapters, modelDirectory: model, rule: rule,
                                                 evaluationRuns: runs, out: out)
        if let baseELBO = summary.baseELBO, let mergedELBO = summary.mergedELBO {
            print(String(format: "ELBO per window: base %.2f, merged %.2f; adapters alone: ", baseELBO, mergedELBO)
                  + summary.adapterELBOs.map { $0.path + " " + String(format: "%.2f", $0.elbo) }.joined(separator: ", "))
        }
        diagnostics.makeLogger().info("\(out): \(summary.coordinates) coordinates from \(adapters.count) adapters (\(rule.rawValue))")
    }
}
