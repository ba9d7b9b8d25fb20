import ArgumentParser
import Pipeline
import XCTest

@testable import fmridyn

/// In-process parsing with argument-parser's own helpers: every subcommand has help with an
/// example, and user mistakes are validation errors before anything runs.
final class ParseTests: XCTestCase {
    func testEverySubcommandHasHelpWithAnExample() {
        var commands: [ParsableCommand.Type] = FMRIDyn.configuration.subcommands
        var checked = 0
        while let command = commands.popLast() {
            commands += command.configuration.subcommands  // nested ones (bench read, bench gemm, ...)
            let help = FMRIDyn.helpMessage(for: command)
            let name = command.configuration.commandName ?? "\(command)"
            XCTAssertTrue(help.contains("Example"), "\(name) --help has an example")
            XCTAssertFalse(command.configuration.abstract.isEmpty, "\(name) has an abstract")
            checked += 1
        }
        XCTAssertGreaterThan(checked, 25)
    }

    func testValidationErrorsInProcess() {
        let bad: [[String]] = [
            ["fit", "x.tsv", "--out", "m", "--lr", "nan"],
            ["fit", "x.tsv", "--out", "m", "--dynamics", "lstm"],
            ["fit", "x.tsv", "--out", "m", "--force", "--resume"],
            ["fit", "x.tsv", "--out", "m", "--shards", "0"],
            ["fit", "x.tsv", "--out", "m", "--voxel-pca", "1000000000"],
            ["fixed-points", "--model", "m", "--data", "x.tsv", "--tr", "1", "--out", "f.json", "--starts", "999999999"],
            ["robustness", "a", "b", "--data", "x.tsv", "--tr", "1", "--out", "r.json", "--null-samples", "0"],
            ["decode", "l.csv", "--out", "d.json", "--permutations", "-1"],
            ["events", "e.tsv", "--tr", "1", "--volumes", "100000000", "--out", "x.tsv"],
            ["simulate", "--out", "s", "--volumes", "9"],
            ["simulate", "--out", "s", "--subjects", "100000"],
            ["fit", "x.tsv", "--out", "m", "--federated", "--rounds", "0"],
            ["fit", "x.tsv", "--out", "m", "--federated", "--shards", "2"],
            ["fit", "x.tsv", "--out", "m", "--federated", "--sparsity", "0.5", "--prune", "magnitude"],
            ["fit", "x.tsv", "--out", "m", "--exchange", "allreduce"],
            ["extract", "b.nii.gz", "--out", "o.tsv", "--atlas", "power264", "--radius", "-1"],
            ["extract", "b.nii.gz", "--out", "o.tsv", "--atlas", "power264", "--nan-policy", "drop", "--smoothing-fwhm", "6"],
            ["simulate", "--out", "s", "--grid", "1mm"],
            ["decode", "l.csv", "--out", "d.json", "--folds", "1"],
            ["fit", "x.tsv", "--out", "m", "--field-leak", "-0.5"],
            ["fit", "x.tsv", "--out", "m", "--field-leak", "nan"],
            ["fit", "x.tsv", "--out", "m", "--dynamics", "rnn", "--field-leak", "0.5"],
            ["fit", "x.tsv", "--out", "m", "--predictive-posterior", "--shooting-interval", "0"],
            ["fit", "x.tsv", "--out", "m", "--shooting-interval", "8"],
            ["fit", "x.tsv", "--out", "m", "--seeds", "1,2", "--alignment", "procrustes"],
            ["robustness", "a", "b", "--data", "x.tsv", "--tr", "1", "--out", "r.json", "--alignment", "rigid"],
            ["decode", "l.csv", "--out", "d.json", "--classifier", "svm"],
            ["compare", "--model", "m", "x.tsv", "--classifier", "knn"],
        ]
        for arguments in bad {
            XCTAssertThrowsError(try FMRIDyn.parseAsRoot(arguments), "\(arguments)") { error in
                XCTAssertEqual(FMRIDyn.exitCode(for: error), .validationFailure, "\(arguments): \(FMRIDyn.message(for: error))")
            }
        }
        // The same flags parse when valid, with the typed choices.
        XCTAssertNoThrow(try FMRIDyn.parseAsRoot(["fit", "x.tsv", "--out", "m", "--dynamics", "rnn", "--solver", "dopri5", "--no-detrend"]))
        let parsed = try? FMRIDyn.parseAsRoot(["fit", "x.tsv", "--out", "m", "--dynamics", "rnn", "--observation", "hrf"]) as? Fit
        XCTAssertEqual(parsed?.options.dynamics, .rnn)
        XCTAssertEqual(parsed?.options.observation, .hrf)
        let affine = try? FMRIDyn.parseAsRoot(["robustness", "a", "b", "--data", "x.tsv", "--tr", "1", "--out", "r.json", "--alignment", "affine"]) as? Robustness
        XCTAssertEqual(affine?.alignment, .affine)
        let lda = try? FMRIDyn.parseAsRoot(["decode", "l.csv", "--out", "d.json", "--classifier", "lda"]) as? Decode
        XCTAssertEqual(lda?.classifier, .lda)
        let leaky = try? FMRIDyn.parseAsRoot(["fit", "x.tsv", "--out", "m", "--field-leak", "0.5"]) as? Fit
        XCTAssertEqual(leaky?.options.configurations(observations: 10, repetitionTime: 0.72).0.fieldLeak, 0.5, "recorded in config.json")
        let plain = try? FMRIDyn.parseAsRoot(["fit", "x.tsv", "--out", "m"]) as? Fit
        XCTAssertNil(plain?.options.configurations(observations: 10, repetitionTime: 0.72).0.fieldLeak, "no key: config.json as before")
        XCTAssertNil(plain?.options.configurations(observations: 10, repetitionTime: 0.72).0.shootingInterval)
        let shooting = try? FMRIDyn.parseAsRoot(["fit", "x.tsv", "--out", "m", "--predictive-posterior", "--shooting-interval", "8"]) as? Fit
        XCTAssertEqual(shooting?.options.configurations(observations: 10, repetitionTime: 0.72).0.shootingInterval, 8)
        XCTAssertEqual(shooting?.options.configurations(observations: 10, repetitionTime: 0.72).0.predictivePosterior, true)
    }

    /// fit, fixed-points and robustness read model inputs through one source: the same BIDS
    /// options land in the same place whether the inputs are positional or --data.
    func testModelInputsParseTheSameWayInEveryCommand() throws {
        let bids = ["--task", "motor", "--atlas", "schaefer100", "--high-pass", "0.01", "--no-detrend"]
        let fit = try XCTUnwrap(try FMRIDyn.parseAsRoot(["fit", "bids_dir", "--out", "m"] + bids) as? Fit)
        let points = try XCTUnwrap(try FMRIDyn.parseAsRoot(["fixed-points", "--model", "m", "--data", "bids_dir", "--out", "f.json"] + bids) as? FixedPoints)
        let robust = try XCTUnwrap(try FMRIDyn.parseAsRoot(["robustness", "a", "b", "--data", "bids_dir", "--out", "r.json"] + bids) as? Robustness)
        for source in [fit.input.source, points.data.inputs, robust.data.inputs] {
            XCTAssertEqual(source.inputs, ["bids_dir"])
            XCTAssertEqual(source.bids.task, "motor")
            XCTAssertEqual(source.bids.atlas, "schaefer100")
            XCTAssertEqual(source.bids.highPass, 0.01)
            XCTAssertFalse(source.bids.detrend)
        }
        XCTAssertEqual(robust.models, ["a", "b"])
        // A manifest through --data takes exactly one file, as fit's inputs do.
        XCTAssertThrowsError(try FMRIDyn.parseAsRoot(["fixed-points", "--model", "m", "--data", "a.tsv", "b.tsv", "--manifest", "--out", "f.json"]))
    }

    /// The sparse options arrive in the pipeline as typed settings, and compare's baselines as kinds.
    func testSparseSettingsAndBaselinesAreTyped() throws {
        let fit = try XCTUnwrap(try FMRIDyn.parseAsRoot(["fit", "x.tsv", "--out", "m", "--sparsity", "0.8", "--prune", "rigl", "--prune-scope", "erk",
                                                         "--drop-fraction", "0.2", "--update-interval", "50"]) as? Fit)
        XCTAssertEqual(fit.sparse.settings, SparsitySettings(sparsity: 0.8, method: .rigl, scope: .erk, updateInterval: 50, dropFraction: 0.2))
        let compare = try XCTUnwrap(try FMRIDyn.parseAsRoot(["compare", "--model", "m", "x.tsv", "--baselines", "raw, PCA"]) as? Compare)
        XCTAssertEqual(compare.selectedBaselines, [.raw, .pca])
        XCTAssertThrowsError(try FMRIDyn.parseAsRoot(["compare", "--model", "m", "x.tsv", "--baselines", "pca,nmf"])) { error in
            XCTAssertTrue(FMRIDyn.message(for: error).contains("unknown baseline nmf"))
        }
    }

    /// Library errors name settings; the tool shows the flags.
    func testLibrarySettingNamesBecomeFlags() {
        XCTAssertEqual(SettingFlags.rewrite("lower `testFraction` or add subjects; `highPass` must be below `lowPass`"),
                       "lower --test-fraction or add subjects; --high-pass must be below --low-pass")
        XCTAssertEqual(SettingFlags.rewrite("pass `repetitionTime` SECONDS, `unknownThing` stays, a lone ` too"),
                       "pass --tr SECONDS, `unknownThing` stays, a lone ` too")
        XCTAssertEqual(SettingFlags.rewrite("no settings here"), "no settings here")
    }
}
