import Foundation
import TestSupport
import XCTest

/// Outputs into a folder the user cannot write: every writing subcommand exits 1 with a message
/// that names the output and says "Permission denied" (no Foundation error domain), and leaves
/// nothing behind. Root may write anywhere, so as root the commands run as `nobody` through
/// util-linux's `setpriv`.
final class ReadOnlyOutputTests: XCTestCase {
    func testEveryWritingSubcommandReportsAReadOnlyOutput() throws {
        var launcher: [String] = []
        if geteuid() == 0 {
            guard FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv") else { throw XCTSkip("running as root without /usr/bin/setpriv") }
            launcher = ["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
        }
        let directory = try TemporaryDirectory()
        defer {
            chmod(directory.file("read-only"), 0o755)
            directory.remove()
        }
        let timeseries = directory.file("sub-01_task-motor_run-1_timeseries.tsv")
        let atlas = Fixtures.path("extraction/labels_native.nii.gz"), image = Fixtures.path("fmri/fmri1.nii.gz")
        XCTAssertEqual(try CommandRunner.run(["extract", image, "--atlas", atlas, "--detrend", "--out", timeseries, "-q"]).status, 0)
        let model = directory.file("model")
        let fit = try CommandRunner.run(["fit", timeseries, "--tr", "1.35", "--out", model, "--window", "16", "--stride", "4", "--epochs", "1",
                                         "--latent-dim", "2", "--hidden", "4", "-q"])
        XCTAssertEqual(fit.status, 0, fit.stderr)
        let latents = directory.file("latents.csv")
        XCTAssertEqual(try CommandRunner.run(["latents", "--model", model, timeseries, "--tr", "1.35", "--out", latents, "-q"]).status, 0)

        let readOnly = directory.file("read-only")
        try FileManager.default.createDirectory(atPath: readOnly, withIntermediateDirectories: true)
        XCTAssertEqual(chmod(readOnly, 0o555), 0)
        let fitting = ["--tr", "1.35", "--window", "16", "--stride", "4", "--epochs", "1", "--latent-dim", "2", "--hidden", "4", "-q"]
        let cases: [(arguments: [String], output: String)] = [
            (["extract", image, "--atlas", atlas, "--out", readOnly + "/run.tsv", "-q"], "run.tsv"),
            (["events", Fixtures.path("events/motor_events.tsv"), "--tr", "1", "--volumes", "40", "--out", readOnly + "/conditions.tsv"], "conditions.tsv"),
            (["simulate", "--out", readOnly + "/simulated", "-q"], "simulated"),
            (["fit", timeseries, "--out", readOnly + "/model"] + fitting, "model"),
            (["latents", "--model", model, timeseries, "--tr", "1.35", "--out", readOnly + "/latents.csv", "-q"], "latents.csv"),
            (["fixed-points", "--model", model, "--out", readOnly + "/fixed_points.json", "-q"], "fixed_points.json"),
            (["report", "--model", model, "--latents", latents, "--out", readOnly + "/report.html", "-q"], "report.html"),
            (["robustness", model, model, "--data", timeseries, "--tr", "1.35", "--out", readOnly + "/robustness.json", "-q"], "robustness.json"),
            (["prune", "--model", model, "--sparsity", "0.5", "--out", readOnly + "/pruned", "-q"], "pruned"),
            (["decode", latents, "--out", readOnly + "/decoding.json"], "decoding.json"),
            (["compare", timeseries, "--tr", "1.35", "--model", model, "--out", readOnly + "/comparison", "-q"], "comparison"),
            (["compare", timeseries, "--tr", "1.35", "--model", model, "--out", readOnly + "/comparison.json", "-q"], "comparison.json"),
        ]
        for (arguments, output) in cases {
            let result = try CommandRunner.run(arguments, launcher: launcher)
            let command = arguments.prefix(3).joined(separator: " ")
            XCTAssertEqual(result.status, 1, "\(command): \(result.stderr)")
            XCTAssertTrue(result.stderr.contains(output) && result.stderr.contains("read-only"), "\(command) does not name its output: \(result.stderr)")
            XCTAssertTrue(result.stderr.lowercased().contains("permission denied"), "\(command) does not say why: \(result.stderr)")
            XCTAssertFalse(result.stderr.contains("NSCocoaErrorDomain") || result.stderr.contains("could not be completed"), "\(command): \(result.stderr)")
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: readOnly), [])

        // A model folder the user cannot write: refitting into it (or resuming) is refused before training.
        XCTAssertEqual(chmod(model, 0o555), 0)
        defer { chmod(model, 0o755) }
        let refit = try CommandRunner.run(["fit", timeseries, "--out", model, "--force"] + fitting, launcher: launcher)
        XCTAssertEqual(refit.status, 1, refit.stderr)
        XCTAssertTrue(refit.stderr.contains("model") && refit.stderr.lowercased().contains("permission denied"), refit.stderr)
    }
}
