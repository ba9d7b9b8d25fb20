import Foundation
import NIfTI
import TestSupport
import XCTest

/// `fmridyn compare`: model latents and baselines on the same volumes and folds.
final class CompareCommandTests: XCTestCase {
    func testCompareAgreesWithDecodeAndFeedsTheReport() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let dataset = directory.file("sim")
        XCTAssertEqual(try CommandRunner.run(["simulate", "--out", dataset, "--subjects", "3", "--runs", "1", "--volumes", "60",
                                              "--grid", "4mm", "-q"]).status, 0)
        let bidsOptions = ["--task", "motor", "--atlas", "dosenbach160", "--radius", "6", "--hrf-shift"]
        let model = directory.file("model")
        let fit = try CommandRunner.run(["fit", dataset, "--out", model, "--window", "16", "--stride", "8", "--epochs", "1",
                                         "--latent-dim", "3", "--hidden", "4", "-q"] + bidsOptions)
        XCTAssertEqual(fit.status, 0, fit.stderr)
        let json = directory.file("comparison/comparison.json")
        let compare = try CommandRunner.run(["compare", "--model", "NODE=" + model, dataset, "--exclude", "rest", "--folds", "3",
                                             "--out", directory.file("comparison"), "-q"] + bidsOptions)
        XCTAssertEqual(compare.status, 0, compare.stderr)
        XCTAssertTrue(compare.stdout.contains("raw regions"), compare.stdout)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as? [String: Any])
        let methods = try XCTUnwrap(object["methods"] as? [[String: Any]])
        XCTAssertEqual(methods.map { $0["name"] as? String }, ["NODE", "PCA", "FastICA", "raw regions"])
        XCTAssertEqual(methods.map { $0["kind"] as? String }, ["node", "pca", "ica", "raw"])
        XCTAssertEqual(methods.map { $0["features"] as? Int }, [3, 3, 3, 160])
        let tsv = try String(contentsOfFile: directory.file("comparison/comparison.tsv"), encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(tsv.first, "method\tkind\tfeatures\tbalanced_accuracy_mean\tbalanced_accuracy_sd\tp_value")
        XCTAssertEqual(tsv.count, 6)
        XCTAssertTrue(tsv[4].hasPrefix("raw regions\traw\t160\t"), String(tsv[4]))
        let classes = try XCTUnwrap(object["classes"] as? [String])
        XCTAssertFalse(classes.contains("rest"))
        XCTAssertEqual(object["chance"] as? Double ?? 0, 1 / Double(classes.count), accuracy: 1e-12)
        for method in methods {
            XCTAssertEqual((method["per_fold"] as? [Double])?.count, 3)
            let total = (method["confusion"] as? [[Int]] ?? []).flatMap { $0 }.reduce(0, +)
            XCTAssertEqual(total, object["samples"] as? Int)
        }

        // The model row is exactly what fmridyn decode gives on the same latents.
        let csv = directory.file("latents.csv")
        XCTAssertEqual(try CommandRunner.run(["latents", "--model", model, dataset, "--out", csv, "-q"] + bidsOptions).status, 0)
        let decodingPath = directory.file("decoding.json")
        let decode = try CommandRunner.run(["decode", csv, "--exclude", "rest", "--folds", "3", "--out", decodingPath, "-q"])
        XCTAssertEqual(decode.status, 0, decode.stderr)
        let decoded = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: decodingPath))) as? [String: Any])
        XCTAssertEqual(decoded["samples"] as? Int, object["samples"] as? Int)
        XCTAssertEqual(try XCTUnwrap(decoded["per_fold"] as? [Double]), try XCTUnwrap(methods[0]["per_fold"] as? [Double]))

        // Spatial localisation: the classifier's weights through the linear decoder, per region
        // (TSV with the atlas networks) and painted into the atlas spheres (4-D NIfTI).
        let mapsDirectory = directory.file("maps")
        let mapsRun = try CommandRunner.run(["decode", csv, "--exclude", "rest", "--folds", "3", "--out", decodingPath, "--model", model,
                                             "--maps", mapsDirectory, "--atlas", "dosenbach160", "--radius", "6", "-q"])
        XCTAssertEqual(mapsRun.status, 0, mapsRun.stderr)
        let mapRows = try String(contentsOfFile: mapsDirectory + "/maps.tsv", encoding: .utf8).split(separator: "\n").map { $0.split(separator: "\t").map(String.init) }
        XCTAssertEqual(mapRows.first, ["region", "network"] + classes)
        XCTAssertEqual(mapRows.count, 161)
        XCTAssertEqual(Array(mapRows[1].prefix(2)), ["vmPFC_1", "default"])
        let image = try NIfTIImage(contentsOf: mapsDirectory + "/maps.nii.gz")
        XCTAssertEqual(image.header.shape.count, 4)
        XCTAssertEqual(image.header.shape.last, classes.count)
        let voxels: [Float] = try image.readAll()
        let perVolume = voxels.count / classes.count
        for c in 0..<classes.count {
            let painted = Set(voxels[(c * perVolume)..<((c + 1) * perVolume)].filter { $0 != 0 })
            let tabled = Set(mapRows.dropFirst().compactMap { Double($0[2 + c]) }.map(Float.init).filter { $0 != 0 })
            XCTAssertEqual(painted, tabled, "condition \(classes[c])")
        }
        let withoutModel = try CommandRunner.run(["decode", csv, "--out", decodingPath, "--maps", mapsDirectory])
        XCTAssertEqual(withoutModel.status, 2)
        XCTAssertTrue(withoutModel.stderr.contains("--model"), withoutModel.stderr)

        // Per-latent decoder maps of a region model, painted into the atlas spheres.
        let latentMaps = directory.file("latent-maps")
        let painted = try CommandRunner.run(["latents", "--model", model, dataset, "--out", directory.file("again.csv"), "--maps", latentMaps,
                                             "--maps-atlas", "dosenbach160", "--maps-radius", "6", "-q"] + bidsOptions)
        XCTAssertEqual(painted.status, 0, painted.stderr)
        let column = try String(contentsOfFile: latentMaps + "/decoder_maps.tsv", encoding: .utf8).split(separator: "\n").dropFirst()
            .compactMap { Double($0.split(separator: "\t")[1]) }
        XCTAssertEqual(column.count, 160)
        let z1: [Float] = try NIfTIImage(contentsOf: latentMaps + "/z1.nii.gz").readAll()
        XCTAssertEqual(Set(z1.filter { $0 != 0 }), Set(column.map(Float.init).filter { $0 != 0 }))

        // The report draws one bar per method.
        let html = directory.file("report.html")
        let report = try CommandRunner.run(["report", "--model", model, "--decoding", json, "--out", html])
        XCTAssertEqual(report.status, 0, report.stderr)
        let page = try String(contentsOfFile: html, encoding: .utf8)
        for name in ["NODE", "PCA", "FastICA", "raw regions"] { XCTAssertTrue(page.contains(">\(name)</text>"), name) }

        let noModel = try CommandRunner.run(["compare", dataset, "--task", "motor", "--out", json])
        XCTAssertEqual(noModel.status, 2)
        XCTAssertTrue(noModel.stderr.contains("--components"), noModel.stderr)
    }
}
