import ArgumentParser
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
        let leaky = try? FMRIDyn.parseAsRoot(["fit", "x.tsv", "--out", "m", "--field-leak", "0.5"]) as? Fit
        XCTAssertEqual(leaky?.options.configurations(observations: 10, repetitionTime: 0.72).0.fieldLeak, 0.5, "recorded in config.json")
        let plain = try? FMRIDyn.parseAsRoot(["fit", "x.tsv", "--out", "m"]) as? Fit
        XCTAssertNil(plain?.options.configurations(observations: 10, repetitionTime: 0.72).0.fieldLeak, "no key: config.json as before")
    }
}
