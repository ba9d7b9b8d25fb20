import Foundation
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
}
