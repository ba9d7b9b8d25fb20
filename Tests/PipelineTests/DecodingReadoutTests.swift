import Analysis
import Foundation
import Pipeline
import XCTest

final class DecodingReadoutTests: XCTestCase {
    func testSamplesSkipEmptyMissingAndExcludedLabelsInRunOrder() {
        let samples = DecodingSamples(labels: [["rest", "left", "", "right"], nil, ["n/a", "right", "left"]],
                                      groups: ["01", "02", "03"], excluding: ["rest"])
        XCTAssertEqual(samples.labels, ["left", "right", "right", "left"])
        XCTAssertEqual(samples.groups, ["01", "01", "03", "03"])
        XCTAssertEqual(samples.positions.map { [$0.run, $0.row] }, [[0, 1], [0, 3], [2, 1], [2, 2]])
        let features = [[[0.0], [1.0], [2.0], [3.0]], [], [[4.0], [5.0], [6.0]]]
        XCTAssertEqual(samples.rows(of: features), [[1.0], [3.0], [5.0], [6.0]])
        XCTAssertEqual(samples.classes, ["left", "right"])
    }

    func testRawBaselineIsTheRowsAndPCAHasTheRequestedDimension() throws {
        let all = (0..<40).map { t in [sin(Double(t)), cos(Double(t)), Double(t % 3)] }
        let methods = try DecodingBaseline.methods([.raw, .pca], allVolumes: all, rows: Array(all.prefix(5)), components: 2, seed: 1)
        XCTAssertEqual(methods.map(\.kind), ["raw", "pca"])
        XCTAssertEqual(methods[0].features, Array(all.prefix(5)))
        XCTAssertEqual(methods[1].features.count, 5)
        XCTAssertEqual(methods[1].features[0].count, 2)
        // PCA scores of the fitted data are centred: the first five of 40 need not be, all 40 are.
        let scores = try DecodingBaseline.pca.method(allVolumes: all, rows: all, components: 2, seed: 1).features
        for column in 0..<2 { XCTAssertEqual(scores.reduce(0) { $0 + $1[column] } / 40, 0, accuracy: 1e-12) }
    }

    /// Two separable classes in two subjects: the comparison's JSON reads back to the same report.
    func testComparisonReportRoundTripsThroughItsJSON() throws {
        var labels: [String] = [], groups: [String] = [], rows: [[Double]] = []
        for subject in ["01", "02", "03"] {
            for t in 0..<20 {
                labels.append(t % 2 == 0 ? "left" : "right")
                groups.append(subject)
                rows.append([t % 2 == 0 ? -1 + 0.01 * Double(t) : 1 - 0.01 * Double(t), 0.1 * Double(t % 5)])
            }
        }
        let comparison = DecodingComparison(methods: [.init(name: "NODE", kind: "node", features: rows)], labels: labels, groups: groups, folds: 3)
        let report = DecodingReport(comparison, folds: 3, groups: "subject", samples: labels.count, classifier: "logreg")
        XCTAssertEqual(report.methods[0].balancedAccuracyMean, 1, accuracy: 1e-12)
        XCTAssertEqual(report.classes, ["left", "right"])
        XCTAssertEqual(report.chance, 0.5)
        XCTAssertEqual(report.methods[0].confusion, [[30, 0], [0, 30]])
        let path = NSTemporaryDirectory() + "decoding-\(UUID().uuidString).json"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Data(report.rendered.utf8).write(to: URL(fileURLWithPath: path))
        XCTAssertEqual(try DecodingReport.read(contentsOf: path), report)
        // The public key order of comparison.json.
        let text = report.rendered
        let keys = ["\"methods\"", "\"classes\"", "\"chance\"", "\"folds\"", "\"groups\"", "\"samples\"", "\"classifier\"", "\"warnings\""]
        let offsets = keys.compactMap { text.range(of: $0)?.lowerBound }
        XCTAssertEqual(offsets.count, keys.count)
        XCTAssertEqual(offsets, offsets.sorted())
    }

    func testDecodeCommandJSONReadsAsOneMethodAndNullsAsNaN() throws {
        let json = """
            {"balanced_accuracy_mean": 0.75, "balanced_accuracy_sd": 0.05, "per_fold": [0.7, null],
             "per_class_recall": {"a": 1.0, "b": null}, "confusion": [[3, 0], [1, 2]], "classes": ["a", "b"],
             "chance": 0.5, "p_value": null, "samples": 6, "features": 4, "warnings": ["class b missing from fold 2"]}
            """
        let report = try JSONDecoder().decode(DecodingReport.self, from: Data(json.utf8))
        XCTAssertEqual(report.methods.count, 1)
        XCTAssertEqual(report.methods[0].name, "latents")
        XCTAssertEqual(report.methods[0].balancedAccuracyMean, 0.75)
        XCTAssertEqual(report.methods[0].perFold[0], 0.7)
        XCTAssertTrue(report.methods[0].perFold[1].isNaN)
        XCTAssertEqual(report.methods[0].perClassRecall[0], 1)
        XCTAssertTrue(report.methods[0].perClassRecall[1].isNaN)
        XCTAssertNil(report.methods[0].pValue)
        XCTAssertEqual(report.folds, 2)
        let section = ReportSections.decodingSection(report)
        XCTAssertTrue(section.contains("class b missing from fold 2"))
        XCTAssertTrue(section.contains("<table class=\"confusion\">"))
    }

    func testUnreadableDecodingFilesNameTheFileAndTheMissingField() throws {
        let directory = NSTemporaryDirectory() + "decoding-bad-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let cases = [("text.json", "not json", "is not a decoding JSON file"),
                     ("nomean.json", "{\"classes\": [\"a\"]}", "no balanced_accuracy_mean"),
                     ("method.json", "{\"methods\": [{\"balanced_accuracy_mean\": 0.5}, {\"name\": \"PCA\"}]}", "methods[1] has no balanced_accuracy_mean")]
        for (name, text, expected) in cases {
            try Data(text.utf8).write(to: URL(fileURLWithPath: directory + "/" + name))
            XCTAssertThrowsError(try DecodingReport.read(contentsOf: directory + "/" + name)) { error in
                let message = String(describing: error)
                XCTAssertTrue(message.contains(directory + "/" + name), message)
                XCTAssertTrue(message.contains(expected), message)
            }
        }
        XCTAssertThrowsError(try DecodingReport.read(contentsOf: directory + "/absent.json")) { error in
            XCTAssertTrue(String(describing: error).contains("does not exist"))
        }
    }
}
