import Foundation
import Model
import Pipeline
import Preprocessing
import XCTest

/// `compare`'s chain on runs whose first region is the condition: the raw read-out decodes it
/// perfectly; the settings' errors name the setting.
final class ModelComparisonTests: XCTestCase {
    private func runs() -> [RunData] {
        (0..<4).map { subject in
            // Region 0 is +3 in condition a and -3 in b; region 1 a small subject-specific wobble.
            let conditions = (0..<20).map { $0 % 4 < 2 ? "a" : "b" }
            let rows = conditions.enumerated().map { t, label in [label == "a" ? 3.0 : -3.0, 0.1 * sin(Double(t + subject))] }
            var run = RunData(timeseries: SignalMatrix(rows: rows), repetitionTime: 2)
            run.subject = "0\(subject)"
            run.session = subject < 2 ? "pre" : "post"
            run.conditions = conditions + []
            return run
        }
    }

    func testBaselinesDecodeASeparableCondition() throws {
        var comparison = ModelComparison(models: [], baselines: [.raw, .pca])
        comparison.components = 1
        comparison.folds = 2
        let outcome = try comparison.compare(runs())
        XCTAssertEqual(outcome.comparison.rows.map(\.kind), ["raw", "pca"])
        XCTAssertEqual(outcome.comparison.rows[0].result.mean, 1, accuracy: 1e-12, "the raw read-out")
        XCTAssertEqual(outcome.comparison.rows.map(\.dimension), [2, 1])
        XCTAssertEqual(outcome.report.samples, 80)
        XCTAssertEqual(outcome.report.groups, "subject")

        let out = NSTemporaryDirectory() + "comparison-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: out) }
        try ModelComparison.write(outcome, to: out)
        let tsv = try String(contentsOfFile: out + "/comparison.tsv", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(tsv.first, "method\tkind\tfeatures\tbalanced_accuracy_mean\tbalanced_accuracy_sd\tp_value")
        XCTAssertEqual(tsv[1], "raw regions\traw\t2\t1.0\t0.0\tn/a")
        XCTAssertEqual(tsv.last, "chance\t\t\t0.5\t\t")
        XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/comparison.json"))
    }

    func testGroupingAndSettingErrors() throws {
        var comparison = ModelComparison(models: [], baselines: [.raw])
        comparison.grouping = .session
        comparison.folds = 5
        XCTAssertThrowsError(try comparison.compare(runs())) { error in
            XCTAssertEqual("\(error)", "`folds` 5 needs at least 5 distinct session values; the inputs have 4", "sessions within subjects")
        }
        comparison.folds = 2
        comparison.excluded = ["b"]
        XCTAssertThrowsError(try comparison.compare(runs())) { XCTAssertEqual("\($0)", "fewer than two conditions remain after `exclude` b") }
        var unlabelled = runs()
        for index in unlabelled.indices { unlabelled[index].conditions = nil }
        XCTAssertThrowsError(try comparison.compare(unlabelled)) { XCTAssertTrue("\($0)".hasPrefix("no per-volume conditions"), "\($0)") }
        XCTAssertEqual(ModelComparison.Model(parsing: "NODE=/models/a"), ModelComparison.Model(name: "NODE", directory: "/models/a"))
        XCTAssertEqual(ModelComparison.Model(parsing: "/models/a"), ModelComparison.Model(directory: "/models/a"))
    }
}
