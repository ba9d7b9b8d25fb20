import Foundation
import TestSupport
import XCTest

/// `fit` and `latents` straight from a BIDS directory (extraction on the fly).
final class BIDSFitTests: XCTestCase {
    func testFitAndLatentsFromBIDS() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let dataset = directory.file("sim")
        XCTAssertEqual(try CommandRunner.run(["simulate", "--out", dataset, "--subjects", "2", "--runs", "1", "--volumes", "40",
                                              "--grid", "4mm", "-q"]).status, 0)
        let bidsOptions = ["--task", "motor", "--atlas", "dosenbach160", "--radius", "6", "--confound-strategy", "motion6"]
        let model = directory.file("model")
        let fit = try CommandRunner.run(["fit", dataset, "--out", model, "--window", "16", "--stride", "8", "--epochs", "1",
                                         "--latent-dim", "2", "--hidden", "4", "-q"] + bidsOptions)
        XCTAssertEqual(fit.status, 0, fit.stderr)
        let config = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: model + "/config.json"))) as? [String: Any])
        XCTAssertEqual((config["model"] as? [String: Any])?["observations"] as? Int, 160)
        XCTAssertTrue((config["split"] as? String ?? "").hasPrefix("by subject"))
        let csv = directory.file("latents.csv")
        let latents = try CommandRunner.run(["latents", "--model", model, dataset, "--out", csv, "-q"] + bidsOptions)
        XCTAssertEqual(latents.status, 0, latents.stderr)
        let lines = try String(contentsOfFile: csv, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.count, 1 + 2 * 40)
        XCTAssertTrue(lines[1].hasPrefix("01,,motor,1,0,0.0,"), String(lines[1]))
        let wrongTask = try CommandRunner.run(["fit", dataset, "--task", "rest", "--out", model])
        XCTAssertEqual(wrongTask.status, 2)
        XCTAssertTrue(wrongTask.stderr.contains("no BOLD runs match"), wrongTask.stderr)
    }
}
