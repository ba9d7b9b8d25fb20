import CNIfTI
import XCTest

@testable import NIfTI

/// The Swift field table must agree with the NIfTI C library's structs.
final class HeaderLayoutTests: XCTestCase {
    func offset(_ version: Int32, _ field: String) -> Int { Int(cnifti_field_offset(version, field)) }

    func testNIfTI1OffsetsMatchCStruct() {
        let layout = HeaderLayout.nifti1
        XCTAssertEqual(cnifti_header_size(1), 348)
        let pairs: [(String, Int)] = [
            ("dim_info", layout.dimInfo), ("dim", layout.dim), ("intent_p1", layout.intentP),
            ("intent_code", layout.intentCode), ("datatype", layout.datatype), ("bitpix", layout.bitpix),
            ("slice_start", layout.sliceStart), ("pixdim", layout.pixdim), ("vox_offset", layout.voxOffset),
            ("scl_slope", layout.sclSlope), ("scl_inter", layout.sclInter), ("slice_end", layout.sliceEnd),
            ("slice_code", layout.sliceCode), ("xyzt_units", layout.xyztUnits), ("cal_max", layout.calMax),
            ("cal_min", layout.calMin), ("slice_duration", layout.sliceDuration), ("toffset", layout.toffset),
            ("descrip", layout.descrip), ("aux_file", layout.auxFile), ("qform_code", layout.qformCode),
            ("sform_code", layout.sformCode), ("quatern_b", layout.quaternB), ("qoffset_x", layout.qoffsetX),
            ("srow_x", layout.srowX), ("intent_name", layout.intentName), ("magic", layout.magic),
        ]
        for (field, swiftOffset) in pairs { XCTAssertEqual(swiftOffset, offset(1, field), field) }
    }

    func testNIfTI2OffsetsMatchCStruct() {
        let layout = HeaderLayout.nifti2
        XCTAssertEqual(cnifti_header_size(2), 540)
        let pairs: [(String, Int)] = [
            ("magic", layout.magic), ("datatype", layout.datatype), ("bitpix", layout.bitpix), ("dim", layout.dim),
            ("intent_p1", layout.intentP), ("pixdim", layout.pixdim), ("vox_offset", layout.voxOffset),
            ("scl_slope", layout.sclSlope), ("scl_inter", layout.sclInter), ("cal_max", layout.calMax),
            ("cal_min", layout.calMin), ("slice_duration", layout.sliceDuration), ("toffset", layout.toffset),
            ("slice_start", layout.sliceStart), ("slice_end", layout.sliceEnd), ("descrip", layout.descrip),
            ("aux_file", layout.auxFile), ("qform_code", layout.qformCode), ("sform_code", layout.sformCode),
            ("quatern_b", layout.quaternB), ("qoffset_x", layout.qoffsetX), ("srow_x", layout.srowX),
            ("slice_code", layout.sliceCode), ("xyzt_units", layout.xyztUnits), ("intent_code", layout.intentCode),
            ("intent_name", layout.intentName), ("dim_info", layout.dimInfo),
        ]
        for (field, swiftOffset) in pairs { XCTAssertEqual(swiftOffset, offset(2, field), field) }
    }

    func testEncodeThenParseKeepsEveryField() throws {
        for version in [1, 2] {
            var header = NIfTIHeader.make(shape: [3, 4, 5, 6], zooms: [2, 2, 2.5, 0.75],
                                          affine: Affine(rows: [[-2, 0, 0, 90], [0, 2, 0, -126], [0, 0, 2.5, -72], [0, 0, 0, 1]]),
                                          datatype: .int16, code: 4)
            header.version = version
            header.description = "round trip"
            header.intentName = "latent"
            header.sclSlope = 0.25; header.sclInter = 3
            header.calMin = -1; header.calMax = 7
            header.sliceCode = 1; header.sliceStart = 0; header.sliceEnd = 4; header.sliceDuration = 0.125
            header.toffset = 1.5; header.dimInfo = 57; header.intentCode = 1002
            header.voxOffset = Int64(header.headerSize + 4)
            let parsed = try NIfTIHeader.parse(header.encoded(), path: "memory")
            var expected = header
            expected.bitpix = 16
            XCTAssertEqual(parsed, expected, "NIfTI-\(version)")
        }
    }
}
