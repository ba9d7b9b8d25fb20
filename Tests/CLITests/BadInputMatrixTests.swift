import Foundation
import TestSupport
import XCTest

/// The bad-input matrix of every subcommand that reads files: each input missing, a
/// directory, empty, or garbage. Every case must exit 1 or 2 (never a crash), name the file in
/// its message, and leave no output behind.
final class BadInputMatrixTests: XCTestCase {
    func testEverySubcommandRefusesBadInputs() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        // Good inputs to pair with each bad one.
        let timeseries = directory.file("sub-01_task-motor_run-1_timeseries.tsv")
        XCTAssertEqual(try CommandRunner.run(["extract", Fixtures.path("fmri/fmri1.nii.gz"), "--atlas", Fixtures.path("extraction/labels_native.nii.gz"),
                                              "--detrend", "--out", timeseries, "-q"]).status, 0)
        let model = directory.file("model")
        let fit = try CommandRunner.run(["fit", timeseries, "--tr", "1.35", "--out", model, "--window", "16", "--stride", "4", "--epochs", "1",
                                         "--latent-dim", "2", "--hidden", "4", "-q"])
        XCTAssertEqual(fit.status, 0, fit.stderr)

        // The bad inputs.
        let missing = directory.file("missing/nothing-here.tsv")
        let folder = directory.file("a-folder.tsv")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let empty = directory.file("empty.tsv")
        try Data().write(to: URL(fileURLWithPath: empty))
        let garbage = directory.file("garbage.tsv")
        try "hello world\n\u{1}\u{2}\u{3}\n".write(toFile: garbage, atomically: true, encoding: .utf8)
        let garbageImage = directory.file("garbage.nii.gz")
        try "not an image at all".write(toFile: garbageImage, atomically: true, encoding: .utf8)
        let badModel = directory.file("bad-model")
        try FileManager.default.createDirectory(atPath: badModel, withIntermediateDirectories: true)
        try "hello".write(toFile: badModel + "/config.json", atomically: true, encoding: .utf8)
        let emptyModel = directory.file("empty-model")
        try FileManager.default.createDirectory(atPath: emptyModel, withIntermediateDirectories: true)
        let files = [missing, folder, empty, garbage]
        let images = [missing, folder, garbageImage, empty]
        let models = [missing, badModel, emptyModel]

        var checked = 0
        func expectRefused(_ arguments: [String], input: String, output: String?, file: StaticString = #filePath, line: UInt = #line) throws {
            if let output { try? FileManager.default.removeItem(atPath: output) }
            let result = try CommandRunner.run(arguments)
            let name = (input as NSString).lastPathComponent
            XCTAssertTrue([1, 2].contains(result.status), "\(arguments.joined(separator: " ")): exit \(result.status)\n\(result.stderr)", file: file, line: line)
            XCTAssertTrue(result.stderr.contains(name), "\(arguments.joined(separator: " ")): the message does not name \(name):\n\(result.stderr)", file: file, line: line)
            if let output {
                XCTAssertFalse(FileManager.default.fileExists(atPath: output), "\(arguments.joined(separator: " ")) left \(output)", file: file, line: line)
            }
            checked += 1
        }
        let out = directory.file("out")
        for bad in images {
            try expectRefused(["info", bad], input: bad, output: nil)
            try expectRefused(["extract", bad, "--atlas", "power264", "--out", out + ".tsv"], input: bad, output: out + ".tsv")
            try expectRefused(["extract", Fixtures.path("fmri/fmri1.nii.gz"), "--atlas", bad, "--out", out + ".tsv"], input: bad, output: out + ".tsv")
        }
        for bad in files {
            try expectRefused(["events", bad, "--tr", "1", "--volumes", "10", "--out", out + ".tsv"], input: bad, output: out + ".tsv")
            try expectRefused(["fit", bad, "--tr", "1.35", "--out", out], input: bad, output: out + "/model.safetensors")
            try expectRefused(["latents", "--model", model, bad, "--tr", "1.35", "--out", out + ".csv"], input: bad, output: out + ".csv")
            try expectRefused(["fixed-points", "--model", model, "--data", bad, "--tr", "1.35", "--out", out + ".json"], input: bad, output: out + ".json")
            try expectRefused(["decode", bad, "--out", out + ".json"], input: bad, output: out + ".json")
            try expectRefused(["report", "--model", model, "--latents", bad, "--out", out + ".html"], input: bad, output: out + ".html")
            try expectRefused(["robustness", model, model, "--data", bad, "--tr", "1.35", "--out", out + ".json"], input: bad, output: out + ".json")
            try expectRefused(["adapt", "--model", model, bad, "--tr", "1.35", "--out", out], input: bad, output: out + "/model.safetensors")
            try expectRefused(["merge", bad, "--model", model, "--out", out], input: bad, output: out + "/model.safetensors")
            try expectRefused(["compare", bad, "--tr", "1.35", "--model", model, "--out", out + ".json"], input: bad, output: out + ".json")
        }
        for bad in models {
            try expectRefused(["latents", "--model", bad, timeseries, "--tr", "1.35", "--out", out + ".csv"], input: bad, output: out + ".csv")
            try expectRefused(["fixed-points", "--model", bad, "--data", timeseries, "--tr", "1.35", "--out", out + ".json"], input: bad, output: out + ".json")
            try expectRefused(["report", "--model", bad, "--out", out + ".html"], input: bad, output: out + ".html")
            try expectRefused(["prune", "--model", bad, "--sparsity", "0.5", "--out", out], input: bad, output: out + "/model.safetensors")
            try expectRefused(["sparsity", "--model", bad], input: bad, output: nil)
            try expectRefused(["adapt", "--model", bad, timeseries, "--tr", "1.35", "--out", out], input: bad, output: out + "/model.safetensors")
        }
        XCTAssertEqual(checked, 4 * 3 + 4 * 10 + 3 * 6)
    }
}
