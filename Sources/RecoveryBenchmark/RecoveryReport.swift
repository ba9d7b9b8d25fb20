import Foundation

/// The benchmark's summary: per setting (system and observation setting, tuning or held out)
/// and method, each score's mean and standard deviation over the seeds, plus the across-seed
/// fixed-point match against its rotated null.
public struct RecoveryReport: Codable, Sendable {
    public struct Statistic: Codable, Sendable {
        public var mean: Double
        public var sd: Double
        /// Seeds with a value (a score can be missing: no stable point found, no oscillation).
        public var n: Int
    }

    public struct Row: Codable, Sendable {
        public var setting: String
        public var heldOut: Bool
        public var method: String
        public var seeds: [UInt64]
        public var scores: [String: Statistic]
        /// Mean over seed pairs of the fraction of aligned stable points matched within the
        /// radius, and the same against randomly rotated points.
        public var seedMatch: Double?
        public var seedMatchNull: Double?
        /// The same under the calibration alignment (`MethodScores.fixedPointsCalibrated`).
        public var seedMatchCalibrated: Double? = nil
        public var seedMatchCalibratedNull: Double? = nil
    }

    public var rows: [Row]
    public var cells: [CellResult]

    /// Score names in table order.
    public static let scoreNames = ["state_r2_neural", "state_r2_bold", "forecast_r2_1", "forecast_r2_5", "vector_field_error",
                                    "fp_recall", "fp_precision", "fp_class_agreement", "fp_stable", "cycle_found", "cycle_period_s", "decoding",
                                    "decoding_held_out", "fp_recall_visited", "vector_field_error_calibrated", "fp_recall_calibrated",
                                    "fp_precision_calibrated", "fp_recall_visited_calibrated"]

    static func values(_ scores: MethodScores) -> [String: Double?] {
        [
            "state_r2_neural": scores.stateR2Neural, "state_r2_bold": scores.stateR2Bold,
            "forecast_r2_1": scores.forecastR2Step1, "forecast_r2_5": scores.forecastR2Step5,
            "vector_field_error": scores.vectorFieldError,
            "fp_recall": scores.fixedPoints?.recall, "fp_precision": scores.fixedPoints?.precision,
            "fp_class_agreement": scores.fixedPoints?.classificationAgreement, "fp_stable": scores.fixedPoints.map { Double($0.stable) },
            "cycle_found": scores.cycle.map { $0.found ? 1 : 0 }, "cycle_period_s": scores.cycle?.period ?? nil,
            "decoding": scores.decoding, "decoding_held_out": scores.decodingHeldOut,
            "fp_recall_visited": scores.fixedPoints?.recallOfVisited,
            "vector_field_error_calibrated": scores.vectorFieldErrorCalibrated,
            "fp_recall_calibrated": scores.fixedPointsCalibrated?.recall, "fp_precision_calibrated": scores.fixedPointsCalibrated?.precision,
            "fp_recall_visited_calibrated": scores.fixedPointsCalibrated?.recallOfVisited,
        ]
    }

    public init(cells: [CellResult], radius: Double) {
        self.cells = cells
        var order: [String] = []
        var grouped: [String: [CellResult]] = [:]
        for cell in cells {
            let key = (cell.cell.heldOut ? "1" : "0") + cell.cell.setting
            if grouped[key] == nil { order.append(key) }
            grouped[key, default: []].append(cell)
        }
        var rows: [Row] = []
        for key in order {
            guard let group = grouped[key], let first = group.first else { continue }
            let methods = Array(Set(group.flatMap { $0.methods.keys })).sorted { Self.methodOrder($0) < Self.methodOrder($1) }
            for method in methods {
                var scores: [String: Statistic] = [:]
                for name in Self.scoreNames {
                    let samples = group.compactMap { $0.methods[method].flatMap { Self.values($0)[name] ?? nil } }
                    guard !samples.isEmpty else { continue }
                    let mean = samples.reduce(0, +) / Double(samples.count)
                    let sd = samples.count > 1 ? (samples.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(samples.count - 1)).squareRoot() : 0
                    scores[name] = Statistic(mean: mean, sd: sd, n: samples.count)
                }
                func match(_ sets: [[[Double]]]) -> (matched: Double?, null: Double?) {
                    sets.count >= 2 ? RecoveryMetrics.seedMatch(sets, radius: radius) : (nil, nil)
                }
                let primary = match(group.compactMap { $0.methods[method]?.fixedPoints?.alignedStable })
                let calibrated = match(group.compactMap { $0.methods[method]?.fixedPointsCalibrated?.alignedStable })
                rows.append(Row(setting: first.cell.setting, heldOut: first.cell.heldOut, method: method, seeds: group.map(\.cell.seed),
                                scores: scores, seedMatch: primary.matched, seedMatchNull: primary.null,
                                seedMatchCalibrated: calibrated.matched, seedMatchCalibratedNull: calibrated.null))
            }
        }
        self.rows = rows
    }

    static func methodOrder(_ method: String) -> String {
        switch method {
        case "raw": return "0"
        case "pca": return "1"
        case "ica": return "2"
        case "glm": return "2a"
        case "glm+8": return "2b"
        case "truth": return "2c"
        case "rnn": return "3"
        default: return "4" + method
        }
    }

    public func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return try encoder.encode(self)
    }

    /// Markdown tables, tuning part then held-out part: mean (sd) over seeds; "-" where a score
    /// does not apply.
    public func markdown() -> String {
        let columns: [(String, String)] = [
            ("state_r2_neural", "R² neural"), ("state_r2_bold", "R² BOLD"), ("forecast_r2_1", "fcst R² 1"), ("forecast_r2_5", "fcst R² 5"),
            ("vector_field_error", "field err"), ("fp_recall", "FP recall"), ("fp_precision", "FP prec"), ("fp_class_agreement", "FP class"),
            ("fp_stable", "stable found"), ("cycle_found", "cycle found"), ("cycle_period_s", "period s"), ("decoding", "decoding"),
            ("decoding_held_out", "decoding test subj."), ("fp_recall_visited", "FP recall visited"),
            ("vector_field_error_calibrated", "field err cal."), ("fp_recall_calibrated", "FP recall cal."),
            ("fp_precision_calibrated", "FP prec cal."), ("fp_recall_visited_calibrated", "FP recall visited cal."),
        ]
        var text = ""
        for heldOut in [false, true] {
            let part = rows.filter { $0.heldOut == heldOut }
            guard !part.isEmpty else { continue }
            text += heldOut ? "\n### Held-out part (never tuned on)\n\n" : "### Tuning part\n\n"
            text += "| setting | method | " + columns.map(\.1).joined(separator: " | ") + " | seed match (null) | seed match cal. (null) |\n"
            text += "|" + Array(repeating: " --- |", count: columns.count + 4).joined() + "\n"
            for row in part {
                let cells = columns.map { key, _ -> String in
                    guard let s = row.scores[key] else { return "-" }
                    return key == "fp_stable" || key == "cycle_period_s" ? String(format: "%.1f", s.mean) : String(format: "%.2f (%.2f)", s.mean, s.sd)
                }
                func match(_ value: Double?, _ null: Double?) -> String {
                    value.map { m in String(format: "%.2f", m) + (null.map { String(format: " (%.2f)", $0) } ?? " (no null)") } ?? "-"
                }
                text += "| \(row.setting) | \(row.method) | " + cells.joined(separator: " | ")
                    + " | \(match(row.seedMatch, row.seedMatchNull)) | \(match(row.seedMatchCalibrated, row.seedMatchCalibratedNull)) |\n"
            }
        }
        return text
    }
}
