import Foundation

/// Several feature sets of the same volumes (latents of fitted models, PCA, FastICA, raw
/// regions) decoded with the same classifier and the same GroupKFold folds, so their balanced
/// accuracies are comparable fold by fold.
public struct DecodingComparison: Sendable {
    /// One method's features: rows are the volumes shared by every method, in the same order.
    public struct Method: Sendable {
        public var name: String
        /// `node`, `rnn`, `pca`, `ica`, `raw` (free text for other sources).
        public var kind: String
        public var features: [[Double]]

        public init(name: String, kind: String, features: [[Double]]) {
            self.name = name
            self.kind = kind
            self.features = features
        }
    }

    public struct Row: Sendable {
        public var name: String
        public var kind: String
        public var dimension: Int
        public var result: DecodingResult
    }

    public private(set) var rows: [Row] = []
    public let classes: [String]
    public let chance: Double

    /// Cross-validates every method on `labels` with folds from `groups`.
    /// - Precondition: every method has one feature row per label.
    public init(methods: [Method], labels: [String], groups: [String], folds: Int, classifier: Decoding.Classifier = .logisticRegression(c: 1),
                permutations: Int = 0, seed: UInt64 = 1) {
        classes = Array(Set(labels)).sorted()
        chance = 1 / Double(max(1, classes.count))
        for method in methods {
            precondition(method.features.count == labels.count, "\(method.name): \(method.features.count) rows for \(labels.count) labels")
            let result = Decoding.crossValidate(features: method.features, labels: labels, groups: groups, folds: folds,
                                                classifier: classifier, permutations: permutations, seed: seed)
            rows.append(Row(name: method.name, kind: method.kind, dimension: method.features.first?.count ?? 0, result: result))
        }
    }

    /// A plain-text table: method, features, balanced accuracy mean and SD, p-value.
    public var table: String {
        let width = max(6, rows.map(\.name.count).max() ?? 0)
        func pad(_ text: String, _ count: Int) -> String { text.padding(toLength: max(count, text.count), withPad: " ", startingAt: 0) }
        var lines = [pad("method", width) + "  features  balanced accuracy  p"]
        for row in rows {
            let p = row.result.pValue.map { String(format: "%.4f", $0) } ?? "-"
            lines.append(pad(row.name, width) + "  " + pad(String(row.dimension), 8) + "  "
                         + pad(String(format: "%.3f +- %.3f", row.result.mean, row.result.sd), 17) + "  " + p)
        }
        lines.append(pad("chance", width) + "  " + pad("", 8) + "  " + String(format: "%.3f", chance))
        return lines.joined(separator: "\n")
    }
}
