import Foundation
import TestSupport
import XCTest

/// Runs the built `fmridyn` binary as a user's script would: exit codes, stdout, stderr.
final class InfoCommandTests: XCTestCase {
    func run(_ arguments: [String]) throws -> CommandRunner.Result { try CommandRunner.run(arguments) }

    func testJSONHasExactlyTheDocumentedKeysAndNibabelValues() throws {
        let result = try run(["info", "--json", "--stats", Fixtures.path("nifti/functional.nii")])
        XCTAssertEqual(result.status, 0, result.stderr)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(Set(object.keys), ["nifti_version", "shape", "zooms", "datatype_code", "datatype", "scl_slope", "scl_inter",
                                          "qform_code", "sform_code", "affine", "tr_seconds", "xyzt_units", "stats"])
        XCTAssertEqual(object["nifti_version"] as? Int, 1)
        XCTAssertEqual(object["shape"] as? [Int], [17, 21, 3, 20])
        XCTAssertEqual(object["zooms"] as? [Double], [4, 4, 8, 2])
        XCTAssertEqual(object["datatype"] as? String, "int16")
        XCTAssertEqual(object["datatype_code"] as? Int, 4)
        // Foundation's JSON parser may be off by an ulp or two; the printed text is exact.
        XCTAssertClose(object["scl_slope"] as? Double ?? 0, Double(Float(0.07540697)), relative: 1e-14)
        XCTAssertClose(object["scl_inter"] as? Double ?? 0, Double(Float(3100.7617)), relative: 1e-14)
        XCTAssertTrue(result.stdout.contains("\"scl_slope\": \(Double(Float(0.07540697)))"), result.stdout)
        XCTAssertEqual(object["tr_seconds"] as? Double, 2)
        XCTAssertEqual(object["xyzt_units"] as? [String], ["mm", "sec"])
        XCTAssertEqual(object["affine"] as? [[Double]], [[-4, 0, 0, 32], [0, 4, 0, -40], [0, 0, 8, 0], [0, 0, 0, 1]])
        let stats = try XCTUnwrap(object["stats"] as? [String: Double])
        // nibabel 5.4.2 (Tests/Fixtures/nifti/expected.json)
        XCTAssertClose(stats["sum"] ?? 0, 77913290.36292362, relative: 1e-6)
        XCTAssertClose(stats["mean"] ?? 0, 3637.408513675239, relative: 1e-6)
        XCTAssertClose(stats["min"] ?? 0, 629.826171875, relative: 1e-6)
        XCTAssertClose(stats["max"] ?? 0, 5571.621858656406, relative: 1e-6)
    }

    func testNullsForUnscaled3DImages() throws {
        let result = try run(["info", "--json", Fixtures.path("nifti/anatomical.nii")])
        XCTAssertEqual(result.status, 0, result.stderr)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        XCTAssertTrue(object["scl_slope"] is NSNull)
        XCTAssertTrue(object["scl_inter"] is NSNull)
        XCTAssertTrue(object["tr_seconds"] is NSNull)
        XCTAssertNil(object["stats"])
    }

    func testImplausibleTRWarnsOnStderrOnly() throws {
        let result = try run(["info", "--json", Fixtures.path("nifti/example4d.nii.gz")])
        XCTAssertEqual(result.status, 0)
        XCTAssertTrue(result.stderr.contains("warning:") && result.stderr.contains("milliseconds") && result.stderr.contains("Pass --tr to override"), result.stderr)
        XCTAssertNoThrow(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)), "stdout stays pure JSON")
        let quiet = try run(["info", "--quiet", Fixtures.path("nifti/example4d.nii.gz")])
        XCTAssertEqual(quiet.stderr, "")
        XCTAssertTrue(quiet.stdout.contains("128 x 96 x 24 x 2"))
    }

    func testExitCodes() throws {
        let missing = try run(["info", "/nonexistent/run.nii.gz"])
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.stderr.contains("/nonexistent/run.nii.gz") && missing.stderr.contains("no such file"), missing.stderr)
        let usage = try run(["info", "--no-such-flag", Fixtures.path("nifti/anatomical.nii")])
        XCTAssertEqual(usage.status, 2)
        let conflicting = try run(["info", "--quiet", "--verbose", Fixtures.path("nifti/anatomical.nii")])
        XCTAssertEqual(conflicting.status, 2)
        let help = try run(["info", "--help"])
        XCTAssertEqual(help.status, 0)
        XCTAssertTrue(help.stdout.contains("Examples:"))
        let version = try run(["--version"])
        XCTAssertEqual(version.status, 0)
        XCTAssertTrue(version.stdout.hasPrefix("0."), version.stdout)
    }
}
