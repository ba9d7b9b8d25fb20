import TestSupport
import XCTest

@testable import Preprocessing

/// The fMRIPrep confounds file from nilearn's test data (values read with pandas).
final class ConfoundsTests: XCTestCase {
    func table() throws -> ConfoundsTable {
        try ConfoundsTable(contentsOf: Fixtures.path("confounds/test-v21_desc-confounds_timeseries.tsv"))
    }

    func testPresetsAndFirstRowFill() throws {
        let confounds = try table()
        XCTAssertEqual(confounds.volumeCount, 30)
        XCTAssertEqual(try confounds.columns(for: .motion24).count, 24)
        let motion = try confounds.matrix(columns: try confounds.columns(for: .motion24))
        XCTAssertEqual(motion.columns, 24)
        // trans_x_derivative1 is column 6 of motion24; row 0 is n/a, filled from row 1.
        XCTAssertEqual(motion[0, 6], -0.15225479825)
        XCTAssertEqual(motion[1, 6], -0.15225479825)
        XCTAssertEqual(motion[5, 5], -0.0141588, "rot_z, row 5")
        let compcor = try confounds.columns(for: .compcor)
        XCTAssertEqual(compcor, ["a_comp_cor_00", "a_comp_cor_01", "a_comp_cor_02", "a_comp_cor_03", "a_comp_cor_04"])
        XCTAssertEqual(try confounds.matrix(columns: compcor)[7, 4], 0.1985315007)
    }

    func testScrubbingAndNonSteadyState() throws {
        let confounds = try table()
        let keep = try confounds.censorMask(framewiseDisplacement: 0.5, standardizedDVARS: 1.5)
        XCTAssertEqual(keep.indices.filter { keep[$0] }, [0, 22, 28, 29], "pandas: FD > 0.5 or std_dvars > 1.5")
        XCTAssertEqual(try confounds.nonSteadyStateVolumes(), 3)
    }

    func testMissingColumnListsWhatExists() throws {
        XCTAssertThrowsError(try table().matrix(columns: ["trans_q"])) { error in
            XCTAssertTrue("\(error)".contains("column trans_q") && "\(error)".contains("global_signal"), "\(error)")
        }
    }
}
