import Analysis
import ArgumentParser
import Foundation
import Model
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
    var classifier = "logreg"
    @Option(help: "Label permutations per method for p-values.")
    var permutations = 0
    @Option(help: "Seed of FastICA and the permutations.")
    var seed: UInt64 = 1
    @Option(help: "Output directory (comparison.json and comparison.tsv), or a .json file.")
    var out: String?
    @OptionGroup var diagnostics: DiagnosticOptions

    static let baselineKinds = ["pca", "ica", "raw"]

    var selectedBaselines: [String] {
        baselines == "none" ? [] : baselines.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
    }

    func validate() throws {
        try NumericOptions.count("--permutations", permutations, 0...100_000, why: "each permutation refits every fold of every method")
        for kind in selectedBaselines where !Self.baselineKinds.contains(kind) {
            throw ValidationError("unknown baseline \(kind) in --baselines; use pca, ica, raw or none.")
        }
        guard !models.isEmpty || !selectedBaselines.isEmpty else { throw ValidationError("nothing to compare: give --model DIR or baselines.") }
        guard ["subject", "session", "run"].contains(groups) else { throw ValidationError("--groups must be subject, session or run.") }
        guard ["logreg", "lda"].contains(classifier) else { throw ValidationError("--classifier must be logreg or lda.") }
        guard folds >= 2 else { throw ValidationError("--folds must be at least 2.") }
        if let components, components < 1 { throw ValidationError("--components must be at least 1.") }
        if models.isEmpty && components == nil && selectedBaselines.contains(where: { $0 != "raw" }) {
            throw ValidationError("--components K is needed for PCA/FastICA when no --model gives the dimension.")
        }
        guard permutations >= 0 else { throw ValidationError("--permutations must be 0 or more.") }
    }

    func run() throws {
        let logger = diagnostics.makeLogger()
        let quiet = diagnostics.quiet
        var runs = try input.loadRuns { line in if !quiet { FileHandle.standardError.write(Data((line + "\n").utf8)) } }
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
        var labels: [String] = [], groupLabels: [String] = [], kept: [(run: Int, row: Int)] = []
        for (index, run) in runs.enumerated() {
            guard let conditions = run.conditions else { continue }
            for (row, label) in conditions.enumerated() where !label.isEmpty && !excluded.contains(label) {
                labels.append(label)
                groupLabels.append(groups == "subject" ? run.subject : groups == "session" ? run.subject + "|" + run.session
                                   : [run.subject, run.session, run.task, run.run, run.source].joined(separator: "|"))
                kept.append((index, row))
            }
        }
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
            methods.append(.init(name: name ?? kind.uppercased(), kind: kind, features: kept.map { latents[$0.run][$0.row] }))
            logger.info("\(directory): \(kind) latents, \(svae.configuration.latent) dimensions")
        }
        let standardized = runs.map { run -> [[Double]] in let m = run.standardized; return (0..<m.timePoints).map { t in (0..<m.columns).map { m[t, $0] } } }
        let keptRows = kept.map { standardized[$0.run][$0.row] }
        let allVolumes = standardized.flatMap { $0 }
        methods += try Self.baselines(selectedBaselines, allVolumes: allVolumes, rows: keptRows, components: dimension ?? 1, seed: seed)
        let model: Decoding.Classifier = classifier == "lda" ? .lda(shrinkage: .ledoitWolf) : .logisticRegression(c: 1)
        let comparison = DecodingComparison(methods: methods, labels: labels, groups: groupLabels, folds: folds, classifier: model,
                                            permutations: permutations, seed: seed)
        for warning in comparison.rows.first?.result.warnings ?? [] { logger.warning("\(warning)") }
        if let out {
            let object = Self.json(comparison, folds: folds, groups: groups, samples: labels.count, classifier: classifier)
            let json = out.lowercased().hasSuffix(".json") ? out : out + "/comparison.json"
            if json != out { try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true) }
            try OutputFiles.write(Data((object.rendered() + "\n").utf8), to: json)
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

    /// Baseline feature sets of `rows` (the decoded volumes): PCA and FastICA with `components`
    /// fitted on `allVolumes` (unsupervised, like the models), and the raw features.
    static func baselines(_ kinds: [String], allVolumes: [[Double]], rows: [[Double]], components: Int, seed: UInt64) throws -> [DecodingComparison.Method] {
        try kinds.map { kind in
            switch kind {
            case "pca": return .init(name: "PCA", kind: "pca", features: PCA(fitting: allVolumes, components: components).transform(rows))
            case "ica": return .init(name: "FastICA", kind: "ica", features: try FastICA(fitting: allVolumes, components: components, seed: seed).transform(rows))
            default: return .init(name: "raw regions", kind: "raw", features: rows)
            }
        }
    }

    /// The comparison as JSON: `methods` (name, kind, features, balanced_accuracy_mean,
    /// balanced_accuracy_sd, per_fold, per_class_recall, confusion, p_value), `classes`,
    /// `chance`, `folds`, `groups`, `samples`, `classifier`, `warnings` (classes missing from
    /// some training folds).
    static func json(_ comparison: DecodingComparison, folds: Int, groups: String, samples: Int, classifier: String) -> JSONValue {
        .object([
            ("methods", .array(comparison.rows.map { row in
                .object([("name", .string(row.name)), ("kind", .string(row.kind)), ("features", .integer(row.dimension)),
                         ("balanced_accuracy_mean", .number(row.result.mean)), ("balanced_accuracy_sd", .number(row.result.sd)),
                         ("per_fold", .numbers(row.result.perFold)),
                         ("per_class_recall", .object(row.result.classes.map { ($0, .number(row.result.perClassRecall[$0] ?? .nan)) })),
                         ("confusion", .array(row.result.confusion.map { .integers($0) })),
                         ("p_value", row.result.pValue.map { .number($0) } ?? .null)])
            })),
            ("classes", .array(comparison.classes.map { .string($0) })), ("chance", .number(comparison.chance)),
            ("folds", .integer(folds)), ("groups", .string(groups)), ("samples", .integer(samples)),
            ("classifier", .string(classifier)),
            // The folds are the same for every method, so their warnings are too.
            ("warnings", .array((comparison.rows.first?.result.warnings ?? []).map { .string($0) })),
        ])
    }

    /// `NAME=DIR` or `DIR`.
    static func split(model entry: String) -> (name: String?, directory: String) {
        guard let equals = entry.firstIndex(of: "="), !FileManager.default.fileExists(atPath: entry) else { return (nil, entry) }
        return (String(entry[..<equals]), String(entry[entry.index(after: equals)...]))
    }
}
