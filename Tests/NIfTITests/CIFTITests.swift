import Foundation
import NIfTI
import TestSupport
import XCTest

/// CIFTI-2 files written by nibabel 5.4.2 (bench/golden/cifti_nibabel.py), read as nibabel
/// reads them (Tests/Fixtures/cifti/expected.json).
final class CIFTITests: XCTestCase {
    func expected() throws -> [String: Any] {
        try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: Fixtures.path("cifti/expected.json")))) as? [String: Any])
    }

    func testDenseTimeseriesMatchesNibabel() throws {
        let golden = try XCTUnwrap(try expected()["dtseries"] as? [String: Any])
        let cifti = try CIFTIImage(contentsOf: Fixtures.path("cifti/sim.dtseries.nii"))
        XCTAssertEqual([cifti.rows, cifti.columns], golden["shape"] as? [Int])
        XCTAssertEqual(cifti.repetitionTime ?? 0, golden["step"] as? Double ?? -1, accuracy: 1e-12)
        XCTAssertEqual(cifti.map(for: 0)?.seriesUnit, golden["unit"] as? String)
        XCTAssertEqual(cifti.brainModelMap?.volumeShape, golden["volume_shape"] as? [Int])
        let models = try XCTUnwrap(cifti.brainModelMap?.brainModels)
        let goldenModels = try XCTUnwrap(golden["models"] as? [[String: Any]])
        XCTAssertEqual(models.count, goldenModels.count)
        for (model, reference) in zip(models, goldenModels) {
            XCTAssertEqual(model.structure, reference["structure"] as? String)
            XCTAssertEqual(model.offset, reference["offset"] as? Int)
            XCTAssertEqual(model.count, reference["count"] as? Int)
            if let vertices = reference["vertices"] as? [Int] {
                XCTAssertEqual(model.kind, .surface)
                XCTAssertEqual(model.vertices, vertices)
                XCTAssertEqual(model.surfaceVertices, reference["surface_vertices"] as? Int)
            } else {
                XCTAssertEqual(model.kind, .voxels)
                XCTAssertEqual(model.voxels, reference["voxels"] as? [[Int]])
            }
        }
        // Values: grayordinate-major on disk (nibabel's [time, grayordinate] transposed).
        let values = try cifti.readAll()
        let first = try XCTUnwrap(golden["first_values"] as? [Double]), last = try XCTUnwrap(golden["last_grayordinate"] as? [Double])
        for (g, value) in first.enumerated() { XCTAssertEqual(Double(values[g * cifti.rows]), value, accuracy: 1e-6) }
        for (t, value) in last.enumerated() { XCTAssertEqual(Double(values[49 * cifti.rows + t]), value, accuracy: 1e-6) }
    }

    func testLabelsAndScalars() throws {
        let golden = try expected()
        let labels = try CIFTIImage(contentsOf: Fixtures.path("cifti/sim.dlabel.nii"))
        XCTAssertEqual(labels.map(for: 0)?.kind, .labels)
        let table = try XCTUnwrap((golden["dlabel"] as? [String: Any])?["labels"] as? [String: String])
        XCTAssertEqual(labels.map(for: 0)?.labelTables.first, Dictionary(uniqueKeysWithValues: table.map { (Int($0.key) ?? -1, $0.value) }))
        XCTAssertEqual(try labels.readAll().map { Int($0) }, (golden["dlabel"] as? [String: Any])?["keys"] as? [Int])
        XCTAssertNil(labels.repetitionTime)
        let scalars = try CIFTIImage(contentsOf: Fixtures.path("cifti/sim.dscalar.nii"))
        XCTAssertEqual(scalars.map(for: 0)?.mapNames, (golden["dscalar"] as? [String: Any])?["names"] as? [String])
        XCTAssertEqual([scalars.rows, scalars.columns], (golden["dscalar"] as? [String: Any])?["shape"] as? [Int])
    }

    /// Dense scalars written over a dense timeseries' brain models read back with the same
    /// grayordinates (structures, offsets, vertices, voxels), map names and values (nibabel
    /// 5.4.2 was checked by hand on a map `latents --maps` wrote with this writer, docs/nifti.md).
    func testDenseScalarsWrittenOverBrainModelsRoundTrip() throws {
        let series = try CIFTIImage(contentsOf: Fixtures.path("cifti/sim.dtseries.nii"))
        let brainModels = try XCTUnwrap(series.brainModelsElement)
        XCTAssertTrue(brainModels.hasPrefix("<MatrixIndicesMap") && brainModels.hasSuffix("</MatrixIndicesMap>"), brainModels)
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("maps.dscalar.nii")
        let ramp: [Double] = (0..<50).map { Double($0) * 0.5 - 3 }
        let square: [Double] = (0..<50).map { Double($0 * $0) / 100 }
        let maps: [[Double]] = [ramp, square]
        try CIFTIWriter.writeDenseScalars(maps, names: ["left & hand", "z2"], brainModels: brainModels, to: path)
        let scalars = try CIFTIImage(contentsOf: path)
        XCTAssertEqual([scalars.rows, scalars.columns], [2, 50])
        XCTAssertEqual(scalars.map(for: 0)?.kind, .scalars)
        XCTAssertEqual(scalars.map(for: 0)?.mapNames, ["left & hand", "z2"])
        XCTAssertEqual(scalars.brainModelMap, series.brainModelMap)
        XCTAssertEqual(scalars.image.header.intentCode, 3006)
        let values = try scalars.readAll()
        for g in 0..<50 {
            XCTAssertEqual(Double(values[g * 2]), maps[0][g], accuracy: 1e-6)
            XCTAssertEqual(Double(values[g * 2 + 1]), maps[1][g], accuracy: 1e-6)
        }
        XCTAssertThrowsError(try CIFTIWriter.writeDenseScalars(maps, names: ["one"], brainModels: brainModels, to: directory.file("bad.dscalar.nii")))
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory.file("bad.dscalar.nii")))
    }

    /// Not CIFTI, or CIFTI with damaged XML: an error naming the file and the field, no crash.
    func testDamagedFilesAreRefused() throws {
        XCTAssertThrowsError(try CIFTIImage(contentsOf: Fixtures.path("nifti/functional.nii"))) { error in
            XCTAssertTrue("\(error)".contains("NIfTI-1") && "\(error)".contains("functional.nii"), "\(error)")
        }
        XCTAssertThrowsError(try CIFTIImage(contentsOf: Fixtures.path("nifti/example_nifti2.nii.gz"))) { error in
            XCTAssertTrue("\(error)".contains("extension"), "\(error)")
        }
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Fixtures.path("cifti/sim.dtseries.nii"))))
        let xml = Array("<BrainModel IndexOffset=\"30\"".utf8)
        let at = try XCTUnwrap((0..<(bytes.count - xml.count)).first { Array(bytes[$0..<($0 + xml.count)]) == xml })
        bytes[at + 1] = UInt8(ascii: "X")  // <XrainModel ... </BrainModel>: not well-formed
        let broken = directory.file("broken.dtseries.nii")
        try Data(bytes).write(to: URL(fileURLWithPath: broken))
        XCTAssertThrowsError(try CIFTIImage(contentsOf: broken)) { error in
            XCTAssertTrue("\(error)".contains("CIFTI XML") && "\(error)".contains("broken.dtseries.nii"), "\(error)")
        }
        var count = bytes
        count[at + 1] = UInt8(ascii: "B")
        let offset = Array("IndexCount=\"20\"".utf8)
        let position = try XCTUnwrap((0..<(count.count - offset.count)).first { Array(count[$0..<($0 + offset.count)]) == offset })
        count[position + 12] = UInt8(ascii: "1")  // IndexCount="10" for 20 voxels
        let miscounted = directory.file("miscounted.dtseries.nii")
        try Data(count).write(to: URL(fileURLWithPath: miscounted))
        XCTAssertThrowsError(try CIFTIImage(contentsOf: miscounted)) { error in
            XCTAssertTrue("\(error)".contains("IndexCount is 10"), "\(error)")
        }
    }
}
