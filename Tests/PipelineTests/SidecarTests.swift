import Foundation
import NIfTI
import Pipeline
import XCTest

final class SidecarTests: XCTestCase {
    func testParsedNumbersKeepTheirKindAndDisplayAsWritten() throws {
        let value = try JSONValue(parsing: Data(#"{"b": 5.0, "a": 5, "c": true, "d": null, "e": [], "f": ["x", 0.01]}"#.utf8))
        XCTAssertEqual(value["a"]?.display, "5")
        XCTAssertEqual(value["b"]?.display, "5.0")
        XCTAssertEqual(value["c"]?.display, "true")
        XCTAssertEqual(value["d"]?.display, "none")
        XCTAssertEqual(value["e"]?.display, "none")
        XCTAssertEqual(value["f"]?.display, "x, 0.01")
        XCTAssertNil(value["missing"])
        // Members sorted by key, and rendering the parsed value gives the same JSON back.
        XCTAssertEqual(value.rendered(indent: nil), #"{"a":5,"b":5.0,"c":true,"d":null,"e":[],"f":["x", 0.01]}"#)
    }

    func testSidecarFieldsAndTheMethodsSettings() throws {
        let path = NSTemporaryDirectory() + "sidecar-\(UUID().uuidString).json"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Data(#"{"RepetitionTime": 0.72, "KeptVolumes": [2, 3, 5], "ConfoundsRegressed": ["trans_x"], "Settings": {"Radius": 6.0, "Detrend": true, "HighPass": 0.01, "Strategy": "mean"}}"#.utf8)
            .write(to: URL(fileURLWithPath: path))
        let sidecar = try RegionTimeseriesSidecar.read(contentsOf: path)
        XCTAssertEqual(sidecar.repetitionTime, 0.72)
        XCTAssertEqual(sidecar.keptVolumes, [2, 3, 5])
        XCTAssertEqual(sidecar.confoundsRegressed, ["trans_x"])
        XCTAssertEqual(sidecar.displayedSettings.map(\.0), ["Detrend", "HighPass", "Radius", "Strategy"])
        XCTAssertEqual(sidecar.displayedSettings.map(\.1), ["true", "0.01", "6.0", "mean"])

        try Data(#"{"KeptVolumes": [1]}"#.utf8).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try RegionTimeseriesSidecar.read(contentsOf: path)) { error in
            XCTAssertTrue(String(describing: error).contains("\(path) has no RepetitionTime"))
        }
    }

    /// The repetition time of a timeseries sidecar: RepetitionTime, else 1 / SamplingFrequency;
    /// nil for a missing file, non-positive or non-numeric values.
    func testSidecarRepetitionTime() throws {
        let directory = NSTemporaryDirectory() + "sidecar-tr-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let cases: [(String, Double?)] = [(#"{"RepetitionTime": 0.72}"#, 0.72), (#"{"RepetitionTime": 2}"#, 2), (#"{"SamplingFrequency": 1.25}"#, 0.8),
                                          (#"{"RepetitionTime": 0, "SamplingFrequency": 0.5}"#, 2), (#"{"RepetitionTime": "2"}"#, nil), ("not json", nil)]
        for (index, (text, expected)) in cases.enumerated() {
            let path = directory + "/\(index).json"
            try Data(text.utf8).write(to: URL(fileURLWithPath: path))
            XCTAssertEqual(RegionTimeseriesSidecar.repetitionTime(atPath: path), expected, text)
        }
        XCTAssertNil(RegionTimeseriesSidecar.repetitionTime(atPath: directory + "/missing.json"))
    }

    /// The report's provenance shows the model's config.json with long region lists shortened
    /// to their count and first five names; maps.json gives the map sections' titles.
    func testProvenanceShortensRegionNamesAndMapTitlesComeFromMapsJSON() throws {
        let directory = NSTemporaryDirectory() + "provenance-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let names = (1...8).map { "\"r\($0)\"" }.joined(separator: ", ")
        try Data(#"{"latent": 4, "featureNames": [\#(names)], "window": 32}"#.utf8).write(to: URL(fileURLWithPath: directory + "/config.json"))
        let text = ReportSections.provenance(model: directory)
        XCTAssertTrue(text.contains("8 regions: r1, r2, r3, r4, r5, ..."), text)
        XCTAssertFalse(text.contains("r6"), text)
        // The table is HTML, so the JSON's quotes are escaped.
        XCTAssertTrue(text.contains("&quot;latent&quot;: 4,\n  &quot;window&quot;: 32"), text)

        let values: [Float] = (0..<16).map { Float($0) - 7 }
        try NIfTIWriter.write(values, header: .make(shape: [2, 2, 2, 2]), to: directory + "/maps.nii.gz")
        try Data(#"{"conditions": ["left hand", "right foot"]}"#.utf8).write(to: URL(fileURLWithPath: directory + "/maps.json"))
        let section = try ReportSections.imageMapsSection(path: directory + "/maps.nii.gz")
        XCTAssertTrue(section.contains("left hand") && section.contains("right foot"), section)
        try FileManager.default.removeItem(atPath: directory + "/maps.json")
        let untitled = try ReportSections.imageMapsSection(path: directory + "/maps.nii.gz")
        XCTAssertTrue(untitled.contains("volume 1") && untitled.contains("volume 2"))
    }
}
