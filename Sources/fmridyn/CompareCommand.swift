import Analysis
import ArgumentParser
import Foundation
import Model
import Pipeline
import Preprocessing

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
    @Option(help: "subject, session or run: the grouping of the folds.")
    var groups = "subject"
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
        guard ["subject", "session", "run"].contains(groups) else { throw ValidationError("--groups must be subject, session or run.") }
        guard folds >= 2 else { throw ValidationError("--folds must be at least 2.") }
        if let components, components < 1 { throw ValidationError("--components must be at least 1.") }
        if models.isEmpty && components == nil && selectedBaselines.contains(where: { $0 != .raw }) {
            throw ValidationError("--components K is needed for PCA/FastICA when no --model gives the dimension.")
        }
        guard permutations >= 0 else { throw ValidationError("--permutations must be 0 or more.") }
    }

    func run() throws {
        if let out {
            if out.lowercased().hasSuffix(".json") { try OutputLocation.requireWritable(file: out) } else { try OutputLocation.requireWritable(directory: out) }
        }
        let logger = diagnostics.makeLogger()
        var runs = try input.loadRuns(progress: diagnostics.progress)
        let voxelRuns = runs
        if runs.first?.voxelSpace != nil {
            // Voxel inputs: the baselines start from the first model's voxel PCA (thousands of
            // voxels are not a baseline anyone would fit), each model from its own projection.
            guard let first = models.first else { throw ValidationError("voxel inputs need a --model with a voxel projection") }
            runs = try VoxelMode.runs(runs, for: Self.split(model: first).directory)
        }
        guard runs.contains(where: { $0.conditions != nil }) else {
            throw ValidationError("no per-volume conditions: give events (--events, a manifest events column, or a BIDS dataset with events.tsv)")
        }
        let excluded = Set(exclude.map { $0.split(separator: ",").map(String.init) } ?? [])

        // The volumes every method is scored on, in run order.
        let samples = DecodingSamples(labels: runs.map(\.conditions), groups: runs.map { run in
            groups == "subject" ? run.subject : groups == "session" ? run.subject + "|" + run.session
                : [run.subject, run.session, run.task, run.run, run.source].joined(separator: "|")
        }, excluding: excluded)
        let labels = samples.labels, groupLabels = samples.groups
        guard Set(labels).count >= 2 else { throw ValidationError("fewer than two conditions remain after --exclude \(exclude ?? "")") }
        guard Set(groupLabels).count >= folds else {
            throw ValidationError("--folds \(folds) needs at least \(folds) distinct \(groups) values; the inputs have \(Set(groupLabels).count)")
        }

        var methods: [DecodingComparison.Method] = []
        var dimension = components
        for entry in models {
            let (name, directory) = Self.split(model: entry)
            let (svae, description) = try Trainer.loadModel(from: directory)
            guard svae.configuration.inputCount == 0 else {
                throw ValidationError("\(directory) was fitted with the task as external inputs; its latents carry the labels, so decoding them measures nothing. Compare models fitted without --external-inputs")
            }
            let kind = description.model.dynamics.rawValue
            dimension = dimension ?? svae.configuration.latent
            var latents: [[[Double]]] = []
            let modelRuns = try VoxelMode.runs(voxelRuns, for: directory)
            try description.requireMatchingFeatures(modelRuns, modelDirectory: directory)
            for run in modelRuns {
                latents.append(try LatentExport.trajectories(model: svae, runs: [run]).flatMap(\.states))
            }
            methods.append(.init(name: name ?? kind.uppercased(), kind: kind, features: samples.rows(of: latents)))
            logger.info("\(directory): \(kind) latents, \(svae.configuration.latent) dimensions")
        }
        let standardized = runs.map(\.standardized.rows)
        let keptRows = samples.rows(of: standardized)
        let allVolumes = standardized.flatMap { $0 }
        methods += try DecodingBaseline.methods(selectedBaselines, allVolumes: allVolumes, rows: keptRows, components: dimension ?? 1, seed: seed)
        let model: Decoding.Classifier = classifier == .lda ? .lda(shrinkage: .ledoitWolf) : .logisticRegression(c: 1)
        let comparison = DecodingComparison(methods: methods, labels: labels, groups: groupLabels, folds: folds, classifier: model,
                                            permutations: permutations, seed: seed)
        for warning in comparison.rows.first?.result.warnings ?? [] { logger.warning("\(warning)") }
        if let out {
            let report = DecodingReport(comparison, folds: folds, groups: groups, samples: labels.count, classifier: classifier.rawValue)
            let json = out.lowercased().hasSuffix(".json") ? out : out + "/comparison.json"
            if json != out { try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true) }
            try OutputFiles.write(Data(report.rendered.utf8), to: json)
            if json != out {
                var tsv = "method\tkind\tfeatures\tbalanced_accuracy_mean\tbalanced_accuracy_sd\tp_value\n"
                for row in comparison.rows {
                    tsv += "\(row.name)\t\(row.kind)\t\(row.dimension)\t\(row.result.mean)\t\(row.result.sd)\t\(row.result.pValue.map { String($0) } ?? "n/a")\n"
                }
                tsv += "chance\t\t\t\(comparison.chance)\t\t\n"
                try OutputFiles.write(Data(tsv.utf8), to: out + "/comparison.tsv")
            }
        }
        print(comparison.table)
    }

    /// `NAME=DIR` or `DIR`.
    static func split(model entry: String) -> (name: String?, directory: String) {
        guard let equals = entry.firstIndex(of: "="), !FileManager.default.fileExists(atPath: entry) else { return (nil, entry) }
        return (String(entry[..<equals]), String(entry[entry.index(after: equals)...]))
    }
}
