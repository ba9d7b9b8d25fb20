import TestSupport
import XCTest

@testable import NIfTI

/// Thousands of mutated headers: every one either reads or fails with a NIfTIError;
/// none crashes, hangs, or allocates from an unchecked size.
final class HeaderFuzzTests: XCTestCase {
    func testMutatedHeadersNeverCrash() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var generator = SplitMix64(state: 20_261_123)
        // Offsets of the fields a reader trusts, weighted toward them.
        let interesting = [0, 1, 2, 3, 40, 41, 42, 43, 44, 46, 48, 50, 54, 70, 71, 72, 76, 80, 108, 109, 110, 111,
                           112, 116, 123, 252, 254, 256, 268, 280, 296, 312, 344, 345, 346, 347]
        var outcomes = (read: 0, refused: 0)
        for version in [1, 2] {
            let sourcePath = directory.file("base.nii")
            let header = NIfTIHeader.make(shape: [7, 6, 5, 4], datatype: .int16)
            try NIfTIWriter.write((0..<840).map { Float($0 % 300) }, header: header, to: sourcePath, forceVersion: version)
            let base = try [UInt8](Data(contentsOf: URL(fileURLWithPath: sourcePath)))
            let headerSize = version == 1 ? 348 : 540
            for trial in 0..<1500 {
                var bytes = base
                let mutations = Int.random(in: 1...4, using: &generator)
                for _ in 0..<mutations {
                    let offset = (version == 1 && Bool.random(using: &generator))
                        ? interesting.randomElement(using: &generator)!
                        : Int.random(in: 0..<headerSize, using: &generator)
                    guard offset < bytes.count else { break }
                    switch Int.random(in: 0..<4, using: &generator) {
                    case 0: bytes[offset] = UInt8.random(in: 0...255, using: &generator)
                    case 1: bytes[offset] ^= 1 << UInt8.random(in: 0..<8, using: &generator)
                    case 2: bytes[offset] = [0x00, 0xFF, 0x7F, 0x80].randomElement(using: &generator)!
                    default: bytes = Array(bytes.prefix(Int.random(in: 0..<bytes.count, using: &generator)))
                    }
                }
                let gzip = trial % 3 == 0
                let path = directory.file("fuzz\(version)_\(trial % 7).nii" + (gzip ? ".gz" : ""))
                if gzip {
                    let file = try AtomicFile(path: path, gzipLevel: 1)
                    try file.write(bytes)
                    try file.commit()
                } else {
                    try Data(bytes).write(to: URL(fileURLWithPath: path))
                }
                do {
                    let image = try NIfTIImage(contentsOf: path)
                    XCTAssertLessThanOrEqual(image.header.dataByteCount, 64 << 20, "trial \(trial): a readable image is bounded by its file")
                    let values: [Float] = try image.readAll()
                    XCTAssertEqual(values.count, image.header.voxelCount)
                    outcomes.read += 1
                } catch is NIfTIError {
                    outcomes.refused += 1
                } catch {
                    XCTFail("trial \(trial): unexpected error \(error)")
                }
            }
        }
        XCTAssertEqual(outcomes.read + outcomes.refused, 3000)
        XCTAssertGreaterThan(outcomes.read, 100, "some mutations (descriptions, intents) leave a readable image")
        XCTAssertGreaterThan(outcomes.refused, 500)
    }
}
