import Analysis

/// The volumes a decoding analysis scores, chosen once so that every method (model latents
/// and baselines) is scored on the same rows: per run, the volumes whose label is neither
/// empty, `n/a` (BIDS for "no value") nor excluded (usually `rest`), in run order.
public struct DecodingSamples: Sendable, Equatable {
    public struct Position: Sendable, Equatable {
        public var run: Int
        public var row: Int
    }

    public private(set) var labels: [String] = []
    /// The fold grouping of each sample (its run's subject, session or run).
    public private(set) var groups: [String] = []
    public private(set) var positions: [Position] = []

    /// - Parameters:
    ///   - labels: per run, one label per row (nil: the run has none and gives no samples).
    ///   - groups: per run, the group its samples belong to.
    ///   - excluded: labels left out (e.g. `rest`).
    public init(labels runLabels: [[String]?], groups runGroups: [String], excluding excluded: Set<String>) {
        precondition(runLabels.count == runGroups.count, "one group per run")
        for (run, labels) in runLabels.enumerated() {
            guard let labels else { continue }
            for (row, label) in labels.enumerated() where !label.isEmpty && label != "n/a" && !excluded.contains(label) {
                self.labels.append(label)
                groups.append(runGroups[run])
                positions.append(Position(run: run, row: row))
            }
        }
    }

    public var count: Int { labels.count }
    public var classes: Set<String> { Set(labels) }

    /// The samples' rows of per-run features (`features[run][row]`).
    public func rows<Row>(of features: [[Row]]) -> [Row] {
        positions.map { features[$0.run][$0.row] }
    }
}

/// The classical reductions a model's latents are compared with at equal dimension.
public enum DecodingBaseline: String, CaseIterable, Sendable {
    /// PCA fitted on every volume.
    case pca
    /// FastICA (parallel, logcosh) fitted on every volume.
    case ica
    /// Every region (or feature) as it is.
    case raw

    /// The baseline's features of `rows` (the decoded volumes), its reduction fitted on
    /// `allVolumes` (unsupervised, like the models), with `components` components.
    public func method(allVolumes: [[Double]], rows: [[Double]], components: Int, seed: UInt64) throws -> DecodingComparison.Method {
        switch self {
        case .pca: return .init(name: "PCA", kind: "pca", features: PCA(fitting: allVolumes, components: components).transform(rows))
        case .ica: return .init(name: "FastICA", kind: "ica", features: try FastICA(fitting: allVolumes, components: components, seed: seed).transform(rows))
        case .raw: return .init(name: "raw regions", kind: "raw", features: rows)
        }
    }

    /// Every baseline of `kinds`, in that order.
    public static func methods(_ kinds: [DecodingBaseline], allVolumes: [[Double]], rows: [[Double]], components: Int,
                               seed: UInt64) throws -> [DecodingComparison.Method] {
        try kinds.map { try $0.method(allVolumes: allVolumes, rows: rows, components: components, seed: seed) }
    }
}
