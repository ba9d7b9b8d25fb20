import Foundation
import TestSupport
import XCTest

/// `fmridyn fit --start wells` end to end on two runs of the nitime fixture's regions.
final class WellsStartCLITests: XCTestCase {
    func testWellsStartBeatsARandomStartAndNamesWhatItNeeds() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let first = directory.file("sub-01_task-motor_run-1_timeseries.tsv")
        XCTAssertEqual(try CommandRunner.run(["extract", Fixtures.path("fmri/fmri1.nii.gz"), "--atlas", Fixtures.path("extraction/labels_native.nii.gz"),
                                              "--detrend", "--out", first, "-q"]).status, 0)
        try FileManager.default.copyItem(atPath: first, toPath: directory.file("sub-02_task-motor_run-1_timeseries.tsv"))
        try FileManager.default.copyItem(atPath: Fixtures.path("events/motor_events.tsv"), toPath: directory.file("events.tsv"))
        let manifest = directory.file("runs.tsv")
        try """
            timeseries\tsubject\tevents\ttr
            sub-01_task-motor_run-1_timeseries.tsv\t01\tevents.tsv\t1.35
            sub-02_task-motor_run-1_timeseries.tsv\t02\tevents.tsv\t1.35

            """.write(toFile: manifest, atomically: true, encoding: .utf8)
        let model = ["--external-inputs", "--observation", "hrf", "--inference", "initial", "--latent-dim", "2", "--hidden", "8"]

        // With a vanishing learning rate the one epoch scores the start itself: the wells start's
        // decoder is the least-squares map of its path, a random start's is random.
        var validation: [String: Double] = [:]
        for start in ["wells", "random"] {
            let out = directory.file("model-\(start)")
            let fit = try CommandRunner.run(["fit", manifest, "--manifest", "--out", out, "--start", start, "--window", "40", "--stride", "40",
                                             "--epochs", "1", "--lr", "1e-9"] + model)
            XCTAssertEqual(fit.status, 0, fit.stderr)
            if start == "wells" {
                XCTAssertTrue(fit.stderr.contains("wells start: 8 components from 1 training runs"), fit.stderr)
                XCTAssertTrue(fit.stderr.contains("one window per run (40 volumes"), fit.stderr)
            }
            let log = try String(contentsOfFile: out + "/training_log.csv", encoding: .utf8).split(separator: "\n")
            let header = log[0].split(separator: ",")
            let column = try XCTUnwrap(header.firstIndex(of: "val_elbo"))
            validation[start] = Double(log[1].split(separator: ",")[column])
        }
        let wells = try XCTUnwrap(validation["wells"]), random = try XCTUnwrap(validation["random"])
        XCTAssertGreaterThan(wells, random + 100, "validation ELBO of the start: wells \(wells), random \(random)")
        // Wells read at rest. The fixture's runs end at 54 s, so only its first block
        // (left_hand) is followed by 6 s of rest: one well is refused. Blocks with rest after
        // each give one well per condition.
        let oneWell = try CommandRunner.run(["fit", manifest, "--manifest", "--out", directory.file("x"), "--start", "wells",
                                             "--wells-rest-settle", "6", "--epochs", "1"] + model)
        XCTAssertNotEqual(oneWell.status, 0)
        XCTAssertTrue(oneWell.stderr.contains("at least two conditions (found 1): lower the settling time"), oneWell.stderr)
        try """
            onset\tduration\ttrial_type
            2\t6\tleft_hand
            20\t6\tright_hand
            36\t6\ttongue

            """.write(toFile: directory.file("rested.tsv"), atomically: true, encoding: .utf8)
        let rested = directory.file("runs-rested.tsv")
        try String(contentsOfFile: manifest, encoding: .utf8).replacingOccurrences(of: "events.tsv", with: "rested.tsv")
            .write(toFile: rested, atomically: true, encoding: .utf8)
        let rest = try CommandRunner.run(["fit", rested, "--manifest", "--out", directory.file("model-rest"), "--start", "wells",
                                          "--wells-rest-settle", "6", "--window", "40", "--stride", "40", "--epochs", "1", "--lr", "1e-9"] + model)
        XCTAssertEqual(rest.status, 0, rest.stderr)
        XCTAssertTrue(rest.stderr.contains("wells start: 3 wells at rest 6 s after each condition from 1 training runs"), rest.stderr)
        let negative = try CommandRunner.run(["fit", manifest, "--manifest", "--out", directory.file("x"), "--start", "wells",
                                              "--wells-rest-settle", "-1"] + model)
        XCTAssertEqual(negative.status, 2)
        XCTAssertTrue(negative.stderr.contains("--wells-rest-settle"), negative.stderr)

        // The MAP read-out of the same model: other values, same rows and columns.
        var tables: [[Substring]] = []
        for extra in [[], ["--map-transition-sd", "0.03"]] {
            let csv = directory.file("latents-\(extra.count).csv")
            let latents = try CommandRunner.run(["latents", "--model", directory.file("model-wells"), manifest, "--manifest", "--out", csv, "-q"] + extra)
            XCTAssertEqual(latents.status, 0, latents.stderr)
            tables.append(try String(contentsOfFile: csv, encoding: .utf8).split(separator: "\n"))
        }
        XCTAssertEqual(tables[0].count, 81)
        XCTAssertEqual(tables[0].count, tables[1].count)
        XCTAssertEqual(tables[0][0], tables[1][0])
        XCTAssertNotEqual(tables[0][1...], tables[1][1...])

        // The task-free read-out needs no events: the same runs listed without them give the
        // same rows and columns (conditions empty) and other values than the path given the task.
        let bareManifest = directory.file("runs-no-events.tsv")
        try """
            timeseries\tsubject\ttr
            sub-01_task-motor_run-1_timeseries.tsv\t01\t1.35
            sub-02_task-motor_run-1_timeseries.tsv\t02\t1.35

            """.write(toFile: bareManifest, atomically: true, encoding: .utf8)
        let freeCSV = directory.file("latents-free.csv")
        let free = try CommandRunner.run(["latents", "--model", directory.file("model-wells"), bareManifest, "--manifest", "--out", freeCSV, "-q",
                                          "--map-transition-sd", "0.03", "--task-free"])
        XCTAssertEqual(free.status, 0, free.stderr)
        let freeTable = try String(contentsOfFile: freeCSV, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false).filter { !$0.isEmpty }
        XCTAssertEqual(freeTable.count, 81)
        XCTAssertEqual(freeTable[0], tables[1][0])
        let values = { (row: Substring) in row.split(separator: ",", omittingEmptySubsequences: false).suffix(2).compactMap { Double($0) } }
        XCTAssertEqual(values(freeTable[1]).count, 2)
        XCTAssertNotEqual(freeTable[1...].map(values), tables[1][1...].map(values), "withholding the task moves the path")
        let needsEvents = try CommandRunner.run(["latents", "--model", directory.file("model-wells"), bareManifest, "--manifest", "--out", directory.file("x.csv")])
        XCTAssertNotEqual(needsEvents.status, 0)
        XCTAssertTrue(needsEvents.stderr.contains("events"), needsEvents.stderr)
        let withoutQ = try CommandRunner.run(["latents", "--model", directory.file("model-wells"), bareManifest, "--manifest", "--out", freeCSV, "--task-free"])
        XCTAssertEqual(withoutQ.status, 2)
        XCTAssertTrue(withoutQ.stderr.contains("--map-transition-sd"), withoutQ.stderr)
        // A model fitted without the task has nothing to withhold: the flag is refused.
        let plain = directory.file("model-plain")
        let plainFit = try CommandRunner.run(["fit", bareManifest, "--manifest", "--out", plain, "--window", "40", "--stride", "40",
                                              "--epochs", "1", "--latent-dim", "2", "--hidden", "8", "-q"])
        XCTAssertEqual(plainFit.status, 0, plainFit.stderr)
        let nothingToWithhold = try CommandRunner.run(["latents", "--model", plain, bareManifest, "--manifest", "--out", freeCSV,
                                                       "--map-transition-sd", "0.1", "--task-free"])
        XCTAssertEqual(nothingToWithhold.status, 2)
        XCTAssertTrue(nothingToWithhold.stderr.contains("--external-inputs"), nothingToWithhold.stderr)

        // What the start needs is named in one message.
        let bare = try CommandRunner.run(["fit", manifest, "--manifest", "--out", directory.file("x"), "--start", "wells"])
        XCTAssertEqual(bare.status, 2)
        for flag in ["--observation hrf", "--external-inputs", "--inference initial"] {
            XCTAssertTrue(bare.stderr.contains(flag), bare.stderr)
        }
        let voxels = try CommandRunner.run(["fit", manifest, "--manifest", "--out", directory.file("x"), "--start", "wells", "--voxels"] + model)
        XCTAssertEqual(voxels.status, 2)
        XCTAssertTrue(voxels.stderr.contains("--voxels"), voxels.stderr)
        let sparse = try CommandRunner.run(["fit", manifest, "--manifest", "--out", directory.file("x"), "--start", "wells", "--sparsity", "0.5"] + model)
        XCTAssertEqual(sparse.status, 2)
        XCTAssertTrue(sparse.stderr.contains("--sparsity"), sparse.stderr)
    }
}
