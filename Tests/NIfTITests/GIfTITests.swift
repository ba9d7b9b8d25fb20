import Foundation
import NIfTI
import TestSupport
import XCTest

/// GIfTI files written by nibabel 5.4.2 (bench/golden/gifti_nibabel.py), read as nibabel reads
/// them (Tests/Fixtures/gifti/expected.json).
final class GIfTITests: XCTestCase {
    func expected() throws -> [String: Any] {
        try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: Fixtures.path("gifti/expected.json")))) as? [String: Any])
    }

    /// The same timeseries in GIfTI's three encodings (zlib base64, base64, ASCII).
    func testFunctionalFileInEveryEncoding() throws {
        let golden = try XCTUnwrap(try expected()["func"] as? [String: Any])
        let first = try XCTUnwrap(golden["first_row"] as? [Double]), last = try XCTUnwrap(golden["last_vertex"] as? [Double])
        for name in ["sim.func.gii", "sim_base64.func.gii", "sim_ascii.func.gii"] {
            let gifti = try GIfTIImage(contentsOf: Fixtures.path("gifti/" + name))
            let rows = try gifti.timeseries()
            XCTAssertEqual([rows.count, gifti.vertexCount], golden["shape"] as? [Int], name)
            XCTAssertEqual(gifti.repetitionTime ?? 0, (golden["time_step_ms"] as? Double ?? 0) / 1000, accuracy: 1e-12, name)
            for (v, value) in first.enumerated() { XCTAssertEqual(Double(rows[0][v]), value, accuracy: name.contains("ascii") ? 1e-5 : 1e-7, name) }
            for (t, value) in last.enumerated() { XCTAssertEqual(Double(rows[t][39]), value, accuracy: name.contains("ascii") ? 1e-5 : 1e-7, name) }
        }
    }

    func testLabelFile() throws {
        let golden = try XCTUnwrap(try expected()["label"] as? [String: Any])
        let labels = try GIfTIImage(contentsOf: Fixtures.path("gifti/sim.label.gii"))
        XCTAssertEqual(labels.arrays.first?.values.map { Int($0) }, golden["keys"] as? [Int])
        let table = try XCTUnwrap(golden["table"] as? [String: String])
        XCTAssertEqual(labels.labelTable, Dictionary(uniqueKeysWithValues: table.map { (Int($0.key) ?? -1, $0.value) }))
        XCTAssertEqual(labels.arrays.first?.intent, "NIFTI_INTENT_LABEL")
    }

    func testDamagedFilesAreRefused() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let text = try String(contentsOfFile: Fixtures.path("gifti/sim.func.gii"), encoding: .utf8)
        let cases: [(String, String, String)] = [
            ("truncated.func.gii", String(text.prefix(text.count / 2)), "GIfTI XML"),
            ("base64.func.gii", text.replacingOccurrences(of: "<Data>eJ", with: "<Data>!!"), "base64"),
            ("dims.func.gii", text.replacingOccurrences(of: "Dim0=\"40\"", with: "Dim0=\"41\""), "values"),
            ("type.func.gii", text.replacingOccurrences(of: "NIFTI_TYPE_FLOAT32", with: "NIFTI_TYPE_COMPLEX64"), "not supported"),
            ("plain.func.gii", "<?xml version=\"1.0\"?><notgifti/>", "no <GIFTI>"),
        ]
        for (name, content, expected) in cases {
            let path = directory.file(name)
            try content.write(toFile: path, atomically: true, encoding: .utf8)
            XCTAssertThrowsError(try GIfTIImage(contentsOf: path), name) { error in
                XCTAssertTrue("\(error)".contains(expected) && "\(error)".contains(name), "\(name): \(error)")
            }
        }
    }
}
