import Foundation
import Pipeline
import XCTest

/// `decode`'s samples from a latents CSV: lags stay inside a run, excluded and empty labels
/// are left out, and a condition carried by z1 decodes perfectly.
final class LatentDecodingTests: XCTestCase {
    func testLaggedSamplesStayInsideARun() throws {
        let path = NSTemporaryDirectory() + "latents-\(UUID().uuidString).csv"
        defer { try? FileManager.default.removeItem(atPath: path) }
        var csv = "subject,session,task,run,volume,time_s,condition,z1,z2\n"
        for subject in ["01", "02", "03"] {
            for run in ["1", "2"] {
                for volume in 0..<8 {
                    let label = volume == 0 ? "rest" : volume % 2 == 0 ? "a" : "b"
                    csv += "\(subject),,motor,\(run),\(volume),\(Double(volume) * 2),\(label),\(label == "a" ? 1 : -1),\(volume)\n"
                }
            }
        }
        try csv.write(toFile: path, atomically: true, encoding: .utf8)
        var decoding = LatentDecoding()
        decoding.lags = 1
        decoding.folds = 3
        decoding.excluded = ["rest"]
        let samples = try decoding.samples(latentsCSV: path)
        // Volume 0 is rest (excluded); volume 1's lag is volume 0 of the same run: 7 per run.
        XCTAssertEqual(samples.labels.count, 3 * 2 * 7)
        XCTAssertEqual(samples.latent, 2)
        XCTAssertEqual(samples.features[0], [-1, 1, -1, 0], "volume 1 (b), then volume 0")
        XCTAssertEqual(samples.features[7], [-1, 1, -1, 0], "run 2 starts again: no lag across runs")
        XCTAssertEqual(Set(samples.groups), ["01", "02", "03"])
        let result = decoding.decode(samples)
        XCTAssertEqual(result.mean, 1, accuracy: 1e-12)
        XCTAssertEqual(LatentDecoding.record(result, samples: samples)["features"]?.rendered(indent: nil), "4")

        decoding.folds = 4
        XCTAssertThrowsError(try decoding.samples(latentsCSV: path)) {
            XCTAssertTrue("\($0)".contains("`folds` 4 needs at least 4 distinct subject values"), "\($0)")
        }
        decoding.excluded = ["rest", "a"]
        XCTAssertThrowsError(try decoding.samples(latentsCSV: path)) { XCTAssertTrue("\($0)".contains("needs at least two classes"), "\($0)") }
    }
}
