import Analysis
import Core
import Foundation

/// Task decoding of one or more feature sets on the same volumes and folds: what `fmridyn
/// compare` and the BIDS App's group level write (`comparison.json`, `decoding.json`) and the
/// report draws. It also reads `fmridyn decode`'s single-method JSON (one method, named
/// "latents"). Non-finite numbers are written as null and read back as NaN.
public struct DecodingReport: Sendable, Equatable {
    public struct Method: Sendable, Equatable {
        public var name: String
        /// `node`, `rnn`, `pca`, `ica`, `raw` (free text for other sources).
        public var kind: String
        /// Feature dimension.
        public var features: Int
        public var balancedAccuracyMean: Double
        public var balancedAccuracySD: Double
        public var perFold: [Double]
        /// Recall of each class, in the order of `classes`.
        public var perClassRecall: [Double]
        /// Counts, rows true class, columns predicted, in the order of `classes`.
        public var confusion: [[Int]]
        public var pValue: Double?
    }

    public var methods: [Method]
    public var classes: [String]
    public var chance: Double
    public var folds: Int
    /// What the folds group by (`subject`, `session`, `run`).
    public var groups: String
    public var samples: Int
    /// `logreg` or `lda`.
    public var classifier: String
    /// Classes missing from some training folds (the same for every method: the folds are).
    public var warnings: [String]

    public init(methods: [Method], classes: [String], chance: Double, folds: Int, groups: String, samples: Int, classifier: String,
                warnings: [String]) {
        self.methods = methods
        self.classes = classes
        self.chance = chance
        self.folds = folds
        self.groups = groups
        self.samples = samples
        self.classifier = classifier
        self.warnings = warnings
    }

    /// The report of a cross-validated comparison.
    public init(_ comparison: DecodingComparison, folds: Int, groups: String, samples: Int, classifier: String) {
        let classes = comparison.classes
        self.init(methods: comparison.rows.map { row in
            Method(name: row.name, kind: row.kind, features: row.dimension, balancedAccuracyMean: row.result.mean,
                   balancedAccuracySD: row.result.sd, perFold: row.result.perFold,
                   perClassRecall: row.result.classes.map { row.result.perClassRecall[$0] ?? .nan },
                   confusion: row.result.confusion, pValue: row.result.pValue)
        }, classes: classes, chance: comparison.chance, folds: folds, groups: groups, samples: samples, classifier: classifier,
                  warnings: comparison.rows.first?.result.warnings ?? [])
    }

    /// The JSON file: `methods` (name, kind, features, balanced_accuracy_mean,
    /// balanced_accuracy_sd, per_fold, per_class_recall, confusion, p_value), `classes`,
    /// `chance`, `folds`, `groups`, `samples`, `classifier`, `warnings`, in that order.
    public var json: JSONValue {
        .object([
            ("methods", .array(methods.map { method in
                .object([("name", .string(method.name)), ("kind", .string(method.kind)), ("features", .integer(method.features)),
                         ("balanced_accuracy_mean", .number(method.balancedAccuracyMean)), ("balanced_accuracy_sd", .number(method.balancedAccuracySD)),
                         ("per_fold", .numbers(method.perFold)),
                         ("per_class_recall", .object(zip(classes, method.perClassRecall).map { ($0, .number($1)) })),
                         ("confusion", .array(method.confusion.map { .integers($0) })),
                         ("p_value", method.pValue.map { .number($0) } ?? .null)])
            })),
            ("classes", .array(classes.map { .string($0) })), ("chance", .number(chance)),
            ("folds", .integer(folds)), ("groups", .string(groups)), ("samples", .integer(samples)),
            ("classifier", .string(classifier)),
            ("warnings", .array(warnings.map { .string($0) })),
        ])
    }

    /// The file's text (indented JSON and a final newline).
    public var rendered: String { json.rendered() + "\n" }

    /// Reads a comparison JSON, or a `fmridyn decode` JSON as a one-method report.
    public static func read(contentsOf path: String) throws -> DecodingReport {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw PipelineError("\(path) does not exist; write it with fmridyn decode or fmridyn compare.", kind: .input)
        }
        do {
            return try JSONDecoder().decode(DecodingReport.self, from: data)
        } catch let error as PipelineError {
            throw PipelineError("\(path): \(error.message); write it with fmridyn decode or fmridyn compare.", kind: .input)
        } catch {
            throw PipelineError("\(path) is not a decoding JSON file (\(Self.reason(error))); write one with fmridyn decode or fmridyn compare.", kind: .input)
        }
    }

    private static func reason(_ error: Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, let context):
            return "no \(key.stringValue)" + (context.codingPath.isEmpty ? "" : " in " + context.codingPath.map(\.stringValue).joined(separator: "."))
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context), DecodingError.dataCorrupted(let context):
            return context.codingPath.isEmpty ? "not JSON" : context.codingPath.map(\.stringValue).joined(separator: ".") + " has the wrong type"
        default:
            return "\(error)"
        }
    }
}

extension DecodingReport: Decodable {
    private enum Keys: String, CodingKey {
        case methods, classes, chance, folds, groups, samples, classifier, warnings, name, kind, features, confusion
        case mean = "balanced_accuracy_mean", sd = "balanced_accuracy_sd", perFold = "per_fold"
        case recall = "per_class_recall", pValue = "p_value"
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: Keys.self)
        classes = try container.decodeIfPresent([String].self, forKey: .classes) ?? []
        chance = try container.decodeIfPresent(Double.self, forKey: .chance) ?? .nan
        samples = try container.decodeIfPresent(Int.self, forKey: .samples) ?? 0
        groups = try container.decodeIfPresent(String.self, forKey: .groups) ?? ""
        classifier = try container.decodeIfPresent(String.self, forKey: .classifier) ?? ""
        warnings = try container.decodeIfPresent([String].self, forKey: .warnings) ?? []
        if container.contains(.methods) {
            var list = try container.nestedUnkeyedContainer(forKey: .methods)
            var methods: [Method] = []
            while !list.isAtEnd {
                let index = methods.count
                let entry = try list.nestedContainer(keyedBy: Keys.self)
                guard entry.contains(.mean) else { throw PipelineError("methods[\(index)] has no balanced_accuracy_mean") }
                methods.append(try Self.method(entry, name: "latents", classes: classes))
            }
            self.methods = methods
        } else {
            guard container.contains(.mean) else { throw PipelineError("no balanced_accuracy_mean") }
            methods = [try Self.method(container, name: "latents", classes: classes)]
        }
        folds = try container.decodeIfPresent(Int.self, forKey: .folds) ?? methods.first?.perFold.count ?? 0
    }

    private static func method(_ entry: KeyedDecodingContainer<Keys>, name: String, classes: [String]) throws -> Method {
        func number(_ key: Keys) throws -> Double { try entry.decodeIfPresent(Double.self, forKey: key) ?? .nan }
        let recall = try entry.decodeIfPresent([String: Double?].self, forKey: .recall) ?? [:]
        return Method(name: try entry.decodeIfPresent(String.self, forKey: .name) ?? name,
                      kind: try entry.decodeIfPresent(String.self, forKey: .kind) ?? "",
                      features: try entry.decodeIfPresent(Int.self, forKey: .features) ?? 0,
                      balancedAccuracyMean: try number(.mean), balancedAccuracySD: try entry.decodeIfPresent(Double.self, forKey: .sd) ?? 0,
                      perFold: try entry.decodeIfPresent([Double?].self, forKey: .perFold)?.map { $0 ?? .nan } ?? [],
                      perClassRecall: classes.map { (recall[$0] ?? nil) ?? .nan },
                      confusion: try entry.decodeIfPresent([[Int]].self, forKey: .confusion) ?? [],
                      pValue: try entry.decodeIfPresent(Double.self, forKey: .pValue))
    }
}
