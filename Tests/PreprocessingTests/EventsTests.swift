import Foundation
import TestSupport
import XCTest

@testable import Preprocessing

/// HRFs and design matrices against nilearn (bench/golden/events_hrf.py).
final class EventsTests: XCTestCase {
    nonisolated(unsafe) static let golden: [String: Any] = (try? Fixtures.json("events/golden.json") as? [String: Any]) ?? [:]

    func testNilearnDocstringVectors() {
        // nilearn's docstring values (rounded to 3 decimals there).
        let glover = HemodynamicResponse.glover.kernel(repetitionTime: 2, oversampling: 1, length: 20)
        XCTAssertClose(glover, [0, 0, 0.226, 0.741, 0.5, 0.037, -0.181, -0.176, -0.103, -0.045], absolute: 5e-4, relative: 0)
        let spm = HemodynamicResponse.spm.kernel(repetitionTime: 2, oversampling: 1, length: 20)
        XCTAssertClose(spm, [0, 0, 0.161, 0.443, 0.335, 0.139, 0.022, -0.028, -0.04, -0.033], absolute: 5e-4, relative: 0)
    }

    func testHRFsMatchNilearn() throws {
        let cases = try XCTUnwrap(Self.golden["hrf"] as? [[String: Any]])
        XCTAssertEqual(cases.count, 6)
        for entry in cases {
            let model = try XCTUnwrap(HemodynamicResponse(rawValue: entry["model"] as? String ?? ""))
            let values = model.kernel(repetitionTime: entry["t_r"] as? Double ?? 0, oversampling: entry["oversampling"] as? Int ?? 0,
                                      length: entry["time_length"] as? Double ?? 0)
            XCTAssertClose(values, GoldenArray(entry["values"]).values, absolute: 1e-9, relative: 1e-9, "\(entry["model"] ?? "") \(entry["t_r"] ?? "")")
        }
    }

    func testDesignMatricesMatchNilearn() throws {
        let events = try Event.read(contentsOf: Fixtures.path("events/motor_events.tsv"))
        XCTAssertEqual(events.count, 8)
        let cases = try XCTUnwrap(Self.golden["design"] as? [[String: Any]])
        for entry in cases {
            let hrf = (entry["hrf"] as? String).flatMap(HemodynamicResponse.init(rawValue:))
            let design = DesignMatrix(events: events, volumes: entry["volumes"] as? Int ?? 0,
                                      repetitionTime: entry["t_r"] as? Double ?? 0, hrf: hrf)
            XCTAssertEqual(design.conditions, entry["columns"] as? [String])
            let expected = GoldenArray(entry["values"])
            XCTAssertClose(design.regressors.rows.flatMap { $0 }, expected.values, absolute: 1e-5, relative: 0, "hrf \(hrf?.rawValue ?? "none")")
        }
    }

    func testLabelsFollowBlocks() throws {
        let events = try Event.read(contentsOf: Fixtures.path("events/motor_events.tsv"))
        let labels = ConditionLabels.labels(events: events, volumes: 90, repetitionTime: 2)
        // left_hand 10-22 s: frames 5..10 (t = 10, 12, ..., 20); frame 11 (22 s) is the offset.
        XCTAssertEqual(Array(labels[4...11]), ["rest", "left_hand", "left_hand", "left_hand", "left_hand", "left_hand", "left_hand", "rest"])
        XCTAssertEqual(labels[20], "right_hand")
        XCTAssertEqual(labels[50], "tongue")
        XCTAssertEqual(labels[13], "rest", "a 0-s impulse at 25.5 s covers no frame")
        let shifted = ConditionLabels.labels(events: events, volumes: 90, repetitionTime: 2, shiftByHRFPeak: .glover)
        let peak = HemodynamicResponse.glover.peakTime(repetitionTime: 2)
        XCTAssertEqual(peak, 5.0, accuracy: 0.1)
        XCTAssertEqual(shifted[5], "rest", "the response has not peaked at the onset")
        XCTAssertEqual(shifted[8], "left_hand")
        XCTAssertEqual(shifted[13], "left_hand", "26 s lies in the shifted block 15-27 s")
    }

    func testBadEventsNameTheFix() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("events.tsv")
        try "onset\tduration\ttrial_type\n1\tn/a\ta\n".write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try Event.read(contentsOf: path)) { error in
            XCTAssertTrue("\(error)".contains("row 2, column duration"), "\(error)")
        }
        try "onset\ttrial_type\n1\ta\n".write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try Event.read(contentsOf: path)) { error in
            XCTAssertTrue("\(error)".contains("duration") && "\(error)".contains("onset, trial_type"), "\(error)")
        }
        // Non-finite numbers (they gave a garbage regressor) and onsets after the run's end
        // (they gave an all-zero one) are errors with the row.
        for (text, expected) in [("onset\tduration\ttrial_type\n1\t2\ta\nnan\t2\tb\n", "row 3, column onset"),
                                 ("onset\tduration\ttrial_type\n1\tinf\ta\n", "row 2, column duration"),
                                 ("onset\tduration\ttrial_type\tmodulation\n1\t2\ta\tnan\n", "row 2, column modulation")] {
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            XCTAssertThrowsError(try Event.read(contentsOf: path)) { error in XCTAssertTrue("\(error)".contains(expected), "\(error)") }
        }
        try "onset\tduration\ttrial_type\n10\t5\ta\n300\t5\tb\n".write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertEqual(try Event.read(contentsOf: path).count, 2)
        XCTAssertEqual(try Event.read(contentsOf: path, runDuration: 200).count, 2, "a run stopped early keeps its events")
        // ... and says which: the rows after the end, for the callers' warning.
        let kept = try Event.read(contentsOf: path, runDuration: 200)
        XCTAssertEqual(Event.rowsAfter(runDuration: 200, in: kept), [3])
        XCTAssertEqual(Event.rowsAfter(runDuration: 400, in: kept), [])
        XCTAssertNil(Event.lateEventsWarning(path: path, runDuration: 400, events: kept))
        let warning = try XCTUnwrap(Event.lateEventsWarning(path: path, runDuration: 200, events: kept))
        XCTAssertTrue(warning.contains("1 of 2 events start after the run ends (200.0 s") && warning.contains("rows 3;"), warning)
        XCTAssertThrowsError(try Event.read(contentsOf: path, runDuration: 8)) { error in
            XCTAssertTrue("\(error)".contains("row 2, column onset") && "\(error)".contains("after the run ends"), "\(error)")
        }
    }
}
