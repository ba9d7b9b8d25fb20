import Foundation
import Pipeline
import XCTest

final class BIDSParticipantLevelTests: XCTestCase {
    /// Up to date: every output present, the recorded settings equal, no input newer than the outputs.
    func testUpToDateNeedsTheSameSettingsAndOlderInputs() throws {
        let directory = NSTemporaryDirectory() + "participant-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let input = directory + "/bold.nii.gz", table = directory + "/x_timeseries.tsv", sidecar = directory + "/x_timeseries.json"
        let settings: [(String, JSONValue)] = [("Atlas", .string("power264")), ("Radius", .number(5)), ("Detrend", .bool(true)), ("HighPass", .null)]
        try Data("bold".utf8).write(to: URL(fileURLWithPath: input))
        let old = Date(timeIntervalSinceNow: -100)
        try FileManager.default.setAttributes([.modificationDate: old], ofItemAtPath: input)
        try Data("a\tb\n".utf8).write(to: URL(fileURLWithPath: table))
        try Data((JSONValue.object([("RepetitionTime", .number(2)), ("Settings", .object(settings))]).rendered() + "\n").utf8)
            .write(to: URL(fileURLWithPath: sidecar))
        XCTAssertTrue(BIDSParticipantLevel.isUpToDate(sidecar: sidecar, settings: settings, outputs: [table, sidecar], inputs: [input]))
        var other = settings
        other[1] = ("Radius", .number(6))
        XCTAssertFalse(BIDSParticipantLevel.isUpToDate(sidecar: sidecar, settings: other, outputs: [table, sidecar], inputs: [input]))
        XCTAssertFalse(BIDSParticipantLevel.isUpToDate(sidecar: sidecar, settings: settings, outputs: [table, sidecar, directory + "/missing.tsv"], inputs: [input]))
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: 100)], ofItemAtPath: input)
        XCTAssertFalse(BIDSParticipantLevel.isUpToDate(sidecar: sidecar, settings: settings, outputs: [table, sidecar], inputs: [input]))
    }

    func testSourcesInsideTheDatasetBecomeBIDSURIs() throws {
        let root = NSTemporaryDirectory() + "raw-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: root + "/sub-01/func", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let level = BIDSParticipantLevel(bidsDir: root, outputDir: root + "-out", atlas: "power264", atlasEntity: "power264", settings: ExtractionSettings())
        XCTAssertEqual(level.bidsURI(root + "/sub-01/func/x_bold.nii.gz"), "bids:raw:sub-01/func/x_bold.nii.gz")
        XCTAssertEqual(level.bidsURI("/elsewhere/y.tsv"), "/elsewhere/y.tsv")
        XCTAssertEqual(BIDSParticipantLevel.columnDescriptions([("z1", "latent 1")]).first?.1.rendered(indent: nil), #"{"Description":"latent 1"}"#)
    }
}
