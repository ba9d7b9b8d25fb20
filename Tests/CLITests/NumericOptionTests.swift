import Foundation
import TestSupport
import XCTest

/// Numeric options that are not finite or out of range are usage errors (exit 2) that name the
/// flag, before anything is read or written: NaN and infinities once crashed `extract`
/// (SIGILL converting to Int), exhausted memory in `fit` or reached an encoding error.
final class NumericOptionTests: XCTestCase {
    func testNonFiniteAndOutOfRangeValuesAreUsageErrors() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let out = directory.file("out.tsv"), model = directory.file("model")
        let extract = ["extract", directory.file("bold.nii.gz"), "--out", out, "--atlas", "power264"]
        let fit = ["fit", directory.file("runs.tsv"), "--out", model, "--tr", "2"]
        let cases: [([String], String)] = [
            (extract + ["--radius", "nan"], "--radius"), (extract + ["--radius", "inf"], "--radius"), (extract + ["--radius", "-1"], "--radius"),
            (extract + ["--smoothing-fwhm", "inf"], "--smoothing-fwhm"), (extract + ["--smoothing-fwhm", "nan"], "--smoothing-fwhm"),
            (extract + ["--smoothing-fwhm", "1e6"], "--smoothing-fwhm"),
            (extract + ["--high-pass", "nan", "--tr", "2"], "--high-pass"), (extract + ["--low-pass", "-0.1", "--tr", "2"], "--low-pass"),
            (extract + ["--tr", "nan"], "--tr"), (extract + ["--fd-threshold", "nan"], "--fd-threshold"),
            (extract + ["--dvars-threshold", "-inf"], "--dvars-threshold"),
            (fit + ["--lr", "inf"], "--lr"), (fit + ["--lr", "nan"], "--lr"), (fit + ["--beta", "nan"], "--beta"),
            (fit + ["--free-bits", "-1"], "--free-bits"), (fit + ["--clip-norm", "inf"], "--clip-norm"),
            (fit + ["--solver-step", "nan"], "--solver-step"), (fit + ["--solver-step", "1e-9"], "--solver-step"),
            (fit + ["--hidden", "100000"], "--hidden"), (fit + ["--batch-size", "100000000", "--adjoint"], "--batch-size"),
            (["fit", directory.file("runs.tsv"), "--out", model, "--tr", "nan"], "--tr"),
            (["simulate", "--out", directory.file("sim"), "--tr", "nan"], "--tr"),
            (["decode", directory.file("latents.csv"), "--out", directory.file("d.json"), "--c", "nan"], "--c"),
            (["adapt", "--model", model, directory.file("runs.tsv"), "--out", directory.file("a"), "--lr", "inf"], "--lr"),
            (["merge", directory.file("adapter"), "--model", model, "--out", directory.file("merged"), "--tr", "nan"], "--tr"),
            (["fixed-points", "--model", model, "--out", directory.file("f.json"), "--tr", "-2"], "--tr"),
            (["latents", "--model", model, directory.file("runs.tsv"), "--out", directory.file("l.csv"), "--maps-radius", "nan"], "--maps-radius"),
            (fit + ["--sparsity", "0.5", "--gsp-target", "nan"], "--gsp-target"),
            (["bench", "ode", "--step", "0"], "--step"),
        ]
        for (arguments, flag) in cases {
            let result = try CommandRunner.run(arguments)
            XCTAssertEqual(result.status, 2, "\(arguments.suffix(2)): \(result.stderr)")
            XCTAssertTrue(result.stderr.contains(flag), "\(arguments.suffix(2)) names \(flag): \(result.stderr)")
            XCTAssertFalse(result.stderr.contains("Fatal error") || result.stderr.contains("Backtracing"), result.stderr)
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path), [], "nothing was written")
        // The memory estimate names the step that would fit the budget.
        let tiny = try CommandRunner.run(fit + ["--solver-step", "1e-6"])
        XCTAssertTrue(tiny.stderr.contains("GiB") && tiny.stderr.contains("budget"), tiny.stderr)
        // A valid negative-looking value is parsed as the option's value, not as a flag.
        let negative = try CommandRunner.run(extract + ["--low-pass", "-0.1", "--tr", "2"])
        XCTAssertFalse(negative.stderr.contains("Missing value"), negative.stderr)
    }

    /// `--detrend` means the same for model inputs as for `extract` (it was refused: "Unknown
    /// option '--detrend'. Did you mean '--no-detrend'?"), and `--no-detrend` still works.
    func testDetrendFlagIsTheSameEverywhere() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        for command in [["fit", directory.file("none"), "--out", directory.file("m")],
                        ["latents", "--model", directory.file("m"), directory.file("none"), "--out", directory.file("l.csv")]] {
            for flag in ["--detrend", "--no-detrend"] {
                let result = try CommandRunner.run(command + [flag])
                XCTAssertFalse(result.stderr.contains("Unknown option"), "\(command[0]) \(flag): \(result.stderr)")
                XCTAssertNotEqual(result.status, 0, "the inputs do not exist")
            }
        }
    }

    /// `extract X --out X` (or --out onto its confounds) refuses instead of overwriting an input.
    func testExtractRefusesToOverwriteItsInput() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let bold = directory.file("bold.nii")
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: bold))
        for target in [bold, directory.path + "/./bold.nii"] {
            let result = try CommandRunner.run(["extract", bold, "--out", target, "--mask", "epi"])
            XCTAssertEqual(result.status, 2, result.stderr)
            XCTAssertTrue(result.stderr.contains("itself"), result.stderr)
        }
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: bold)), Data([1, 2, 3]))
    }
}
