import TestSupport
import XCTest

@testable import NIfTI

/// Volume-at-a-time reading gives exactly the slices of a whole read.
final class StreamingTests: XCTestCase {
    func testVolumesMatchWholeRead() throws {
        for name in ["example4d.nii.gz", "functional.nii"] {
            let image = try NIfTIImage(contentsOf: Fixtures.path("nifti/" + name))
            let whole: [Float] = try image.readAll()
            let stream = try image.volumeStream()
            let size = stream.voxelsPerVolume
            var index = 0
            while let volume: [Float] = try stream.nextVolume() {
                XCTAssertTrue(volume[...] == whole[(index * size)..<((index + 1) * size)], "\(name) volume \(index)")
                index += 1
            }
            XCTAssertEqual(index, image.header.volumeCount)
            XCTAssertEqual(stream.volumesRemaining, 0)
        }
    }

    func testBlocksAndSkip() throws {
        let image = try NIfTIImage(contentsOf: Fixtures.path("nifti/functional.nii"))
        let whole: [Double] = try image.readAll(as: Double.self)
        let stream = try image.volumeStream()
        let size = stream.voxelsPerVolume
        try stream.skip(volumes: 3)
        var block = [Double](repeating: 0, count: 5 * size)
        let read = try block.withUnsafeMutableBufferPointer { try stream.read(volumes: 5, into: $0) }
        XCTAssertEqual(read, 5)
        XCTAssertEqual(block, Array(whole[(3 * size)..<(8 * size)]))
        try stream.skip(volumes: 100)
        XCTAssertEqual(stream.volumesRemaining, 0)
        let none = try block.withUnsafeMutableBufferPointer { try stream.read(volumes: 5, into: $0) }
        XCTAssertEqual(none, 0)
    }
}
