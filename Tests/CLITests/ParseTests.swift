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
        let root = NSTemporaryDirectory() + "parse-bids-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let bids = ["--task", "motor", "--atlas", "schaefer100", "--high-pass", "0.01", "--no-detrend"]
        let fit = try XCTUnwrap(try FMRIDyn.parseAsRoot(["fit", root, "--out", "m"] + bids) as? Fit)
        let points = try XCTUnwrap(try FMRIDyn.parseAsRoot(["fixed-points", "--model", "m", "--data", root, "--out", "f.json"] + bids) as? FixedPoints)
        let robust = try XCTUnwrap(try FMRIDyn.parseAsRoot(["robustness", "a", "b", "--data", root, "--out", "r.json"] + bids) as? Robustness)
        let prune = try XCTUnwrap(try FMRIDyn.parseAsRoot(["prune", "--model", "m", "--sparsity", "0.5", "--method", "snip", "--data", root, "--out", "p"] + bids) as? Prune)
        for source in [fit.input.source, points.data.inputs, robust.data.inputs, prune.data.inputs] {
            guard case .bids(let inputs) = source else { return XCTFail("\(source) is not read as a BIDS dataset") }
            XCTAssertEqual(inputs.root, root)
            XCTAssertEqual(inputs.selection.task, "motor")
            XCTAssertEqual(inputs.extraction.atlas, "schaefer100")
            XCTAssertEqual(inputs.extraction.highPass, 0.01)
            XCTAssertFalse(inputs.extraction.detrend)
            XCTAssertEqual(inputs.extraction.standardize, .zscore, "model inputs are z-scored unless told otherwise")
            XCTAssertEqual(inputs.columns, .regions)
        }
        // TSV inputs: the repetition time and events as given.
        let files = try XCTUnwrap(try FMRIDyn.parseAsRoot(["fit", "x.tsv", "--tr", "0.72", "--events", "e.tsv", "--out", "m"]) as? Fit)
        guard case .timeseries(let tsv) = files.input.source else { return XCTFail("x.tsv read as BIDS") }
        XCTAssertEqual(tsv.files, ["x.tsv"])
        XCTAssertEqual(tsv.repetitionTime, 0.72)
        XCTAssertEqual(tsv.events, "e.tsv")
        XCTAssertThrowsError(try FMRIDyn.parseAsRoot(["fit", root, "--out", "m", "--confound-strategy", "motion6,bogus"])) { error in
            XCTAssertTrue(FMRIDyn.fullMessage(for: error).contains("unknown `confoundStrategy` bogus"), FMRIDyn.fullMessage(for: error))
        }
        XCTAssertThrowsError(try FMRIDyn.parseAsRoot(["merge", "a", "--model", "m", "--out", "o", "--rule", "median"]))
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
