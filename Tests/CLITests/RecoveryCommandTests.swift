import Foundation
import TestSupport
import XCTest

/// `fmridyn simulate --system/--nuisance`, `fmridyn bench recovery` and `fit --observation` as a
/// user's script runs them.
final class RecoveryCommandTests: XCTestCase {
    func testSimulateWritesThePlanarSystemsTruth() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let result = try CommandRunner.run(["simulate", "--out", directory.path, "--subjects", "1", "--runs", "1", "--volumes", "20",
                                            "--grid", "4mm", "--system", "limit-cycle", "--nuisance", "1", "-q"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let truth = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: directory.file("ground_truth/fixed_points.json")))) as? [String: Any])
        XCTAssertEqual(truth["kind"] as? String, "limit-cycle")
        XCTAssertEqual(truth["dimension"] as? Int, 2)
        XCTAssertEqual(truth["cycle_period_s"] as? Double, 20)
        XCTAssertEqual(truth["nuisance"] as? Double, 1)
        let points = try XCTUnwrap(truth["fixed_points"] as? [[String: Any]])
        XCTAssertEqual(points.count, 1)
        XCTAssertEqual(points.first?["classification"] as? String, "unstable")
        let latents = try String(contentsOfFile: directory.file("ground_truth/sub-01_task-motor_run-1_latents.tsv"), encoding: .utf8)
        XCTAssertTrue(latents.hasPrefix("volume\ttime_s\tcondition\tz1\tz2\tbold_z1\tbold_z2\n"), String(latents.prefix(80)))
    }

    func testBadOptionsAreUsageErrors() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let unknown = try CommandRunner.run(["bench", "recovery", "--out", directory.path, "--models", "lfads"])
        XCTAssertEqual(unknown.status, 2, unknown.stderr)
        XCTAssertTrue(unknown.stderr.contains("unknown variant 'lfads'") && unknown.stderr.contains("node-hrf-nuisance"), unknown.stderr)
        let system = try CommandRunner.run(["simulate", "--out", directory.path, "--system", "lorenz"])
        XCTAssertEqual(system.status, 2, system.stderr)
        let nuisance = try CommandRunner.run(["simulate", "--out", directory.path, "--nuisance", "nan"])
        XCTAssertEqual(nuisance.status, 2, nuisance.stderr)
        let observation = try CommandRunner.run(["fit", "x.tsv", "--tr", "2", "--out", directory.path + "/m", "--observation", "bold"])
        XCTAssertEqual(observation.status, 2, observation.stderr)
        XCTAssertTrue(observation.stderr.contains("--observation") && observation.stderr.contains("'instantaneous' and 'hrf'"), observation.stderr)
    }

    /// A report from no finished cell lists every cell as not run and writes both files.
    func testReportOnlyListsCellsNotRun() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let result = try CommandRunner.run(["bench", "recovery", "--quick", "--report-only", "--out", directory.path, "-q"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.contains("Not run (3 of 3 cells): multistable noise 1.0 seed 1"), result.stdout)
        XCTAssertTrue(FileManager.default.fileExists(atPath: directory.file("recovery.json")))
        XCTAssertTrue(FileManager.default.fileExists(atPath: directory.file("recovery.md")))
    }
}
