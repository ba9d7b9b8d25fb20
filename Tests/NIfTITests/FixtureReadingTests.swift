import TestSupport
import XCTest

@testable import NIfTI

/// Every nibabel fixture read against nibabel's own values (Tests/Fixtures/nifti/expected.json).
final class FixtureReadingTests: XCTestCase {
    struct Expected {
        let file: String
        let entry: [String: Any]
        var doubles: (String) -> [Double] { { key in (entry[key] as? [Any] ?? []).compactMap { ($0 as? NSNumber)?.doubleValue } } }
    }

    func expectations() throws -> [Expected] {
        let list = try XCTUnwrap(Fixtures.json("nifti/expected.json") as? [[String: Any]])
        XCTAssertEqual(list.count, 8)
        return list.map { Expected(file: $0["file"] as? String ?? "", entry: $0) }
    }

    func testHeadersMatchNibabel() throws {
        for expected in try expectations() {
            let image = try NIfTIImage(contentsOf: Fixtures.path("nifti/" + expected.file))
            let header = image.header
            let entry = expected.entry
            XCTAssertEqual(header.version, entry["nifti_version"] as? Int, expected.file)
            XCTAssertEqual(header.shape, (entry["shape"] as? [Int]) ?? [], expected.file)
            XCTAssertEqual(header.zooms, expected.doubles("zooms"), expected.file)
            XCTAssertEqual(Int(header.datatype.rawValue), entry["datatype_code"] as? Int, expected.file)
            XCTAssertEqual(Int(header.qformCode), entry["qform_code"] as? Int, expected.file)
            XCTAssertEqual(Int(header.sformCode), entry["sform_code"] as? Int, expected.file)
            let units = entry["xyzt_units"] as? [String] ?? []
            XCTAssertEqual([header.spatialUnit.name, header.temporalUnit.name], units, expected.file)
            let affine = (entry["affine"] as? [[NSNumber]] ?? []).flatMap { $0.map(\.doubleValue) }
            XCTAssertClose(header.affine.elements, affine, absolute: 1e-5, relative: 0, expected.file)
        }
    }

    func testScaledStatisticsAndSamplesMatchNibabel() throws {
        for expected in try expectations() {
            let image = try NIfTIImage(contentsOf: Fixtures.path("nifti/" + expected.file))
            let values: [Double] = try image.readAll(as: Double.self)
            let floats: [Float] = try image.readAll()
            XCTAssertEqual(values.count, image.header.voxelCount)
            let sum = values.reduce(0, +)
            let entry = expected.entry
            func number(_ key: String) -> Double { (entry[key] as? NSNumber)?.doubleValue ?? .nan }
            XCTAssertClose(sum, number("scaled_sum"), relative: 1e-6, expected.file)
            XCTAssertClose(values.min() ?? .nan, number("scaled_min"), relative: 1e-6, expected.file)
            XCTAssertClose(values.max() ?? .nan, number("scaled_max"), relative: 1e-6, expected.file)
            XCTAssertClose(sum / Double(values.count), number("scaled_mean"), relative: 1e-6, expected.file)
            let indices = (entry["samples_fortran_order_index"] as? [Int]) ?? []
            let samples = expected.doubles("samples_values")
            XCTAssertEqual(indices.count, 16)
            for (index, sample) in zip(indices, samples) {
                // Float32 output is nibabel's Float64 value rounded once; Float64 output is exact.
                XCTAssertEqual(floats[index], Float(sample), "\(expected.file)[\(index)]")
                XCTAssertClose(values[index], sample, relative: 1e-12, "\(expected.file)[\(index)]")
            }
        }
    }

    /// Raw header fields nibabel resets on load, from bench/golden/nifti_headers.py.
    func testRawHeaderFieldsMatchGolden() throws {
        let golden = try XCTUnwrap(Fixtures.json("nifti/headers.json") as? [String: [String: Any]])
        XCTAssertEqual(golden.count, 8)
        for (file, entry) in golden {
            let header = try NIfTIImage(contentsOf: Fixtures.path("nifti/" + file)).header
            XCTAssertEqual(Float(header.sclSlope), Float((entry["raw_scl_slope"] as? NSNumber)?.doubleValue ?? .nan), file)
            XCTAssertEqual(Float(header.sclInter), Float((entry["raw_scl_inter"] as? NSNumber)?.doubleValue ?? .nan), file)
            XCTAssertEqual(header.isBigEndian, entry["big_endian"] as? Bool, file)
            XCTAssertEqual(header.description, entry["description"] as? String, file)
            if let qform = entry["qform_affine"] as? [[NSNumber]] {
                // The NIfTI C library treats a quaternion with a = sqrt(1 - b^2 - c^2 - d^2) below
                // 1e-7 as a = 0 (a 180-degree rotation); nibabel keeps a = sqrt(1e-9) for
                // example_nifti2's float64 quaternion, which tilts its qform by about 1e-4.
                XCTAssertClose(header.qform.elements, qform.flatMap { $0.map(\.doubleValue) }, absolute: 2e-4, relative: 0, file)
            }
        }
    }

    func testScalingRulesFollowTheStandard() throws {
        var header = NIfTIHeader()
        header.sclSlope = 0; header.sclInter = 5
        XCTAssertNil(header.scaling, "slope 0 means no scaling")
        header.sclSlope = .nan
        XCTAssertNil(header.scaling, "non-finite slope means no scaling")
        header.sclSlope = 1; header.sclInter = 0
        XCTAssertNil(header.scaling, "identity")
        header.sclSlope = 2; header.sclInter = .infinity
        XCTAssertNil(header.scaling, "non-finite intercept")
        header.sclSlope = 0.5; header.sclInter = -10
        XCTAssertEqual(header.scaling?.slope, 0.5)
        XCTAssertEqual(header.scaling?.intercept, -10)
        let functional = try NIfTIImage(contentsOf: Fixtures.path("nifti/functional.nii")).header
        XCTAssertEqual(functional.scaling?.slope, Double(Float(0.07540697)))
    }

    func testRepetitionTimeUnitsAndWarning() throws {
        let example = try NIfTIImage(contentsOf: Fixtures.path("nifti/example4d.nii.gz")).header
        XCTAssertEqual(example.repetitionTime, 2000)
        let warning = try XCTUnwrap(example.repetitionTimeWarning)
        XCTAssertTrue(warning.contains("milliseconds") && warning.contains("`repetitionTime`"), warning)
        var header = example
        header.xyztUnits = SpatialUnit.millimeter.rawValue | TemporalUnit.millisecond.rawValue
        XCTAssertEqual(header.repetitionTime, 2.0)
        XCTAssertNil(header.repetitionTimeWarning)
        let anatomical = try NIfTIImage(contentsOf: Fixtures.path("nifti/anatomical.nii")).header
        XCTAssertNil(anatomical.repetitionTime, "3-D images have no TR")
        let functional = try NIfTIImage(contentsOf: Fixtures.path("nifti/functional.nii")).header
        XCTAssertEqual(functional.repetitionTime, 2.0)
        XCTAssertNil(functional.repetitionTimeWarning)
    }

    func testBothInflateBackendsAgree() throws {
        let path = Fixtures.path("nifti/example4d.nii.gz")
        let isal: [Float] = try NIfTIImage(contentsOf: path, inflateBackend: .isal).readAll()
        let zlib: [Float] = try NIfTIImage(contentsOf: path, inflateBackend: .zlib).readAll()
        XCTAssertEqual(isal.count, 128 * 96 * 24 * 2)
        XCTAssertTrue(isal == zlib)
    }

    func testBaseAffineWhenNoTransformCodes() {
        // nibabel: diag(-zx, zy, zz), origin at the volume centre.
        var header = NIfTIHeader()
        header.dim = [3, 4, 5, 7, 1, 1, 1, 1]
        header.pixdim = [1, 1, 3, 2, 1, 1, 1, 1]
        let affine = header.affine
        XCTAssertEqual(header.affineSource, "pixdim")
        XCTAssertEqual(affine.rows, [[-1, 0, 0, 1.5], [0, 3, 0, -6], [0, 0, 2, -6], [0, 0, 0, 1]])
    }
}
