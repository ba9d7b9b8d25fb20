import Analysis
import Core
import Foundation
import Model
import Preprocessing

/// `compare`'s chain: task decoding from fitted models' latents and from classical baselines
/// of the same dimension, on the same volumes and the same GroupKFold folds.
///
/// Each model's posterior-mean latents come from its own run inputs (voxel inputs through its
/// own projection); the baselines are fitted, unsupervised, on every volume of the z-scored
/// inputs (voxel inputs: the first model's voxel PCA).
public struct ModelComparison: Sendable {
    /// What the folds keep apart.
    public enum Grouping: String, CaseIterable, Sendable {
        case subject, session, run

        /// The group of a run's volumes.
        func label(of run: RunData) -> String {
            switch self {
            case .subject: run.subject
            case .session: run.subject + "|" + run.session
            case .run: [run.subject, run.session, run.task, run.run, run.source].joined(separator: "|")
            }
        }
    }

    /// A model directory, with the name its row gets (nil: its dynamics, upper-cased).
    public struct Model: Sendable, Equatable {
        public var name: String?
        public var directory: String

        public init(name: String? = nil, directory: String) {
            self.name = name
            self.directory = directory
        }

        /// `NAME=DIR`, or `DIR` (also when a folder of that whole name exists).
        public init(parsing entry: String) {
            guard let equals = entry.firstIndex(of: "="), !FileManager.default.fileExists(atPath: entry) else {
                self.init(directory: entry)
                return
            }
            self.init(name: String(entry[..<equals]), directory: String(entry[entry.index(after: equals)...]))
        }
    }

    public var models: [Model]
    public var baselines: [DecodingBaseline]
    public var grouping: Grouping = .subject
    public var folds = 5
    /// Components of PCA and FastICA; nil: the first model's latent dimension.
    public var components: Int?
    public var classifier: Decoding.ClassifierKind = .logreg
    public var permutations = 0
    /// Seed of FastICA and the permutations.
    public var seed: UInt64 = 1
    /// Condition labels left out of the decoding (`rest`).
    public var excluded: Set<String> = []

    public init(models: [Model], baselines: [DecodingBaseline]) {
        self.models = models
        self.baselines = baselines
    }

    /// A comparison and its record.
    public struct Outcome: Sendable {
        public let comparison: DecodingComparison
        /// `comparison.json`'s content.
        public let report: DecodingReport
    }

    /// The comparison on `runs` (as the inputs were read); `log` gets one line per model.
    public func compare(_ runs: [RunData], log: (String) -> Void = { _ in }) throws -> Outcome {
        var regionRuns = runs
        if runs.first?.voxelSpace != nil {
            guard let first = models.first else { throw PipelineError("voxel inputs need a `model` with a voxel projection") }
            regionRuns = try VoxelMode.runs(runs, for: first.directory)
        }
        guard regionRuns.contains(where: { $0.conditions != nil }) else {
            throw PipelineError("no per-volume conditions: give events (`events`, a manifest events column, or a BIDS dataset with events.tsv)")
        }
        let samples = DecodingSamples(labels: regionRuns.map(\.conditions), groups: regionRuns.map(grouping.label), excluding: excluded)
        guard Set(samples.labels).count >= 2 else {
            throw PipelineError("fewer than two conditions remain after `exclude` \(excluded.sorted().joined(separator: ","))")
        }
        let groupCount = Set(samples.groups).count
        guard groupCount >= folds else {
            throw PipelineError("`folds` \(folds) needs at least \(folds) distinct \(grouping.rawValue) values; the inputs have \(groupCount)")
        }
        var methods: [DecodingComparison.Method] = []
        var dimension = components
        for model in models {
            let fitted = try FittedModel(directory: model.directory)
            let svae = fitted.svae
            guard svae.configuration.inputCount == 0 else {
                throw PipelineError("\(model.directory) was fitted with the task as external inputs; its latents carry the labels, so decoding them measures nothing. Compare models fitted without `externalInputs`")
            }
            let kind = fitted.description.model.dynamics.rawValue
            dimension = dimension ?? svae.configuration.latent
            let latents = try runs.map { try fitted.trajectories([$0]).flatMap(\.states) }
            methods.append(.init(name: model.name ?? kind.uppercased(), kind: kind, features: samples.rows(of: latents)))
            log("\(model.directory): \(kind) latents, \(svae.configuration.latent) dimensions")
        }
        let standardized = regionRuns.map(\.standardized.rows)
        methods += try DecodingBaseline.methods(baselines, allVolumes: standardized.flatMap { $0 }, rows: samples.rows(of: standardized),
                                                components: dimension ?? 1, seed: seed)
        let model: Decoding.Classifier = classifier == .lda ? .lda(shrinkage: .ledoitWolf) : .logisticRegression(c: 1)
        let comparison = DecodingComparison(methods: methods, labels: samples.labels, groups: samples.groups, folds: folds, classifier: model,
                                            permutations: permutations, seed: seed)
        let report = DecodingReport(comparison, folds: folds, groups: grouping.rawValue, samples: samples.count, classifier: classifier.rawValue)
        return Outcome(comparison: comparison, report: report)
    }

    /// Writes `outcome` to `out`: a `.json` file, or a folder with `comparison.json` and
    /// `comparison.tsv` (one row per method, then chance).
    public static func write(_ outcome: Outcome, to out: String) throws {
        guard !out.lowercased().hasSuffix(".json") else {
            try OutputFiles.write(Data(outcome.report.rendered.utf8), to: out)
            return
        }
        let comparison = outcome.comparison
        try OutputDirectory.create(out)
        try OutputFiles.write(Data(outcome.report.rendered.utf8), to: out + "/comparison.json")
        var tsv = "method\tkind\tfeatures\tbalanced_accuracy_mean\tbalanced_accuracy_sd\tp_value\n"
        for row in comparison.rows {
            tsv += "\(row.name)\t\(row.kind)\t\(row.dimension)\t\(row.result.mean)\t\(row.result.sd)\t\(row.result.pValue.map { String($0) } ?? "n/a")\n"
        }
        tsv += "chance\t\t\t\(comparison.chance)\t\t\n"
        try OutputFiles.write(Data(tsv.utf8), to: out + "/comparison.tsv")
    }
}
