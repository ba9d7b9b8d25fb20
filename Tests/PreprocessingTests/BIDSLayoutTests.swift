import Foundation
import TestSupport
import XCTest

@testable import Preprocessing

final class BIDSLayoutTests: XCTestCase {
    var directory: TemporaryDirectory!
    override func setUpWithError() throws { directory = try TemporaryDirectory() }
    override func tearDown() { directory.remove() }

    func touch(_ relative: String, _ text: String = "") throws {
        let path = directory.path + "/" + relative
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }

    func makeDataset() throws {
        try touch("dataset_description.json", #"{"Name": "t", "BIDSVersion": "1.8.0"}"#)
        try touch("task-motor_bold.json", #"{"RepetitionTime": 2.0, "TaskName": "motor"}"#)
        try touch("task-motor_events.tsv", "onset\tduration\ttrial_type\n")
        for subject in ["01", "02"] {
            for run in [1, 2] {
                try touch("sub-\(subject)/func/sub-\(subject)_task-motor_run-\(run)_bold.nii.gz")
            }
        }
        // sub-02 run 2 has its own events and a sidecar overriding the TR.
        try touch("sub-02/func/sub-02_task-motor_run-2_events.tsv", "onset\tduration\ttrial_type\n")
        try touch("sub-02/func/sub-02_task-motor_run-2_bold.json", #"{"RepetitionTime": 0.72}"#)
        // A session-based subject and a resting run.
        try touch("sub-03/ses-a/func/sub-03_ses-a_task-motor_bold.nii")
        try touch("sub-03/ses-a/func/sub-03_ses-a_task-rest_bold.nii")
        try touch("sub-01/anat/sub-01_T1w.nii.gz")
        // fMRIPrep derivatives in two spaces.
        let prefix = "derivatives/fmriprep/sub-01/func/sub-01_task-motor_run-1"
        try touch(prefix + "_space-T1w_desc-preproc_bold.nii.gz")
        try touch(prefix + "_space-MNI152NLin2009cAsym_desc-preproc_bold.nii.gz")
        try touch(prefix + "_space-MNI152NLin2009cAsym_desc-brain_mask.nii.gz")
        try touch(prefix + "_desc-confounds_timeseries.tsv", "a\n1\n")
    }

    func testDiscoveryInheritanceAndDerivatives() throws {
        try makeDataset()
        let layout = try BIDSLayout(root: directory.path, space: "MNI152NLin2009cAsym")
        XCTAssertEqual(layout.runs.count, 6)
        XCTAssertEqual(layout.runs.map(\.subject), ["01", "01", "02", "02", "03", "03"])
        let first = layout.runs[0]
        XCTAssertEqual(first.task, "motor")
        XCTAssertEqual(first.run, "1")
        XCTAssertEqual(first.events, directory.path + "/task-motor_events.tsv", "root-level events apply to every motor run")
        XCTAssertEqual(first.repetitionTime, 2.0)
        XCTAssertTrue(first.preprocessedBold?.hasSuffix("_space-MNI152NLin2009cAsym_desc-preproc_bold.nii.gz") ?? false)
        XCTAssertTrue(first.brainMask?.hasSuffix("desc-brain_mask.nii.gz") ?? false)
        XCTAssertTrue(first.confounds?.hasSuffix("desc-confounds_timeseries.tsv") ?? false)
        XCTAssertNil(layout.runs[1].preprocessedBold)
        let overridden = layout.runs[3]
        XCTAssertEqual(overridden.events, directory.path + "/sub-02/func/sub-02_task-motor_run-2_events.tsv", "the most specific events file wins")
        XCTAssertEqual(overridden.repetitionTime, 0.72)
        XCTAssertEqual(overridden.sidecars.count, 2)
        let rest = layout.runs.first { $0.task == "rest" }
        XCTAssertNil(rest?.events, "motor events do not apply to rest")
        XCTAssertNil(rest?.repetitionTime)
        XCTAssertEqual(rest?.session, "a")
    }

    func testFilters() throws {
        try makeDataset()
        let layout = try BIDSLayout(root: directory.path)
        XCTAssertEqual(layout.runs(subjects: ["sub-02"]).count, 2)
        XCTAssertEqual(layout.runs(subjects: ["01", "03"], tasks: ["motor"]).count, 3)
        XCTAssertEqual(layout.runs(sessions: ["a"]).count, 2)
        XCTAssertEqual(layout.runs(runs: ["02"]).map(\.subject), ["01", "02"], "run labels compare as numbers")
        XCTAssertTrue(layout.runs[0].preprocessedBold?.contains("space-MNI152NLin2009cAsym") ?? false, "without a space, the first in name order")
    }

    func testNames() {
        let name = BIDSName("sub-01_ses-2_task-motor_acq-fast_run-3_desc-preproc_bold.nii.gz")
        XCTAssertEqual(name?["acq"], "fast")
        XCTAssertEqual(name?.suffix, "bold")
        XCTAssertEqual(name?.fileExtension, ".nii.gz")
        XCTAssertNil(BIDSName("sub-_task-x_bold.nii"), "an entity needs a value")
        XCTAssertNil(BIDSName("sub-01_task-x_run-1.nii"), "the last part is a suffix, not an entity")
        XCTAssertThrowsError(try BIDSLayout(root: directory.path + "/missing"))
    }

    /// fMRIPrep's filter-file format: values, lists, numbers against zero-padded labels, null
    /// for an absent entity, the space of the preprocessed BOLD; errors name file and field.
    func testBIDSFilterFile() throws {
        try makeDataset()
        let layout = try BIDSLayout(root: directory.path, space: "MNI152NLin2009cAsym")
        func select(_ json: String) throws -> [String] {
            try touch("filter.json", json)
            let filter = try BIDSFilter(contentsOf: directory.path + "/filter.json")
            return layout.runs.filter(filter.accepts).map { ($0.bold as NSString).lastPathComponent }
        }
        XCTAssertEqual(try select(#"{"bold": {"datatype": "func", "suffix": "bold", "task": "motor", "run": [2]}}"#),
                       ["sub-01_task-motor_run-2_bold.nii.gz", "sub-02_task-motor_run-2_bold.nii.gz"])
        XCTAssertEqual(try select(#"{"bold": {"session": "a", "task": ["rest", "nothing"]}}"#), ["sub-03_ses-a_task-rest_bold.nii"])
        XCTAssertEqual(try select(#"{"bold": {"session": null, "run": 1, "subject": "02"}}"#), ["sub-02_task-motor_run-1_bold.nii.gz"])
        XCTAssertEqual(try select(#"{"bold": {"space": "MNI152NLin2009cAsym"}}"#), ["sub-01_task-motor_run-1_bold.nii.gz"])
        XCTAssertEqual(try select(#"{"t1w": {"datatype": "anat"}}"#).count, 6, "queries other than bold do not select BOLD runs")
        try touch("bad.json", #"{"bold": {"colour": "red"}}"#)
        XCTAssertThrowsError(try BIDSFilter(contentsOf: directory.path + "/bad.json")) { error in
            XCTAssertTrue("\(error)".contains("bold.colour") && "\(error)".contains("bad.json"), "\(error)")
        }
        try touch("list.json", "[1, 2]")
        XCTAssertThrowsError(try BIDSFilter(contentsOf: directory.path + "/list.json")) { error in
            XCTAssertTrue("\(error)".contains("not a JSON object"), "\(error)")
        }
        XCTAssertEqual(try select(#"{"bold": {"run": 1.0, "subject": "02"}}"#), ["sub-02_task-motor_run-1_bold.nii.gz"], "an integral number is a label")
        for (name, json, expected) in [("flag.json", #"{"bold": {"run": true}}"#, "bold.run must be a string, an integer"),
                                       ("half.json", #"{"bold": {"run": [1, 2.5]}}"#, "bold.run must be a string, an integer"),
                                       ("array.json", #"{"bold": ["task"]}"#, "\"bold\" must be an object of entities")] {
            try touch(name, json)
            XCTAssertThrowsError(try BIDSFilter(contentsOf: directory.path + "/" + name)) { error in
                XCTAssertTrue("\(error)".contains(expected), "\(error)")
            }
        }
    }

    /// A folder is a BIDS dataset when dataset_description.json has Name and BIDSVersion.
    func testRequireDataset() throws {
        XCTAssertThrowsError(try BIDSLayout.requireDataset(directory.path)) { error in
            XCTAssertTrue("\(error)".contains("dataset_description.json is missing") && "\(error)".contains("`skipBIDSValidation`"), "\(error)")
        }
        try touch("dataset_description.json", #"{"Name": "t"}"#)
        XCTAssertThrowsError(try BIDSLayout.requireDataset(directory.path)) { error in
            XCTAssertTrue("\(error)".contains("no BIDSVersion"), "\(error)")
        }
        try touch("dataset_description.json", #"{"Name": "t", "BIDSVersion": "1.9.0"}"#)
        XCTAssertNoThrow(try BIDSLayout.requireDataset(directory.path))
    }
}
