import Foundation
import TestSupport
import XCTest

/// `fmridyn extract` and `fmridyn events` end to end, against nilearn's numbers.
final class ExtractCommandTests: XCTestCase {
    var directory: TemporaryDirectory!
    override func setUpWithError() throws { directory = try TemporaryDirectory() }
    override func tearDown() { directory.remove() }

    func run(_ arguments: [String]) throws -> CommandRunner.Result { try CommandRunner.run(arguments) }

    func readTSV(_ path: String) throws -> (header: [String], rows: [[String]]) {
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map { $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) }
        return (lines.first ?? [], Array(lines.dropFirst()))
    }

    func testCleanedLabelTimeseriesMatchNilearn() throws {
        let out = directory.file("timeseries.tsv")
        let result = try run(["extract", Fixtures.path("fmri/fmri1.nii.gz"), "--atlas", Fixtures.path("extraction/labels_native.nii.gz"),
                              "--detrend", "--high-pass", "0.01", "--low-pass", "0.1", "--standardize", "zscore", "--out", out, "--quiet"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let (header, rows) = try readTSV(out)
        let golden = try XCTUnwrap((Fixtures.json("extraction/golden.json") as? [String: Any])?["labels"] as? [[String: Any]])
        let expectedIDs = try XCTUnwrap(golden[0]["region_ids"] as? [Int])
        XCTAssertEqual(header, expectedIDs.map(String.init))
        let cleaned = try XCTUnwrap(golden.first { $0["clean"] is [String: Any] })
        let expected = GoldenArray(cleaned["signals"])
        XCTAssertEqual(rows.count, 40)
        let values = rows.flatMap { $0.compactMap(Double.init) }
        // The TSV holds Float32 text: compare at Float32 precision.
        XCTAssertClose(values, expected.values, absolute: 1e-5, relative: 1e-6)
    }

    func testVoxelModeWritesNPYAndNIfTI() throws {
        let npy = directory.file("voxels.npy")
        let result = try run(["extract", Fixtures.path("fmri/fmri1.nii.gz"), "--mask", "epi", "--out", npy, "--quiet"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let data = try Data(contentsOf: URL(fileURLWithPath: npy))
        XCTAssertEqual(Array(data.prefix(6)), [0x93] + Array("NUMPY".utf8))
        let headerLength = Int(data[8]) | Int(data[9]) << 8
        let header = String(decoding: data[10..<(10 + headerLength)], as: UTF8.self)
        XCTAssertTrue(header.contains("'shape': (40, 13)"), header)
        XCTAssertEqual((10 + headerLength) % 64, 0, "the NPY header is padded to 64 bytes")
        XCTAssertEqual(data.count, 10 + headerLength + 40 * 13 * 4)
        let nifti = directory.file("cleaned.nii.gz")
        XCTAssertEqual(try run(["extract", Fixtures.path("fmri/fmri1.nii.gz"), "--mask", "epi", "--detrend", "--out", nifti, "-q"]).status, 0)
        let info = try run(["info", "--json", "--stats", nifti])
        XCTAssertTrue(info.stdout.contains("\"shape\": [10, 10, 18, 40]"), info.stdout)
        XCTAssertTrue(info.stdout.contains("\"tr_seconds\": 1.35"), info.stdout)
    }

    func testUsageAndDataErrors() throws {
        let bold = Fixtures.path("fmri/fmri1.nii.gz")
        let noMask = try run(["extract", bold, "--out", directory.file("x.npy")])
        XCTAssertEqual(noMask.status, 2)
        XCTAssertTrue(noMask.stderr.contains("--mask"), noMask.stderr)
        let nyquist = try run(["extract", bold, "--atlas", Fixtures.path("extraction/labels_native.nii.gz"), "--low-pass", "0.5",
                               "--out", directory.file("x.tsv")])
        XCTAssertEqual(nyquist.status, 1)
        XCTAssertTrue(nyquist.stderr.contains("Nyquist") && nyquist.stderr.contains("--low-pass 0.5 Hz"), nyquist.stderr)
        let wrongRows = try run(["extract", bold, "--atlas", Fixtures.path("extraction/labels_native.nii.gz"),
                                 "--confounds", Fixtures.path("confounds/test-v21_desc-confounds_timeseries.tsv"),
                                 "--confound-strategy", "motion6", "--out", directory.file("x.tsv")])
        XCTAssertEqual(wrongRows.status, 1)
        XCTAssertTrue(wrongRows.stderr.contains("30 rows") && wrongRows.stderr.contains("40 volumes"), wrongRows.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory.file("x.tsv")), "no partial output")
    }

    func testEventsLabelsAndRegressors() throws {
        let labels = directory.file("labels.tsv")
        XCTAssertEqual(try run(["events", Fixtures.path("events/motor_events.tsv"), "--tr", "2", "--volumes", "90", "--labels", "--out", labels, "-q"]).status, 0)
        let (header, rows) = try readTSV(labels)
        XCTAssertEqual(header, ["volume", "time_s", "condition"])
        XCTAssertEqual(rows[5], ["5", "10.0", "left_hand"])
        XCTAssertEqual(rows[4][2], "rest")
        let design = directory.file("design.tsv")
        XCTAssertEqual(try run(["events", Fixtures.path("events/motor_events.tsv"), "--tr", "2", "--volumes", "90", "--hrf", "glover", "--out", design, "-q"]).status, 0)
        let (designHeader, designRows) = try readTSV(design)
        XCTAssertEqual(designHeader, ["volume", "time_s", "button", "left_hand", "right_hand", "tongue"])
        let golden = try XCTUnwrap((Fixtures.json("events/golden.json") as? [String: Any])?["design"] as? [[String: Any]])
        let expected = GoldenArray(golden[0]["values"])  // glover, TR 2, 90 volumes
        XCTAssertClose(designRows.flatMap { $0.dropFirst(2).compactMap(Double.init) }, expected.values, absolute: 1e-6, relative: 1e-6)
    }

    /// Extracts `series` by `atlas` into a TSV and checks header and values against the
    /// fixture folder's expected.json (nibabel's parcel means by label key 1, 2, 3).
    func assertParcelMeans(_ series: String, atlas: String, fixtures: String, names: [String], volumes: Int, in directory: TemporaryDirectory) throws {
        let out = directory.file("parcels.tsv")
        let result = try run(["extract", Fixtures.path(series), "--atlas", Fixtures.path(atlas), "--out", out])
        XCTAssertEqual(result.status, 0, result.stderr)
        let rows = try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n").map { $0.split(separator: "\t").map(String.init) }
        XCTAssertEqual(rows[0], names)
        XCTAssertEqual(rows.count, volumes + 1)
        let golden = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: Fixtures.path(fixtures + "/expected.json")))) as? [String: Any])
        let means = try XCTUnwrap(golden["region_means"] as? [String: [Double]])
        for (column, key) in ["1", "2", "3"].enumerated() {
            for t in 0..<volumes { XCTAssertEqual(Double(rows[t + 1][column]) ?? .nan, means[key]?[t] ?? 0, accuracy: 1e-5) }
        }
    }

    /// A CIFTI dense timeseries by a dense label file: parcel means equal to nibabel's (the
    /// fixture's expected.json), TR from the series step; every grayordinate without --atlas.
    func testCIFTIParcelsAndGrayordinates() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try assertParcelMeans("cifti/sim.dtseries.nii", atlas: "cifti/sim.dlabel.nii", fixtures: "cifti", names: ["motor_left", "visual_left", "thalamus_left"],
                              volumes: 20, in: directory)
        let grayordinates = directory.file("grayordinates.tsv")
        let all = try run(["extract", Fixtures.path("cifti/sim.dtseries.nii"), "--standardize", "zscore", "--out", grayordinates])
        XCTAssertEqual(all.status, 0, all.stderr)
        XCTAssertTrue(all.stderr.contains("20 volumes x 50 grayordinates"), all.stderr)
        let header = try String(contentsOfFile: grayordinates, encoding: .utf8).split(separator: "\n")[0].split(separator: "\t")
        XCTAssertEqual(header.first, "CIFTI_STRUCTURE_CORTEX_LEFT|v0")
        XCTAssertEqual(header.last, "CIFTI_STRUCTURE_THALAMUS_LEFT|3,4,4")
        // A volume atlas or an image output for a CIFTI input is refused with the fix.
        let volumeAtlas = try run(["extract", Fixtures.path("cifti/sim.dtseries.nii"), "--atlas", "power264", "--out", directory.file("x.tsv")])
        XCTAssertEqual(volumeAtlas.status, 1)
        XCTAssertTrue(volumeAtlas.stderr.contains(".dlabel.nii"), volumeAtlas.stderr)
        let image = try run(["extract", Fixtures.path("cifti/sim.dtseries.nii"), "--out", directory.file("x.nii.gz")])
        XCTAssertEqual(image.status, 2)
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory.file("x.tsv")))
    }

    /// A GIfTI surface timeseries by a GIfTI label file: label means equal to nibabel's.
    func testGIfTILabels() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try assertParcelMeans("gifti/sim.func.gii", atlas: "gifti/sim.label.gii", fixtures: "gifti", names: ["precentral", "postcentral", "insula"],
                              volumes: 12, in: directory)
        let vertices = try run(["extract", Fixtures.path("gifti/sim.func.gii"), "--out", directory.file("vertices.tsv")])
        XCTAssertTrue(vertices.stderr.contains("12 volumes x 40 vertices"), vertices.stderr)
        let info = try run(["info", Fixtures.path("gifti/sim.func.gii")])
        XCTAssertTrue(info.stdout.contains("40 vertices") && info.stdout.contains("TR 0.72 s"), info.stdout)
    }
}
