import Foundation
import NIfTI
import TestSupport
import XCTest

/// `fit` and `latents` straight from a BIDS directory (extraction on the fly).
final class BIDSFitTests: XCTestCase {
    func testFitAndLatentsFromBIDS() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let dataset = directory.file("sim")
        XCTAssertEqual(try CommandRunner.run(["simulate", "--out", dataset, "--subjects", "2", "--runs", "1", "--volumes", "40",
                                              "--grid", "4mm", "-q"]).status, 0)
        let bidsOptions = ["--task", "motor", "--atlas", "dosenbach160", "--radius", "6", "--confound-strategy", "motion6"]
        let model = directory.file("model")
        let fit = try CommandRunner.run(["fit", dataset, "--out", model, "--window", "16", "--stride", "8", "--epochs", "1",
                                         "--latent-dim", "2", "--hidden", "4", "-q"] + bidsOptions)
        XCTAssertEqual(fit.status, 0, fit.stderr)
        let config = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: model + "/config.json"))) as? [String: Any])
        XCTAssertEqual((config["model"] as? [String: Any])?["observations"] as? Int, 160)
        XCTAssertTrue((config["split"] as? String ?? "").hasPrefix("by subject"))
        // The runs streamed through a run cache that does not outlive the fit.
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: model).filter { $0.hasPrefix(".fmridyn-runs") }
        XCTAssertEqual(leftovers, [])
        let csv = directory.file("latents.csv")
        let latents = try CommandRunner.run(["latents", "--model", model, dataset, "--out", csv, "-q"] + bidsOptions)
        XCTAssertEqual(latents.status, 0, latents.stderr)
        let lines = try String(contentsOfFile: csv, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.count, 1 + 2 * 40)
        XCTAssertTrue(lines[1].hasPrefix("01,,motor,1,0,0.0,"), String(lines[1]))
        // The rest of extract's flags apply to BIDS inputs too: two initial volumes dropped.
        let trimmed = directory.file("trimmed.csv")
        let trimmedRun = try CommandRunner.run(["latents", "--model", model, dataset, "--out", trimmed, "--drop-initial", "2", "--strategy", "median",
                                                "--standardize", "psc", "-q"] + bidsOptions)
        XCTAssertEqual(trimmedRun.status, 0, trimmedRun.stderr)
        let trimmedLines = try String(contentsOfFile: trimmed, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(trimmedLines.count, 1 + 2 * 38)
        XCTAssertTrue(trimmedLines[1].hasPrefix("01,,motor,1,2,1.44,"), String(trimmedLines[1]))
        let badFlag = try CommandRunner.run(["fit", dataset, "--out", model, "--standardize", "bogus"])
        XCTAssertEqual(badFlag.status, 2)
        // (Into a new directory: the model's own would first ask for --force or --resume.)
        let wrongTask = try CommandRunner.run(["fit", dataset, "--task", "rest", "--out", directory.file("other-model")])
        XCTAssertEqual(wrongTask.status, 2)
        XCTAssertTrue(wrongTask.stderr.contains("no BOLD runs match"), wrongTask.stderr)
    }
}

/// Voxel mode: a PCA of the mask's voxels learned on the training subjects, latents from new
/// runs through the same projection, decoder columns as voxel maps.
final class VoxelModeTests: XCTestCase {
    func testFitLatentsAndMapsInVoxelMode() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let dataset = directory.file("sim")
        XCTAssertEqual(try CommandRunner.run(["simulate", "--out", dataset, "--subjects", "3", "--runs", "1", "--volumes", "40",
                                              "--grid", "4mm", "-q"]).status, 0)
        let model = directory.file("model")
        let fit = try CommandRunner.run(["fit", dataset, "--task", "motor", "--voxels", "--mask", "mni152", "--voxel-pca", "12", "--out", model,
                                         "--window", "16", "--stride", "8", "--epochs", "1", "--latent-dim", "2", "--hidden", "4"])
        XCTAssertEqual(fit.status, 0, fit.stderr)
        XCTAssertTrue(fit.stderr.contains("voxel PCA: 12 components from 2 training runs x 29404 voxels"), fit.stderr)
        // Streamed: the training runs once for the PCA, then every run once more into the run cache.
        XCTAssertEqual(fit.stderr.components(separatedBy: "extracting ").count - 1, 2 + 3, fit.stderr)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: model).filter { $0.hasPrefix(".fmridyn-runs") }, [])
        let config = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: model + "/config.json"))) as? [String: Any])
        XCTAssertEqual((config["model"] as? [String: Any])?["observations"] as? Int, 12)
        XCTAssertEqual((config["featureNames"] as? [String])?.first, "pc1")
        let csv = directory.file("latents.csv"), maps = directory.file("maps")
        let latents = try CommandRunner.run(["latents", "--model", model, dataset, "--task", "motor", "--voxels", "--mask", "mni152",
                                             "--out", csv, "--maps", maps, "-q"])
        XCTAssertEqual(latents.status, 0, latents.stderr)
        XCTAssertEqual(try String(contentsOfFile: csv, encoding: .utf8).split(separator: "\n").count, 1 + 3 * 40)
        // Each latent's map is its decoder column through the PCA axes: values only inside the mask.
        let image = try NIfTIImage(contentsOf: maps + "/z1.nii.gz")
        XCTAssertEqual(image.header.shape, [50, 59, 48])
        let values: [Float] = try image.readAll()
        let inside = values.filter { $0 != 0 }.count
        XCTAssertGreaterThan(inside, 29000)
        XCTAssertLessThanOrEqual(inside, 29404)
        let table = try String(contentsOfFile: maps + "/decoder_maps.tsv", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(table.first, "feature\tz1\tz2")
        XCTAssertEqual(table.count, 13)
        // Condition maps of a voxel model through the PCA, and the report's projections.
        let decodingPath = directory.file("decoding.json"), conditionMaps = directory.file("condition-maps")
        let decode = try CommandRunner.run(["decode", csv, "--exclude", "rest", "--folds", "3", "--out", decodingPath, "--model", model,
                                            "--maps", conditionMaps, "-q"])
        XCTAssertEqual(decode.status, 0, decode.stderr)
        let decoded = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: decodingPath))) as? [String: Any])
        let classes = try XCTUnwrap(decoded["classes"] as? [String])
        XCTAssertEqual(try NIfTIImage(contentsOf: conditionMaps + "/maps.nii.gz").header.shape, [50, 59, 48, classes.count])
        let html = directory.file("report.html")
        let report = try CommandRunner.run(["report", "--model", model, "--maps", conditionMaps + "/maps.nii.gz", "--latent-maps", maps, "--out", html])
        XCTAssertEqual(report.status, 0, report.stderr)
        let page = try String(contentsOfFile: html, encoding: .utf8)
        XCTAssertEqual(page.components(separatedBy: "class=\"projection-map\"").count - 1, classes.count + 2, "one per condition and one per latent")
        for name in classes { XCTAssertTrue(page.contains(">\(name)</text>"), name) }

        // A pruned voxel model keeps its projection and still reads voxel runs.
        let pruned = directory.file("pruned")
        XCTAssertEqual(try CommandRunner.run(["prune", "--model", model, "--sparsity", "0.5", "--out", pruned]).status, 0)
        XCTAssertTrue(FileManager.default.fileExists(atPath: pruned + "/voxel_projection.safetensors"))
        let prunedLatents = try CommandRunner.run(["latents", "--model", pruned, dataset, "--task", "motor", "--voxels", "--out", directory.file("pruned.csv"), "-q"])
        XCTAssertEqual(prunedLatents.status, 0, prunedLatents.stderr)

        // A region-mode input cannot feed a voxel model.
        let wrong = try CommandRunner.run(["latents", "--model", model, dataset, "--task", "motor", "--atlas", "dosenbach160", "--radius", "6", "--out", csv])
        XCTAssertNotEqual(wrong.status, 0)
        XCTAssertTrue(wrong.stderr.contains("--voxels"), wrong.stderr)
    }
}

/// `--hcp`: the HCP folder layout as model input.
final class HCPLayoutTests: XCTestCase {
    /// The HCP layout: runs found under MNINonLinear/Results, FSL EVs as events (Sync.txt
    /// skipped), TR from the image; the volume with a volume atlas, the grayordinates with a
    /// .dlabel.nii atlas.
    func testHCPLayout() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let hcp = directory.file("HCP")
        for direction in ["LR", "RL"] {
            let folder = hcp + "/100307/MNINonLinear/Results/tfMRI_MOTOR_\(direction)"
            try FileManager.default.createDirectory(atPath: folder + "/EVs", withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: Fixtures.path("fmri/fmri1.nii.gz"), toPath: folder + "/tfMRI_MOTOR_\(direction).nii.gz")
            try FileManager.default.copyItem(atPath: Fixtures.path("cifti/sim.dtseries.nii"), toPath: folder + "/tfMRI_MOTOR_\(direction)_Atlas.dtseries.nii")
            try "2.7 8.1 1\n29.7 8.1 1\n".write(toFile: folder + "/EVs/lf.txt", atomically: true, encoding: .utf8)
            try "13.5\t8.1\t1\n".write(toFile: folder + "/EVs/rh.txt", atomically: true, encoding: .utf8)
            try "0 0 1\n".write(toFile: folder + "/EVs/Sync.txt", atomically: true, encoding: .utf8)
        }
        let model = directory.file("model")
        let volume = ["--hcp", "--task", "MOTOR", "--atlas", Fixtures.path("extraction/labels_native.nii.gz")]
        let fit = try CommandRunner.run(["fit", hcp, "--out", model, "--window", "16", "--stride", "4", "--epochs", "1", "--hidden", "4",
                                         "--latent-dim", "2", "-q"] + volume)
        XCTAssertEqual(fit.status, 0, fit.stderr)
        let split = try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: model + "/config.json"))) as? [String: Any])?["split"] as? String)
        XCTAssertTrue(split.contains("tfMRI_MOTOR_"), split)
        let csv = directory.file("latents.csv")
        let latents = try CommandRunner.run(["latents", "--model", model, hcp, "--out", csv, "-q"] + volume)
        XCTAssertEqual(latents.status, 0, latents.stderr)
        let rows = try String(contentsOfFile: csv, encoding: .utf8).split(separator: "\n").dropFirst().map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        XCTAssertEqual(Set(rows.map { $0[0] }), ["100307"])
        XCTAssertEqual(Set(rows.map { $0[3] }), ["LR", "RL"])
        // fmri1's TR is 1.35 s: volume 2 (2.7 s) starts lf, volume 10 (13.5 s) rh; Sync is no condition.
        let first = rows.filter { $0[3] == "LR" }
        XCTAssertEqual(first[2][6], "lf")
        XCTAssertEqual(first[10][6], "rh")
        XCTAssertEqual(first[1][6], "rest")
        XCTAssertFalse(rows.contains { $0[6] == "Sync" })

        let cifti = try CommandRunner.run(["fit", hcp, "--out", directory.file("cifti"), "--hcp", "--task", "MOTOR", "--atlas", Fixtures.path("cifti/sim.dlabel.nii"),
                                           "--window", "8", "--stride", "2", "--epochs", "1", "--hidden", "4", "--latent-dim", "2", "-q"])
        XCTAssertEqual(cifti.status, 0, cifti.stderr)
        let config = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: directory.file("cifti") + "/config.json"))) as? [String: Any])
        XCTAssertEqual(config["featureNames"] as? [String], ["motor_left", "visual_left", "thalamus_left"])
        XCTAssertEqual((config["model"] as? [String: Any])?["repetitionTime"] as? Double ?? 0.72, 0.72, accuracy: 1e-9)

        // Every grayordinate through the voxel PCA; decoder maps as dense scalars over the runs' brain models.
        let whole = directory.file("grayordinates"), wholeMaps = directory.file("grayordinate-maps")
        let grayordinates = ["--hcp", "--task", "MOTOR", "--grayordinates"]
        let wholeFit = try CommandRunner.run(["fit", hcp, "--out", whole, "--voxel-pca", "4", "--window", "8", "--stride", "2", "--epochs", "1",
                                              "--hidden", "4", "--latent-dim", "2"] + grayordinates)
        XCTAssertEqual(wholeFit.status, 0, wholeFit.stderr)
        XCTAssertTrue(wholeFit.stderr.contains("voxel PCA: 4 components from 1 training runs x 50 grayordinates"), wholeFit.stderr)
        // Each run's late-events warning once, though the two passes read the training run twice.
        XCTAssertEqual(wholeFit.stderr.components(separatedBy: "start after the run ends").count - 1, 2, wholeFit.stderr)
        let wholeLatents = try CommandRunner.run(["latents", "--model", whole, hcp, "--out", directory.file("grayordinates.csv"), "--maps", wholeMaps, "-q"] + grayordinates)
        XCTAssertEqual(wholeLatents.status, 0, wholeLatents.stderr)
        let z1 = try CIFTIImage(contentsOf: wholeMaps + "/z1.dscalar.nii")
        let series = try CIFTIImage(contentsOf: Fixtures.path("cifti/sim.dtseries.nii"))
        XCTAssertEqual([z1.rows, z1.columns], [1, 50])
        XCTAssertEqual(z1.map(for: 0)?.mapNames, ["z1"])
        XCTAssertEqual(z1.brainModelMap, series.brainModelMap)
        XCTAssertGreaterThan(try z1.readAll().filter { $0 != 0 }.count, 40)
        let refused = try CommandRunner.run(["fit", hcp, "--out", directory.file("none"), "--grayordinates", "--task", "MOTOR", "-q"])
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.stderr.contains("--hcp"), refused.stderr)
        let both = try CommandRunner.run(["fit", hcp, "--out", directory.file("none"), "--voxels", "-q"] + grayordinates)
        XCTAssertEqual(both.status, 2, both.stderr)
        XCTAssertTrue(both.stderr.contains("leave out --voxels"), both.stderr)

        let missing = try CommandRunner.run(["fit", hcp, "--out", directory.file("none"), "--hcp", "--task", "motor", "-q"])
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertTrue(missing.stderr.contains("MOTOR, WM, RELATIONAL"), missing.stderr)
    }
}
