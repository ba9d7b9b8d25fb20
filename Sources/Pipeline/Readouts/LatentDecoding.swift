import Analysis
import Foundation
import Preprocessing

/// `decode`'s chain: cross-validated decoding of a latents CSV's task column from its
/// `z1..zK` columns, optionally with each volume's previous `lags` volumes of the same run
/// appended, in GroupKFold folds over a grouping column.
public struct LatentDecoding: Sendable {
    /// The column holding the labels.
    public var target = "condition"
    /// The column whose values the folds keep apart.
    public var groups = "subject"
    public var folds = 5
    public var classifier: Decoding.Classifier = .logisticRegression(c: 1)
    /// Previous volumes of the same run appended to each volume's features.
    public var lags = 0
    public var permutations = 0
    /// Labels left out (`rest`); empty labels are always left out.
    public var excluded: Set<String> = []

    public init() {}

    /// The decoded samples: features (`z` of the volume, then of each lag), labels, groups.
    public struct Samples: Sendable {
        public var features: [[Double]] = []
        public var labels: [String] = []
        public var groups: [String] = []
        /// K, the latent dimension (features per volume).
        public var latent = 0
    }

    /// The samples of the latents CSV at `path` (`fmridyn latents` output: run entity columns,
    /// the target and group columns, `z1..zK`).
    public func samples(latentsCSV path: String) throws -> Samples {
        let table = try DelimitedTable(contentsOf: path, delimiter: ",")
        let featureColumns = table.header.filter { $0.count > 1 && $0.hasPrefix("z") && Int($0.dropFirst()) != nil }
        guard !featureColumns.isEmpty else { throw TableError(path: path, "has no z1..zK columns") }
        let values = try featureColumns.map { try table.numericColumn($0, allowMissing: false) }
        let labels = try table.column(target)
        let groupLabels = try table.column(groups)
        // Lags stay inside one run: rows of the same subject, session, task and run.
        let runColumns = try ["subject", "session", "task", "run"].filter { table.columnIndex($0) != nil }.map { try table.column($0) }
        let run = (0..<labels.count).map { row in runColumns.map { $0[row] }.joined(separator: "|") }
        var samples = Samples(latent: featureColumns.count)
        for row in 0..<labels.count where !labels[row].isEmpty && !excluded.contains(labels[row]) {
            guard row >= lags, (0...lags).allSatisfy({ run[row - $0] == run[row] }) else { continue }
            samples.features.append((0...lags).flatMap { lag in values.map { $0[row - lag] } })
            samples.labels.append(labels[row])
            samples.groups.append(groupLabels[row])
        }
        guard Set(samples.labels).count >= 2 else { throw TableError(path: path, column: target, "needs at least two classes after `exclude`") }
        let groupCount = Set(samples.groups).count
        guard groupCount >= folds else {
            throw PipelineError("`folds` \(folds) needs at least \(folds) distinct \(groups) values; \(path) has \(groupCount)")
        }
        return samples
    }

    /// The cross-validated decoding of `samples`.
    public func decode(_ samples: Samples) -> DecodingResult {
        Decoding.crossValidate(features: samples.features, labels: samples.labels, groups: samples.groups, folds: folds,
                               classifier: classifier, permutations: permutations)
    }

    /// `decoding.json`: balanced accuracy (mean, SD, per fold), per-class recall, confusion
    /// (rows true, columns predicted, in `classes` order), chance, p-value, sample and feature counts.
    public static func record(_ result: DecodingResult, samples: Samples) -> JSONValue {
        .object([
            ("balanced_accuracy_mean", .number(result.mean)), ("balanced_accuracy_sd", .number(result.sd)),
            ("per_fold", .numbers(result.perFold)),
            ("per_class_recall", .object(result.classes.map { ($0, .number(result.perClassRecall[$0] ?? .nan)) })),
            ("confusion", .array(result.confusion.map { .integers($0) })), ("classes", .array(result.classes.map { .string($0) })),
            ("chance", .number(result.chance)), ("p_value", result.pValue.map { .number($0) } ?? .null),
            ("samples", .integer(samples.labels.count)), ("features", .integer(samples.features.first?.count ?? 0)),
            ("warnings", .array(result.warnings.map { .string($0) })),
        ])
    }
}
