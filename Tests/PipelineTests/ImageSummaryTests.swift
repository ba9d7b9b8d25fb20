import Foundation
import NIfTI
import Pipeline
import XCTest

/// `fmridyn info`'s summary of a NIfTI image: header fields as written, values analytic.
final class ImageSummaryTests: XCTestCase {
    func testSummaryOfAWrittenImage() throws {
        let path = NSTemporaryDirectory() + "summary-\(UUID().uuidString).nii.gz"
        defer { try? FileManager.default.removeItem(atPath: path) }
        // 3 x 4 x 2 voxels x 5 volumes holding 0, 1, ..., 119: mean 59.5, sum 7140.
        try NIfTIWriter.write((0..<120).map(Float.init), header: NIfTIHeader.make(shape: [3, 4, 2, 5], zooms: [2, 2, 3, 1.5], repetitionTime: 1.5), to: path)
        let summary = try ImageSummary(path: path, statistics: true)
        XCTAssertEqual(summary.json["shape"]?.rendered(indent: nil), "[3, 4, 2, 5]")
        XCTAssertEqual(summary.json["tr_seconds"]?.rendered(indent: nil), "1.5")
        XCTAssertEqual(summary.json["datatype"]?.rendered(indent: nil), "\"float32\"")
        XCTAssertEqual(summary.json["stats"]?["mean"]?.rendered(indent: nil), "59.5")
        XCTAssertEqual(summary.json["stats"]?["sum"]?.rendered(indent: nil), "7140.0")
        XCTAssertEqual(summary.json["stats"]?["max"]?.rendered(indent: nil), "119.0")
        let lines = summary.text.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.first, path)
        XCTAssertTrue(lines.contains("  shape       3 x 4 x 2 x 5  (24 voxels x 5 volumes)"), summary.text)
        XCTAssertTrue(lines.contains("  values      min 0, max 119, mean 59.5, sum 7140"), summary.text)
        XCTAssertTrue(summary.warnings.isEmpty)
        XCTAssertEqual(ImageSummary.xformName(4), "mni")
        XCTAssertEqual(ImageSummary.xformName(9), "invalid")
    }
}
