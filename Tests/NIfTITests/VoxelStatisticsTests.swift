import Foundation
import NIfTI
import XCTest

/// `fmridyn info --stats`: min, max, mean and counts over finite voxels, streamed by volume.
final class VoxelStatisticsTests: XCTestCase {
    func testStatisticsSkipNonFiniteVoxelsAndApplyTheScaling() throws {
        let path = NSTemporaryDirectory() + "stats-\(UUID().uuidString).nii"
        defer { try? FileManager.default.removeItem(atPath: path) }
        // 2 x 2 x 1 voxels, 3 volumes; one NaN and one infinity.
        var values: [Float] = [1, 2, 3, 4, 5, 6, 7, 8, -9, 10, 11, 12]
        values[5] = .nan
        values[10] = .infinity
        try NIfTIWriter.write(values, header: .make(shape: [2, 2, 1, 3]), to: path)
        let statistics = try VoxelStatistics(image: try NIfTIImage(contentsOf: path))
        let finite = values.filter(\.isFinite).map(Double.init)
        XCTAssertEqual(statistics.count, 10)
        XCTAssertEqual(statistics.nonFiniteCount, 2)
        XCTAssertEqual(statistics.minimum, -9)
        XCTAssertEqual(statistics.maximum, 12)
        XCTAssertEqual(statistics.sum, finite.reduce(0, +), accuracy: 1e-12)
        XCTAssertEqual(statistics.mean, finite.reduce(0, +) / 10, accuracy: 1e-12)
    }
}
