import TestSupport
import XCTest

@testable import NIfTI

/// Each kind of broken file gets an error that names the file and the field at fault.
final class BadInputTests: XCTestCase {
    var directory: TemporaryDirectory!
    var validBytes: [UInt8] = []

    override func setUpWithError() throws {
        directory = try TemporaryDirectory()
        let path = directory.file("valid.nii")
        try NIfTIWriter.write((0..<120).map { Float($0) }, header: .make(shape: [5, 4, 3, 2]), to: path)
        validBytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
    }

    override func tearDown() { directory.remove() }

    /// Writes `bytes` (optionally gzipped) and returns the error opening and reading raises.
    func failure(_ bytes: [UInt8], name: String = "broken.nii", gzip: Bool = false,
                 file: StaticString = #filePath, line: UInt = #line) -> NIfTIError? {
        let path = directory.file(name)
        do {
            if gzip {
                let output = try AtomicFile(path: path, gzipLevel: 1)
                try output.write(bytes)
                try output.commit()
            } else {
                try Data(bytes).write(to: URL(fileURLWithPath: path))
            }
            let image = try NIfTIImage(contentsOf: path)
            _ = try image.readAll(as: Float.self)
            XCTFail("expected an error", file: file, line: line)
            return nil
        } catch let error as NIfTIError {
            XCTAssertTrue(error.description.contains(name), "the message names the file: \(error)", file: file, line: line)
            return error
        } catch {
            XCTFail("unexpected error type \(error)", file: file, line: line)
            return nil
        }
    }

    func patched(_ offset: Int, _ newBytes: [UInt8]) -> [UInt8] {
        var bytes = validBytes
        bytes.replaceSubrange(offset..<(offset + newBytes.count), with: newBytes)
        return bytes
    }

    func int16(_ value: Int16) -> [UInt8] { withUnsafeBytes(of: value.littleEndian) { Array($0) } }
    func float32(_ value: Float) -> [UInt8] { withUnsafeBytes(of: value.bitPattern.littleEndian) { Array($0) } }

    func testMissingFile() {
        XCTAssertThrowsError(try NIfTIImage(contentsOf: directory.file("absent.nii.gz"))) { error in
            XCTAssertEqual((error as? NIfTIError)?.kind, .fileNotFound)
            XCTAssertTrue("\(error)".contains("absent.nii.gz"))
        }
    }

    func testWrongSizeofHdrAndMagic() {
        let notNIfTI = failure(Array("hello, I am a text file pretending to be an image".utf8) + [UInt8](repeating: 32, count: 400))
        XCTAssertEqual(notNIfTI?.kind, .notNIfTI)
        XCTAssertEqual(notNIfTI?.field, "sizeof_hdr")
        let badMagic = failure(patched(344, Array("abc\0".utf8)))
        XCTAssertEqual(badMagic?.kind, .notNIfTI)
        XCTAssertEqual(badMagic?.field, "magic")
        XCTAssertEqual(failure([1, 2])?.kind, .notNIfTI)
        XCTAssertEqual(failure(Array(validBytes[0..<200]))?.kind, .truncatedData, "file ends inside the header")
    }

    func testTruncatedDataPlainAndGzip() {
        let plain = failure(Array(validBytes.dropLast(100)))
        XCTAssertEqual(plain?.kind, .truncatedData)
        XCTAssertTrue(plain?.message.contains("\(validBytes.count - 100)") ?? false, plain?.message ?? "")
        // A gzip stream of a short file: the header is fine, the data ends early.
        let gz = failure(Array(validBytes.dropLast(100)), name: "short.nii.gz", gzip: true)
        XCTAssertEqual(gz?.kind, .truncatedData)
    }

    func testTruncatedGzipStream() throws {
        let path = directory.file("whole.nii.gz")
        try NIfTIWriter.write((0..<4000).map { Float($0).squareRoot() }, header: .make(shape: [10, 20, 20]), to: path, gzipLevel: 6)
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        let cutPath = directory.file("cut.nii.gz")
        try Data(bytes[0..<(bytes.count / 2)]).write(to: URL(fileURLWithPath: cutPath))
        for backend in InflateBackend.allCases {
            XCTAssertThrowsError(try NIfTIImage(contentsOf: cutPath, inflateBackend: backend).readAll(as: Float.self)) { error in
                XCTAssertEqual((error as? NIfTIError)?.kind, .truncatedData, "\(backend): \(error)")
            }
        }
    }

    func testCorruptGzipData() throws {
        let path = directory.file("whole.nii.gz")
        try NIfTIWriter.write((0..<4000).map { Float($0).squareRoot() }, header: .make(shape: [10, 20, 20]), to: path, gzipLevel: 6)
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        bytes[bytes.count - 6] ^= 0xFF  // inside the CRC-32 trailer
        let corruptPath = directory.file("crc.nii.gz")
        try Data(bytes).write(to: URL(fileURLWithPath: corruptPath))
        XCTAssertThrowsError(try NIfTIImage(contentsOf: corruptPath).readAll(as: Float.self)) { error in
            XCTAssertEqual((error as? NIfTIError)?.kind, .corruptCompression, "\(error)")
            XCTAssertTrue("\(error)".contains("CRC"), "\(error)")
        }
    }

    /// The gzip trailer (CRC-32 and ISIZE) is checked even when the image's bytes end before
    /// the stream does (trailing bytes after the data, or a read that fills its buffer exactly
    /// at the data's end), by both inflate backends and by the streaming reader.
    func testGzipTrailerCheckedWhenTheImageEndsBeforeTheStream() throws {
        let header = NIfTIHeader.make(shape: [10, 20, 20])
        let plain = directory.file("plain.nii")
        try NIfTIWriter.write((0..<4000).map { Float($0).squareRoot() }, header: header, to: plain)
        let image = try [UInt8](Data(contentsOf: URL(fileURLWithPath: plain)))
        for trailing in [0, 100] {
            let file = try AtomicFile(path: directory.file("t\(trailing).nii.gz"), gzipLevel: 6)
            try file.write(image + [UInt8](repeating: 7, count: trailing))
            try file.commit()
            let good = try [UInt8](Data(contentsOf: URL(fileURLWithPath: file.path)))
            // The intact file reads, with the same voxels as the plain one.
            XCTAssertEqual(try NIfTIImage(contentsOf: file.path).readAll(as: Float.self), try NIfTIImage(contentsOf: plain).readAll(as: Float.self))
            for (offset, field) in [(6, "CRC-32"), (2, "ISIZE")] {
                var bytes = good
                bytes[bytes.count - offset] ^= 0xFF
                let corrupt = directory.file("bad-\(trailing)-\(offset).nii.gz")
                try Data(bytes).write(to: URL(fileURLWithPath: corrupt))
                for backend in InflateBackend.allCases {
                    XCTAssertThrowsError(try NIfTIImage(contentsOf: corrupt, inflateBackend: backend).readAll(as: Float.self),
                                         "\(field), \(trailing) trailing bytes, \(backend)") { error in
                        XCTAssertEqual((error as? NIfTIError)?.kind, .corruptCompression, "\(backend): \(error)")
                        XCTAssertTrue("\(error)".contains(corrupt), "names the file: \(error)")
                    }
                    // Volume by volume, and skipping to the end, fail the same way.
                    XCTAssertThrowsError(try {
                        let stream = try NIfTIImage(contentsOf: corrupt, inflateBackend: backend).volumeStream()
                        while try stream.nextVolume(as: Float.self) != nil {}
                    }(), "stream \(field) \(backend)")
                    XCTAssertThrowsError(try NIfTIImage(contentsOf: corrupt, inflateBackend: backend).volumeStream().skip(volumes: 1),
                                         "skip \(field) \(backend)")
                }
            }
        }
    }

    /// Mutations of the deflate stream and the trailer, and truncations: every mutant either is
    /// refused with a NIfTIError or reads the original voxels, by both backends.
    func testGzipStreamMutationsNeverGiveWrongVoxels() throws {
        let values = (0..<6000).map { Float(sin(Double($0) * 0.01)) }
        let path = directory.file("source.nii.gz")
        try NIfTIWriter.write(values, header: .make(shape: [10, 20, 30]), to: path, gzipLevel: 6)
        let original = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        var generator = SplitMix64(state: 20_261_202)
        var refused = 0, intact = 0
        for trial in 0..<240 {
            var bytes = original
            switch trial % 3 {
            case 0: bytes[bytes.count - 1 - Int.random(in: 0..<8, using: &generator)] ^= 1 << UInt8.random(in: 0..<8, using: &generator)
            case 1: bytes[Int.random(in: 10..<(bytes.count - 8), using: &generator)] ^= 1 << UInt8.random(in: 0..<8, using: &generator)
            default: bytes = Array(bytes.prefix(Int.random(in: 10..<bytes.count, using: &generator)))
            }
            let mutant = directory.file("mutant.nii.gz")
            try Data(bytes).write(to: URL(fileURLWithPath: mutant))
            for backend in InflateBackend.allCases {
                do {
                    let read = try NIfTIImage(contentsOf: mutant, inflateBackend: backend).readAll(as: Float.self)
                    XCTAssertEqual(read, values, "trial \(trial) (\(backend)): a mutant read without error must give the original voxels")
                    intact += 1
                } catch is NIfTIError {
                    refused += 1
                }
            }
        }
        XCTAssertEqual(refused + intact, 480)
        XCTAssertGreaterThan(refused, 400, "almost every mutation is detected (\(intact) read intact)")
    }

    func testDimensionFields() {
        let zeroDim = failure(patched(42, int16(0)))
        XCTAssertEqual(zeroDim?.kind, .invalidHeader)
        XCTAssertEqual(zeroDim?.field, "dim[1]")
        let rank = failure(patched(40, int16(9)))
        XCTAssertEqual(rank?.field, "dim[0]")
        // 32767^4 voxels: more than any real image, refused as a corrupt header.
        let absurd = failure(patched(42, int16(32767) + int16(32767) + int16(32767) + int16(32767)))
        XCTAssertEqual(absurd?.kind, .invalidHeader)
        XCTAssertEqual(absurd?.field, "dim")
        // 1000 x 1000 x 100 float32: plausible, but far larger than the file; refused before allocating.
        let huge = failure(patched(42, int16(1000) + int16(1000) + int16(100) + int16(1)))
        XCTAssertEqual(huge?.kind, .truncatedData)
        XCTAssertEqual(huge?.field, "dim")
        let hugeGzip = failure(patched(42, int16(1000) + int16(1000) + int16(100) + int16(1)), name: "huge.nii.gz", gzip: true)
        XCTAssertEqual(hugeGzip?.kind, .truncatedData)
        XCTAssertEqual(hugeGzip?.field, "dim")
        // NIfTI-2 dimensions whose product overflows 64 bits.
        var header = NIfTIHeader.make(shape: [5, 4, 3, 2])
        header.version = 2
        header.voxOffset = 544
        header.dim = [4, Int64(1) << 40, Int64(1) << 40, 5, 1, 1, 1, 1]
        let overflow = failure(header.encoded() + [0, 0, 0, 0], name: "overflow.nii")
        XCTAssertEqual(overflow?.kind, .invalidHeader)
        XCTAssertEqual(overflow?.field, "dim")
    }

    func testDatatypeAndOffsetFields() {
        let unknown = failure(patched(70, int16(3)))
        XCTAssertEqual(unknown?.kind, .unsupportedDatatype)
        XCTAssertEqual(unknown?.field, "datatype")
        let complex = failure(patched(70, int16(32)))
        XCTAssertEqual(complex?.kind, .unsupportedDatatype)
        XCTAssertTrue(complex?.message.contains("complex64") ?? false)
        let inside = failure(patched(108, float32(100)))
        XCTAssertEqual(inside?.field, "vox_offset")
        let fractional = failure(patched(108, float32(352.5)))
        XCTAssertEqual(fractional?.field, "vox_offset")
    }

    func testNonFiniteAffine() {
        let nanSform = failure(patched(280, float32(.nan)))
        XCTAssertEqual(nanSform?.kind, .invalidAffine)
        XCTAssertEqual(nanSform?.field, "srow_x")
    }

    func testMismatchedPair() throws {
        // A single-file header saved as .hdr: magic says n+1.
        try Data(validBytes).write(to: URL(fileURLWithPath: directory.file("odd.hdr")))
        try Data(validBytes[352...]).write(to: URL(fileURLWithPath: directory.file("odd.img")))
        XCTAssertThrowsError(try NIfTIImage(contentsOf: directory.file("odd.hdr"))) { error in
            XCTAssertEqual((error as? NIfTIError)?.kind, .mismatchedPair)
            XCTAssertEqual((error as? NIfTIError)?.field, "magic")
        }
        try Data(validBytes[0..<348]).write(to: URL(fileURLWithPath: directory.file("lonely.hdr")))
        XCTAssertThrowsError(try NIfTIImage(contentsOf: directory.file("lonely.hdr"))) { error in
            XCTAssertEqual((error as? NIfTIError)?.kind, .mismatchedPair)
            XCTAssertTrue("\(error)".contains("lonely.img"))
        }
    }
}
