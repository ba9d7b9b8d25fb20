import TestSupport
import XCTest

@testable import NIfTI

/// Write then read: every datatype, gzip or not, NIfTI-1 and NIfTI-2.
final class RoundTripTests: XCTestCase {
    var directory: TemporaryDirectory!

    override func setUpWithError() throws { directory = try TemporaryDirectory() }
    override func tearDown() { directory.remove() }

    let affine = Affine(rows: [[-2, 0.1, 0, 90], [0, 2, 0, -126], [0, 0, 2, -72], [0, 0, 0, 1]])

    /// Values that every datatype can store exactly.
    func values(count: Int, for datatype: NIfTIDataType) -> [Double] {
        (0..<count).map { index in
            let base = Double(index % 120)
            switch datatype {
            case .uint8, .uint16, .uint32, .uint64: return base
            case .int8, .int16, .int32, .int64: return base - 60
            default: return (base - 60) * 0.25
            }
        }
    }

    func testEveryDatatypeGzipAndVersion() throws {
        let shape = [5, 4, 3, 2]
        let supported = NIfTIDataType.allCases.filter(\.isSupported)
        XCTAssertEqual(supported.count, 10)
        for datatype in supported {
            for compressed in [false, true] {
                for version in [1, 2] {
                    let expected = values(count: 120, for: datatype)
                    let header = NIfTIHeader.make(shape: shape, zooms: [2, 2, 2, 0.75], affine: affine, datatype: datatype, code: 4)
                    let path = directory.file("rt_\(datatype.name)_v\(version).nii" + (compressed ? ".gz" : ""))
                    try NIfTIWriter.write(expected, header: header, to: path, forceVersion: version)
                    let image = try NIfTIImage(contentsOf: path)
                    let label = "\(datatype.name) v\(version) gz=\(compressed)"
                    XCTAssertEqual(image.header.version, version, label)
                    XCTAssertEqual(image.isCompressed, compressed, label)
                    XCTAssertEqual(image.header.datatype, datatype, label)
                    XCTAssertEqual(image.header.shape, shape, label)
                    XCTAssertEqual(image.header.repetitionTime, 0.75, label)
                    XCTAssertClose(image.affine.elements, affine.elements, absolute: 1e-6, relative: 0, label)
                    XCTAssertEqual(try image.readAll(as: Double.self), expected, label)
                }
            }
        }
    }

    func testQformRepresentsARotatedFlippedAffine() throws {
        // A rotation of 30 degrees about z with voxel sizes (2, 3, 2.5) and a flipped x axis
        // (negative determinant, qfac = -1): exactly representable as a qform.
        let angle = Double.pi / 6, zooms = [-2.0, 3.0, 2.5]
        let rotation = [[cos(angle), -sin(angle), 0], [sin(angle), cos(angle), 0], [0, 0, 1]]
        let rows = (0..<3).map { row in (0..<3).map { rotation[row][$0] * zooms[$0] } + [[10.0, -20.0, 30.0][row]] }
        let rotated = Affine(rows: rows + [[0, 0, 0, 1]])
        let path = directory.file("qform.nii")
        try NIfTIWriter.write([Float](repeating: 1, count: 8), header: .make(shape: [2, 2, 2], affine: rotated), to: path)
        var header = try NIfTIImage(contentsOf: path).header
        XCTAssertEqual(header.pixdim[0], -1, "qfac")
        XCTAssertClose(Array(header.pixdim[1...3]), [2, 3, 2.5], relative: 1e-6)
        header.sformCode = 0
        XCTAssertEqual(header.affineSource, "qform")
        XCTAssertClose(header.affine.elements, rotated.elements, absolute: 1e-5, relative: 0)
    }

    func testNIfTI2ChosenWhenADimensionExceedsNIfTI1() throws {
        let path = directory.file("long.nii.gz")
        let values = (0..<40_000).map { Float($0) }
        try NIfTIWriter.write(values, header: .make(shape: [40_000, 1, 1]), to: path)
        let image = try NIfTIImage(contentsOf: path)
        XCTAssertEqual(image.header.version, 2)
        XCTAssertEqual(image.header.shape, [40_000, 1, 1])
        XCTAssertEqual(try image.readAll(), values)
    }

    func testIntegerScalingOnWrite() throws {
        let path = directory.file("scaled.nii")
        let values: [Double] = [35, 151.5, -10, 0.5]
        try NIfTIWriter.write(values, header: .make(shape: [4, 1, 1], datatype: .int16), to: path, scaling: (0.5, -10))
        let image = try NIfTIImage(contentsOf: path)
        XCTAssertEqual(image.header.scaling?.slope, 0.5)
        XCTAssertEqual(image.header.scaling?.intercept, -10)
        XCTAssertEqual(try image.readAll(as: Double.self), values)
    }

    func testValuesThatDoNotFitAreRefusedAndNoFileIsLeft() throws {
        let path = directory.file("overflow.nii")
        XCTAssertThrowsError(try NIfTIWriter.write([1, 300] as [Float], header: .make(shape: [2, 1, 1], datatype: .uint8), to: path)) { error in
            XCTAssertEqual((error as? NIfTIError)?.kind, .invalidArgument)
            XCTAssertTrue("\(error)".contains("300"), "\(error)")
        }
        XCTAssertThrowsError(try NIfTIWriter.write([Float.nan, 1], header: .make(shape: [2, 1, 1], datatype: .int16), to: path))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        XCTAssertEqual(leftovers, [], "a failed write leaves neither the file nor its temporary")
    }

    func testWriteReplacesAtomicallyAndReportsMissingDirectory() throws {
        let path = directory.file("replace.nii")
        try NIfTIWriter.write([1, 2] as [Float], header: .make(shape: [2, 1, 1]), to: path)
        try NIfTIWriter.write([3, 4] as [Float], header: .make(shape: [2, 1, 1]), to: path)
        XCTAssertEqual(try NIfTIImage(contentsOf: path).readAll(), [3, 4] as [Float])
        XCTAssertThrowsError(try NIfTIWriter.write([1] as [Float], header: .make(shape: [1, 1, 1]), to: directory.file("missing/x.nii"))) {
            XCTAssertEqual(($0 as? NIfTIError)?.kind, .writeFailed)
        }
    }

    func testMultiMemberGzipReadsWithBothBackends() throws {
        // Header in one gzip member, data in another: valid gzip that some tools produce.
        let plainPath = directory.file("plain.nii")
        let values = (0..<60).map { Float($0) * 0.5 }
        try NIfTIWriter.write(values, header: .make(shape: [3, 4, 5]), to: plainPath)
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: plainPath)))
        var joined: [UInt8] = []
        for (index, part) in [bytes[0..<200], bytes[200...]].enumerated() {
            let memberPath = directory.file("member\(index).gz")
            let file = try AtomicFile(path: memberPath, gzipLevel: 6)
            try file.write(Array(part))
            try file.commit()
            joined += try [UInt8](Data(contentsOf: URL(fileURLWithPath: memberPath)))
        }
        let multiPath = directory.file("multi.nii.gz")
        try Data(joined).write(to: URL(fileURLWithPath: multiPath))
        for backend in InflateBackend.allCases {
            XCTAssertEqual(try NIfTIImage(contentsOf: multiPath, inflateBackend: backend).readAll(), values, backend.rawValue)
        }
    }

    func testTrailingPaddingAfterLastMemberIsIgnored() throws {
        // Some tools pad gzip files with zeros; gzip(1) ignores them, and so does the reader.
        let gzPath = directory.file("padded.nii.gz")
        let values = (0..<24).map { Float($0) }
        try NIfTIWriter.write(values, header: .make(shape: [2, 3, 4]), to: gzPath)
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: gzPath))) + [0, 0, 0, 0]
        try Data(bytes).write(to: URL(fileURLWithPath: gzPath))
        for backend in InflateBackend.allCases {
            XCTAssertEqual(try NIfTIImage(contentsOf: gzPath, inflateBackend: backend).readAll(), values, backend.rawValue)
        }
    }

    func testHdrImgPair() throws {
        let single = directory.file("single.nii")
        let values = (0..<60).map { Float($0) - 7 }
        try NIfTIWriter.write(values, header: .make(shape: [3, 4, 5], datatype: .int16), to: single)
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: single)))
        var header = try NIfTIHeader.parse(bytes, path: single)
        header.isPair = true
        header.voxOffset = 0
        try Data(header.encoded()).write(to: URL(fileURLWithPath: directory.file("pair.hdr")))
        try Data(bytes[352...]).write(to: URL(fileURLWithPath: directory.file("pair.img")))
        for name in ["pair.hdr", "pair.img"] {
            let image = try NIfTIImage(contentsOf: directory.file(name))
            XCTAssertEqual(image.path, directory.file("pair.hdr"))
            XCTAssertEqual(image.dataPath, directory.file("pair.img"))
            XCTAssertEqual(try image.readAll(), values, name)
        }
    }
}
