import Foundation
import Model
import NIfTI
import Pipeline
import XCTest

/// The model inputs every command reads: region-timeseries files or a manifest, and a BIDS
/// dataset extracted on the fly with the participant level's settings.
final class ModelInputsTests: XCTestCase {
    private var directory = ""

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "model-inputs-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: directory)
    }

    private func write(_ text: String, to name: String) throws -> String {
        let path = directory + "/" + name
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// A manifest's columns give the entities and the TR ("n/a" is empty); a row without a
    /// tr value falls back to the file's sidecar; paths are relative to the manifest.
    func testManifestRowsCarryEntitiesAndRepetitionTimes() throws {
        _ = try write("a\tb\n1\t2\n3\t4\n5\t6\n", to: "runs/sub-01_task-motor_timeseries.tsv")
        _ = try write("a\tb\n1\t0\n0\t1\n1\t1\n", to: "runs/sub-02_task-motor_timeseries.tsv")
        _ = try write(#"{"RepetitionTime": 1.5}"#, to: "runs/sub-02_task-motor_timeseries.json")
        _ = try write("onset\tduration\ttrial_type\n2\t2\tleft\n", to: "runs/events.tsv")
        let manifest = try write("""
            timeseries\tsubject\tsession\ttr\tevents
            runs/sub-01_task-motor_timeseries.tsv\t01\tn/a\t2\truns/events.tsv
            runs/sub-02_task-motor_timeseries.tsv\t02\tpost\tn/a\tn/a

            """, to: "manifest.tsv")
        let inputs = RegionTimeseriesInputs(files: [manifest], manifest: true)
        let runs = try inputs.loadRuns()
        XCTAssertEqual(runs.map(\.subject), ["01", "02"])
        XCTAssertEqual(runs.map(\.session), ["", "post"])
        XCTAssertEqual(runs.map(\.repetitionTime), [2, 1.5])
        XCTAssertEqual(runs[0].timeseries.columns, 2)
        XCTAssertEqual(runs[0].timeseries.timePoints, 3)
        XCTAssertEqual(runs[0].conditions, ["rest", "left", "rest"], "t = 0, 2, 4 s against an event over [2, 4)")
        XCTAssertNil(runs[1].conditions)
        XCTAssertEqual(try inputs.runEntities("sub"), ["01", "02"])
        XCTAssertEqual(try inputs.runEntities("ses"), ["n/a", "post"])
        var onlySecond: [String] = []
        try inputs.forEachRun(only: [1]) { onlySecond.append($0.subject) }
        XCTAssertEqual(onlySecond, ["02"])

        // Files: the sidecar's TR, else an error naming the file, the sidecar and the fix.
        let files = RegionTimeseriesInputs(files: [directory + "/runs/sub-02_task-motor_timeseries.tsv", directory + "/runs/sub-01_task-motor_timeseries.tsv"])
        XCTAssertEqual(try files.runEntities("sub"), ["02", "01"], "from the file names")
        XCTAssertThrowsError(try files.loadRuns()) { error in
            let message = "\(error)"
            XCTAssertTrue(message.contains("sub-01_task-motor_timeseries.tsv: no repetition time") && message.contains("sub-01_task-motor_timeseries.json")
                          && message.contains("`repetitionTime`"), message)
        }
        XCTAssertEqual(ModelInputs.bidsRoot(of: [directory], manifest: false), directory)
        XCTAssertNil(ModelInputs.bidsRoot(of: [manifest], manifest: true))
        XCTAssertNil(ModelInputs.bidsRoot(of: [directory + "/runs/sub-01_task-motor_timeseries.tsv"], manifest: false))
    }

    /// A one-run BIDS dataset of a 2 x 2 x 1 image with two labelled regions: each volume's
    /// region means, the sidecar's TR, the events' conditions, and the selection's errors.
    func testBIDSRunsAreExtractedWithTheSettings() throws {
        let root = directory + "/bids"
        _ = try write(#"{"Name": "inputs", "BIDSVersion": "1.8.0"}"#, to: "bids/dataset_description.json")
        let stem = "bids/sub-01/func/sub-01_task-motor_run-1"
        _ = try write(#"{"RepetitionTime": 2.0, "TaskName": "motor"}"#, to: stem + "_bold.json")
        _ = try write("onset\tduration\ttrial_type\n4\t4\tleft\n12\t4\tright\n", to: stem + "_events.tsv")
        let volumes = 10
        // Voxel v at volume t holds 10 v + t (x fastest, then time).
        let values = (0..<volumes).flatMap { t in (0..<4).map { Float(10 * $0 + t) } }
        try NIfTIWriter.write(values, header: NIfTIHeader.make(shape: [2, 2, 1, volumes], zooms: [2, 2, 2, 2], repetitionTime: 2), to: root + "/" + stem.dropFirst(5) + "_bold.nii.gz")
        let atlas = directory + "/labels.nii.gz"
        try NIfTIWriter.write([Float(1), 1, 2, 2], header: NIfTIHeader.make(shape: [2, 2, 1], zooms: [2, 2, 2], datatype: .int16), to: atlas)

        var selection = BIDSRunSelection()
        selection.task = "motor"
        var settings = ExtractionSettings()
        settings.atlas = atlas
        var inputs = BIDSModelInputs(root: root, selection: selection, extraction: settings)
        XCTAssertEqual(try inputs.runEntities("sub"), ["01"])
        XCTAssertEqual(try inputs.runEntities("run"), ["1"])
        XCTAssertNil(try inputs.columnRuns())
        var lines: [String] = []
        var runs: [RunData] = []
        try inputs.forEachRun(progress: { lines.append($0) }) { runs.append($0) }
        XCTAssertEqual(lines, ["extracting 1/1: sub-01_task-motor_run-1_bold.nii.gz"])
        let run = try XCTUnwrap(runs.first)
        XCTAssertEqual(run.subject, "01")
        XCTAssertEqual(run.task, "motor")
        XCTAssertEqual(run.run, "1")
        XCTAssertEqual(run.repetitionTime, 2)
        XCTAssertEqual(run.volumes, Array(0..<volumes))
        XCTAssertEqual(run.timeseries.columns, 2)
        for t in 0..<volumes {
            XCTAssertEqual(run.timeseries[t, 0], Double(5 + t), accuracy: 1e-5, "mean of voxels 0 and 1")
            XCTAssertEqual(run.timeseries[t, 1], Double(25 + t), accuracy: 1e-5, "mean of voxels 2 and 3")
        }
        XCTAssertEqual(run.conditions, ["rest", "rest", "left", "left", "rest", "rest", "right", "right", "rest", "rest"])

        // The same settings drop volumes and standardise: two fewer volumes, zero-mean columns.
        inputs.extraction.dropInitial = 2
        inputs.extraction.standardize = .zscore
        let trimmed = try XCTUnwrap(try loadAll(inputs).first)
        XCTAssertEqual(trimmed.volumes, Array(2..<volumes))
        XCTAssertEqual(trimmed.conditions?.first, "left")
        XCTAssertEqual((0..<trimmed.timeseries.timePoints).map { trimmed.timeseries[$0, 0] }.reduce(0, +), 0, accuracy: 1e-4)

        // Confound settings without fMRIPrep confounds, an unknown preset, no matching run.
        inputs.extraction.confoundStrategy = ["motion6"]
        XCTAssertThrowsError(try loadAll(inputs)) { XCTAssertTrue("\($0)".contains("need fMRIPrep confounds under derivatives/"), "\($0)") }
        inputs.extraction.confoundStrategy = ["bogus"]
        XCTAssertThrowsError(try loadAll(inputs)) { XCTAssertTrue("\($0)".contains("unknown `confoundStrategy` bogus"), "\($0)") }
        // The request itself refuses it too (it used to leave unknown names out).
        inputs.extraction.confoundStrategy = ["motion6", "bogus"]
        XCTAssertThrowsError(try inputs.extraction.request(bold: "b.nii", confounds: "c.tsv", repetitionTime: 1)) {
            XCTAssertTrue("\($0)".contains("unknown `confoundStrategy` bogus"), "\($0)")
        }
        inputs.extraction.confoundStrategy = ["motion6", "wm_csf"]
        XCTAssertEqual(try inputs.extraction.request(bold: "b.nii", confounds: "c.tsv", repetitionTime: 1).confoundPresets, [.motion6, .wmCSF])
        inputs.extraction.confoundStrategy = []
        inputs.selection.task = "rest"
        XCTAssertThrowsError(try loadAll(inputs)) { XCTAssertTrue("\($0)".contains("no BOLD runs match (task rest, subjects all)"), "\($0)") }
        inputs.selection.task = "motor"
        inputs.selection.sessions = ["post"]
        XCTAssertThrowsError(try loadAll(inputs)) { XCTAssertTrue("\($0)".contains("sessions post"), "\($0)") }
    }

    private func loadAll(_ inputs: BIDSModelInputs) throws -> [RunData] {
        try ModelInputs.bids(inputs).loadRuns()
    }
}
