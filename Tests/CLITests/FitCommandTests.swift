import Core
import Foundation
import TestSupport
import XCTest

/// `fmridyn fit` and `fmridyn latents` end to end on the nitime run's region timeseries.
final class FitCommandTests: XCTestCase {
    func testFitThenLatents() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let timeseries = directory.file("sub-01_task-motor_run-1_timeseries.tsv")
        XCTAssertEqual(try CommandRunner.run(["extract", Fixtures.path("fmri/fmri1.nii.gz"), "--atlas", Fixtures.path("extraction/labels_native.nii.gz"),
                                              "--detrend", "--out", timeseries, "-q"]).status, 0)
        let model = directory.file("model")
        let fit = try CommandRunner.run(["fit", timeseries, "--tr", "1.35", "--out", model, "--window", "16", "--stride", "4",
                                         "--epochs", "4", "--latent-dim", "3", "--hidden", "8", "--lr", "0.01", "--quiet"])
        XCTAssertEqual(fit.status, 0, fit.stderr)
        let log = try String(contentsOfFile: model + "/training_log.csv", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(log.count, 5)
        // A second fit into the same directory neither overwrites the model silently nor mixes
        // two models: it needs --force (or --resume), and --force clears the old model's files.
        let again = try CommandRunner.run(["fit", timeseries, "--tr", "1.35", "--out", model, "--window", "16", "--epochs", "1", "--quiet"])
        XCTAssertEqual(again.status, 2, again.stderr)
        XCTAssertTrue(again.stderr.contains("already holds a fitted model") && again.stderr.contains("--force"), again.stderr)
        let scratch = directory.file("scratch")
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        try Data("{}".utf8).write(to: URL(fileURLWithPath: scratch + "/evaluation.json"))
        try Data("{}".utf8).write(to: URL(fileURLWithPath: scratch + "/config.json"))
        let forced = try CommandRunner.run(["fit", timeseries, "--tr", "1.35", "--out", scratch, "--window", "16", "--stride", "4", "--epochs", "1",
                                            "--latent-dim", "2", "--hidden", "4", "--force", "--quiet"])
        XCTAssertEqual(forced.status, 0, forced.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: scratch + "/evaluation.json"), "the old model's evaluation is gone")
        XCTAssertTrue(FileManager.default.fileExists(atPath: scratch + "/model.safetensors"))
        let config = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: model + "/config.json"))) as? [String: Any])
        XCTAssertEqual((config["model"] as? [String: Any])?["observations"] as? Int, 47)
        let csv = directory.file("latents.csv")
        let latents = try CommandRunner.run(["latents", "--model", model, timeseries, "--tr", "1.35", "--events", Fixtures.path("events/motor_events.tsv"),
                                             "--out", csv, "-q"])
        XCTAssertEqual(latents.status, 0, latents.stderr)
        let lines = try String(contentsOfFile: csv, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.first, "subject,session,task,run,volume,time_s,condition,z1,z2,z3")
        XCTAssertEqual(lines.count, 41)
        XCTAssertTrue(lines[8].hasPrefix("01,,motor,1,7,9.45,rest,"), String(lines[8]))
        XCTAssertTrue(lines[9].hasPrefix("01,,motor,1,8,10.8,left_hand,"), String(lines[9]))

        // Columns in another order, or other regions, are refused: config.json records the names.
        let table = try String(contentsOfFile: timeseries, encoding: .utf8).split(separator: "\n").map { $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) }
        let shuffled = directory.file("shuffled.tsv"), renamed = directory.file("renamed.tsv")
        try table.map { row in ([row[1], row[0]] + row.dropFirst(2)).joined(separator: "\t") }.joined(separator: "\n").appending("\n")
            .write(toFile: shuffled, atomically: true, encoding: .utf8)
        try ([["bogus"] + table[0].dropFirst()] + table.dropFirst()).map { $0.joined(separator: "\t") }.joined(separator: "\n").appending("\n")
            .write(toFile: renamed, atomically: true, encoding: .utf8)
        for (file, expected) in [(shuffled, "another order"), (renamed, "1 missing")] {
            let refused = try CommandRunner.run(["latents", "--model", model, file, "--tr", "1.35", "--out", directory.file("refused.csv"), "-q"])
            XCTAssertNotEqual(refused.status, 0, file)
            XCTAssertTrue(refused.stderr.contains(expected), refused.stderr)
            XCTAssertFalse(FileManager.default.fileExists(atPath: directory.file("refused.csv")))
        }

        // Fixed points of the fitted NODE, from starts on its latents.
        let points = directory.file("fixed_points.json")
        let fixed = try CommandRunner.run(["fixed-points", "--model", model, "--data", timeseries, "--tr", "1.35", "--starts", "64",
                                           "--max-iters", "2000", "--out", points, "-q"])
        XCTAssertEqual(fixed.status, 0, fixed.stderr)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: points))) as? [String: Any])
        XCTAssertEqual(object["starts"] as? Int, 64)
        for point in object["fixed_points"] as? [[String: Any]] ?? [] {
            XCTAssertLessThan(point["q"] as? Double ?? 1, 1e-12)
            XCTAssertEqual((point["eigenvalues"] as? [[Double]])?.count, 3)
            XCTAssertTrue(["stable", "unstable", "saddle", "marginal"].contains(point["classification"] as? String ?? ""))
        }
        XCTAssertTrue(FileManager.default.fileExists(atPath: directory.file("fixed_points.csv")))

        // The HTML report of this fit: every section present with its data.
        let decodingPath = directory.file("decoding.json")
        try Data(#"{"balanced_accuracy_mean": 0.7, "balanced_accuracy_sd": 0.1, "chance": 0.5, "classes": ["left_hand", "rest"], "confusion": [[3, 1], [2, 6]]}"#.utf8)
            .write(to: URL(fileURLWithPath: decodingPath))
        let html = directory.file("report.html")
        let reportRun = try CommandRunner.run(["report", "--model", model, "--latents", csv, "--fixed-points", points, "--decoding", decodingPath, "--out", html])
        XCTAssertEqual(reportRun.status, 0, reportRun.stderr)
        let page = try String(contentsOfFile: html, encoding: .utf8)
        for section in ["training", "latents", "fixed-points", "decoding", "provenance"] {
            XCTAssertTrue(page.contains("<section id=\"\(section)\">"), section)
        }
        // Training curves: one vertex per epoch (4); latent time courses: one line per latent (3),
        // one vertex per volume (40); one marker per fixed point; confusion counts.
        let trainLine = try XCTUnwrap(page.range(of: ##"data-series="train" fill="none" stroke="#0072B2" stroke-width="1.5" points=""##))
        let trainPoints = page[trainLine.upperBound...].prefix { $0 != "\"" }.split(separator: " ")
        XCTAssertEqual(trainPoints.count, 4)
        for name in ["z1", "z2", "z3"] {
            let line = try XCTUnwrap(page.range(of: "data-series=\"\(name)\""), name)
            let vertices = page[line.upperBound...].drop { $0 != "p" }.dropFirst(8).prefix { $0 != "\"" }.split(separator: " ")
            XCTAssertEqual(vertices.count, 40, name)
        }
        let fixedCount = (object["fixed_points"] as? [[String: Any]] ?? []).count
        XCTAssertEqual(page.components(separatedBy: "class=\"marker\"").count - 1, fixedCount)
        XCTAssertTrue(page.contains(">6</td></tr></table>"))
        XCTAssertTrue(page.contains("data-label=\"left_hand\""), "condition blocks shaded")
        let noModel = try CommandRunner.run(["report", "--model", directory.file("nowhere"), "--out", html])
        XCTAssertNotEqual(noModel.status, 0)
        XCTAssertTrue(noModel.stderr.contains("nowhere/training_log.csv"), noModel.stderr)

        // Robustness across seeds: fit --seeds 1,2 fits both and compares them; seed 1 is the
        // model above bit for bit (same split, same seed).
        let seeded = directory.file("seeds")
        let seedsRun = try CommandRunner.run(["fit", timeseries, "--tr", "1.35", "--out", seeded, "--window", "16", "--stride", "4",
                                              "--epochs", "4", "--latent-dim", "3", "--hidden", "8", "--lr", "0.01", "--seeds", "1,2", "-q"])
        XCTAssertEqual(seedsRun.status, 0, seedsRun.stderr)
        XCTAssertEqual(FileManager.default.contents(atPath: seeded + "/seed-1/model.safetensors"), FileManager.default.contents(atPath: model + "/model.safetensors"))
        let second = seeded + "/seed-2"
        let fromFit = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: seeded + "/robustness.json"))) as? [String: Any])
        XCTAssertEqual(fromFit["reference"] as? String, seeded + "/seed-1")
        XCTAssertNotNil((fromFit["comparisons"] as? [String: Any])?[second])
        var r2: [String: Double] = [:]
        for alignment in ["orthogonal", "affine"] {
            let robustnessPath = directory.file("robustness-\(alignment).json")
            let robustness = try CommandRunner.run(["robustness", model, second, "--data", timeseries, "--tr", "1.35", "--starts", "32",
                                                    "--null-samples", "3", "--alignment", alignment, "--out", robustnessPath, "-q"])
            XCTAssertEqual(robustness.status, 0, robustness.stderr)
            let report = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: robustnessPath))) as? [String: Any])
            XCTAssertEqual(report["alignment"] as? String, alignment)
            let comparison = try XCTUnwrap((report["comparisons"] as? [String: Any])?[second] as? [String: Any])
            r2[alignment] = try XCTUnwrap(comparison["alignment_r2"] as? Double)
            XCTAssertNotNil(comparison["null_fraction_matched"])
        }
        // An affine map can do everything a rotation can: its fit is at least as good.
        XCTAssertLessThanOrEqual(r2["orthogonal"] ?? 2, (r2["affine"] ?? -1) + 1e-12)
        XCTAssertLessThanOrEqual(r2["affine"] ?? 2, 1)
        XCTAssertEqual(try CommandRunner.run(["fit", timeseries, "--tr", "1.35", "--out", seeded, "--seeds", "1"]).status, 2)

        // One-shot pruning to 80% sparsity, then the density report and latents from the pruned model.
        let pruned = directory.file("pruned")
        let prune = try CommandRunner.run(["prune", "--model", model, "--sparsity", "0.8", "--out", pruned])
        XCTAssertEqual(prune.status, 0, prune.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: pruned + "/masks.safetensors"))
        let densities = try CommandRunner.run(["sparsity", "--model", pruned])
        XCTAssertTrue(densities.stdout.contains("decoder.linear.bias\t47\t47\t1.0000"), densities.stdout)
        XCTAssertTrue(densities.stdout.split(separator: "\n").contains { $0.hasPrefix("total\t") }, densities.stdout)
        XCTAssertEqual(try CommandRunner.run(["latents", "--model", pruned, timeseries, "--tr", "1.35", "--out", directory.file("pruned.csv"), "-q"]).status, 0)

        // SynFlow (data-free) and SNIP (on the run's windows) one-shot pruning of the fitted model.
        for method in ["synflow", "snip"] {
            let run = try CommandRunner.run(["prune", "--model", model, "--sparsity", "0.5", "--method", method, "--data", timeseries, "--tr", "1.35",
                                             "--out", directory.file("pruned-\(method)")])
            XCTAssertEqual(run.status, 0, run.stderr)
            XCTAssertTrue(run.stdout.contains("kept 1519 of 3037 prunable weights"), run.stdout)  // round(0.5 x 3037)
        }

        // Sparse training from initialisation: SNIP at 90% (global) and RigL at 80%; the record,
        // the masks and the compact export; masked weights are exactly zero in the best model.
        for (method, sparsity) in [("snip", 0.9), ("rigl", 0.8)] {
            let sparse = directory.file("sparse-\(method)")
            let fitSparse = try CommandRunner.run(["fit", timeseries, "--tr", "1.35", "--out", sparse, "--window", "16", "--stride", "4", "--epochs", "3",
                                                   "--latent-dim", "3", "--hidden", "8", "--lr", "0.01", "--sparsity", String(sparsity), "--prune", method,
                                                   "--update-interval", "2", "-q"])
            XCTAssertEqual(fitSparse.status, 0, fitSparse.stderr)
            let record = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: sparse + "/sparsity.json"))) as? [String: Any])
            XCTAssertEqual(record["method"] as? String, method)
            XCTAssertEqual(try XCTUnwrap(record["achieved_sparsity"] as? Double), sparsity, accuracy: 1e-3)
            XCTAssertLessThan(try XCTUnwrap(record["bytes_sparse_update"] as? Int), try XCTUnwrap(record["bytes_dense_update"] as? Int) / 2)
            let weights = try SafeTensors.read(sparse + "/model.safetensors").tensors, masks = try SafeTensors.read(sparse + "/masks.safetensors").tensors
            for (name, mask) in masks {
                for (w, m) in zip(weights[name]?.values ?? [], mask.values) where m == 0 { XCTAssertEqual(w, 0, name) }
            }
            let compact = try SafeTensors.read(sparse + "/model_sparse.safetensors").tensors
            XCTAssertEqual(compact["decoder.linear.weight.indices"]?.dtype, "I64")
        }
        // A sparse adapter on the same run (as if a new subject), then merging two adapters.
        for (index, seed) in ["1", "2"].enumerated() {
            let adapt = try CommandRunner.run(["adapt", "--model", model, timeseries, "--tr", "1.35", "--keep", "0.05", "--epochs", "2", "--lr", "0.01",
                                               "--seed", seed, "--out", directory.file("adapter-\(index)"), "-q"])
            XCTAssertEqual(adapt.status, 0, adapt.stderr)
        }
        let adapterRecord = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: directory.file("adapter-0/adapter.json")))) as? [String: Any])
        XCTAssertEqual(adapterRecord["prunable_weights"] as? Int, 3037)
        XCTAssertEqual(adapterRecord["coordinates"] as? Int, 152, "round(0.05 x 3037)")
        // Outside the selection the fine-tuned model equals the base exactly.
        let baseWeights = try SafeTensors.read(model + "/model.safetensors").tensors
        let tunedWeights = try SafeTensors.read(directory.file("adapter-0/training/model.safetensors")).tensors
        let stored = try SafeTensors.read(directory.file("adapter-0/adapter.safetensors")).tensors
        var changed = 0
        for (name, entry) in baseWeights {
            let selected = Set((stored[name + ".indices"]?.values ?? []).map { Int($0) })
            for (index, (b, t)) in zip(entry.values, tunedWeights[name]?.values ?? []).enumerated() where !selected.contains(index) {
                if b != t { changed += 1 }
            }
        }
        XCTAssertEqual(changed, 0)
        let merged = directory.file("merged")
        let merge = try CommandRunner.run(["merge", directory.file("adapter-0"), directory.file("adapter-1"), "--model", model, "--out", merged,
                                           "--data", timeseries, "--tr", "1.35"])
        XCTAssertEqual(merge.status, 0, merge.stderr)
        let mergeRecord = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: merged + "/merge.json"))) as? [String: Any])
        XCTAssertNotNil(mergeRecord["merged_elbo"] as? Double)
        XCTAssertEqual((mergeRecord["adapter_elbo"] as? [String: Any])?.count, 2)
        XCTAssertEqual(try CommandRunner.run(["latents", "--model", merged, timeseries, "--tr", "1.35", "--out", directory.file("merged.csv"), "-q"]).status, 0)

        // Modelling the task: the events' regressors as external inputs of the dynamics.
        let driven = directory.file("driven")
        let drivenFit = try CommandRunner.run(["fit", timeseries, "--tr", "1.35", "--events", Fixtures.path("events/motor_events.tsv"), "--external-inputs",
                                               "--out", driven, "--window", "16", "--stride", "4", "--epochs", "2", "--latent-dim", "3", "--hidden", "8", "-q"])
        XCTAssertEqual(drivenFit.status, 0, drivenFit.stderr)
        let drivenConfig = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: driven + "/config.json"))) as? [String: Any])
        let inputNames = try XCTUnwrap((drivenConfig["model"] as? [String: Any])?["externalInputs"] as? [String])
        XCTAssertFalse(inputNames.isEmpty)
        XCTAssertEqual(try SafeTensors.read(driven + "/model.safetensors").tensors["input_map.weight"]?.shape, [3, inputNames.count])
        XCTAssertEqual(try CommandRunner.run(["latents", "--model", driven, timeseries, "--tr", "1.35", "--events", Fixtures.path("events/motor_events.tsv"),
                                              "--out", directory.file("driven.csv"), "-q"]).status, 0)
        // Fixed points under a constant input move away from the autonomous ones (B u != 0).
        var locations: [[[Double]]] = []
        for input in [[], ["--input", "\(inputNames[0])=1"]] {
            let path = directory.file("driven-fixed-\(input.count).json")
            let found = try CommandRunner.run(["fixed-points", "--model", driven, "--starts", "64", "--out", path, "-q"] + input)
            XCTAssertEqual(found.status, 0, found.stderr)
            let points = try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])?["fixed_points"] as? [[String: Any]])
            for point in points { XCTAssertLessThan(point["q"] as? Double ?? 1, 1e-12) }
            locations.append(points.compactMap { $0["z"] as? [Double] })
        }
        XCTAssertFalse(locations[0].isEmpty)
        XCTAssertNotEqual(locations[0], locations[1])
        let unknownInput = try CommandRunner.run(["fixed-points", "--model", driven, "--input", "nothing=1", "--out", directory.file("x.json")])
        XCTAssertNotEqual(unknownInput.status, 0)
        XCTAssertTrue(unknownInput.stderr.contains(inputNames[0]), unknownInput.stderr)
        let noEvents = try CommandRunner.run(["latents", "--model", driven, timeseries, "--tr", "1.35", "--out", directory.file("driven.csv")])
        XCTAssertNotEqual(noEvents.status, 0)
        XCTAssertTrue(noEvents.stderr.contains("events"), noEvents.stderr)

        let badSites = try CommandRunner.run(["fit", timeseries, "--tr", "1.35", "--out", directory.file("x"), "--sparsity", "0.9", "--prune", "rigl", "--sites", "subject"])
        XCTAssertEqual(badSites.status, 2)

        let usage = try CommandRunner.run(["fit", timeseries, "--out", model])
        XCTAssertEqual(usage.status, 2, "no TR")
        let missing = try CommandRunner.run(["latents", "--model", directory.file("nothing"), timeseries, "--tr", "1", "--out", csv])
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.stderr.contains("config.json"), missing.stderr)
    }
}
