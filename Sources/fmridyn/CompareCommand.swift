import Analysis
import ArgumentParser
import Foundation
import Pipeline

/// `fmridyn compare`: task decoding from fitted models' latents and from classical baselines of
/// the same dimension, on the same volumes and folds, in one table.
struct Compare: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Decode task conditions from model latents and PCA / FastICA / raw-region baselines, same folds.",
        discussion: """
            Every --model (NODE or RNN SVAE; NAME=DIR to name it) is run over the inputs to get \
            posterior-mean latents; PCA and FastICA (scikit-learn's parallel logcosh) with as many \
            components as the first model has latents are fitted on all volumes of the z-scored \
            inputs (unsupervised, like the models); raw uses every region. Each method is decoded \
            with the same classifier and the same GroupKFold folds over --groups (see fmridyn \
            decode). Prints a table; --out DIR writes DIR/comparison.json and DIR/comparison.tsv \
            (--out FILE.json writes only the JSON). The JSON has one entry per method under "methods" \
            (name, kind, features, balanced_accuracy_mean, balanced_accuracy_sd, per_fold, \
            per_class_recall, confusion, p_value) plus classes, chance, folds, samples. \
            fmridyn report --decoding accepts this JSON and draws every method's bar.

            Example:
              fmridyn compare --model NODE=model-node --model RNN=model-rnn bids_dir --task motor --hrf-shift --exclude rest --out comparison
            """
    )

    @Option(name: .customLong("model"), help: "A model directory from fmridyn fit, optionally NAME=DIR (repeat for several).")
    var models: [String] = []
    @OptionGroup var input: ModelInputOptions
    @Option(help: "Baselines, comma-separated from pca, ica, raw (none to skip).")
    var baselines = "pca,ica,raw"
    @Option(help: "Components of the PCA and FastICA baselines (default: the first model's latent dimension).")
    var components: Int?
    @Option(help: "Labels to leave out, comma-separated (e.g. rest).")
    var exclude: String?
    @Option(name: .customLong("groups"), help: "subject, session or run: the grouping of the folds.")
    var grouping: ModelComparison.Grouping = .subject
    @Option var folds = 5
    @Option(help: "logreg or lda (LDA with Ledoit-Wolf shrinkage).")
    var classifier: Decoding.ClassifierKind = .logreg
    @Option(help: "Label permutations per method for p-values.")
    var permutations = 0
    @Option(help: "Seed of FastICA and the permutations.")
    var seed: UInt64 = 1
    @Option(help: "Output directory (comparison.json and comparison.tsv), or a .json file.")
    var out: String?
    @OptionGroup var diagnostics: DiagnosticOptions

    /// The parsed --baselines (validate() has refused unknown names).
    var selectedBaselines: [DecodingBaseline] { baselineNames.compactMap(DecodingBaseline.init(rawValue:)) }

    var baselineNames: [String] {
        baselines == "none" ? [] : baselines.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
    }

    func validate() throws {
        try NumericOptions.count("--permutations", permutations, 0...100_000, why: "each permutation refits every fold of every method")
        for kind in baselineNames where DecodingBaseline(rawValue: kind) == nil {
            throw ValidationError("unknown baseline \(kind) in --baselines; use pca, ica, raw or none.")
        }
        guard !models.isEmpty || !selectedBaselines.isEmpty else { throw ValidationError("nothing to compare: give --model DIR or baselines.") }
        guard folds >= 2 else { throw ValidationError("--folds must be at least 2.") }
        if let components, components < 1 { throw ValidationError("--components must be at least 1.") }
        if models.isEmpty && components == nil && selectedBaselines.contains(where: { $0 != .raw }) {
            throw ValidationError("--components K is needed for PCA/FastICA when no --model gives the dimension.")
        }
        guard permutations >= 0 else { throw ValidationError("--permutations must be 0 or more.") }
    }

    /// The comparison these options ask for.
    var comparison: ModelComparison {
        var comparison = ModelComparison(models: models.map(ModelComparison.Model.init(parsing:)), baselines: selectedBaselines)
        comparison.grouping = grouping
        comparison.folds = folds
        comparison.components = components
        comparison.classifier = classifier
        comparison.permutations = permutations
        comparison.seed = seed
        comparison.excluded = Set(exclude.map { $0.split(separator: ",").map(String.init) } ?? [])
        return comparison
    }

    func run() throws {
        if let out {
            if out.lowercased().hasSuffix(".json") { try OutputLocation.requireWritable(file: out) } else { try OutputLocation.requireWritable(directory: out) }
        }
        let logger = diagnostics.makeLogger()
        let outcome = try comparison.compare(try input.loadRuns(progress: diagnostics.progress)) { logger.info("\($0)") }
        for warning in outcome.comparison.rows.first?.result.warnings ?? [] { logger.warning("\(warning)") }
        if let out { try ModelComparison.write(outcome, to: out) }
        print(outcome.comparison.table)
    }
}
