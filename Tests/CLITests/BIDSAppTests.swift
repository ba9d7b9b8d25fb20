import Foundation
import TestSupport
import XCTest

/// `fmridyn bids BIDS_DIR OUTPUT_DIR participant|group` on a simulated dataset.
final class BIDSAppTests: XCTestCase {
    func json(_ path: String) throws -> [String: Any] {
        try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
    }

    func modified(_ path: String) throws -> Date {
        try XCTUnwrap(try FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as? Date)
    }

    /// The repository (for the validators' venv and script).
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    /// Files of `dataset` that the BIDS project's validators reject (scripts/validate-bids.py,
    /// in the venv scripts/python-tools.sh makes: `make test` makes it).
    func rejectedByValidators(_ dataset: String) throws -> [String] {
        let python = Self.repository + "/.build/venv/bin/python"
        guard FileManager.default.isExecutableFile(atPath: python) else {
            XCTFail("\(python) is missing: run scripts/python-tools.sh (make test does)")
            return []
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [Self.repository + "/scripts/validate-bids.py", dataset]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let report = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any], String(decoding: data, as: UTF8.self))
        XCTAssertGreaterThan(report["files"] as? Int ?? 0, 10, dataset)
        return (report["rejected"] as? [[String: Any]] ?? []).map { "\($0["path"] ?? "") (\($0["why"] ?? ""))" }
    }

    func testParticipantThenGroupLevel() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let dataset = directory.file("sim"), out = directory.file("derivatives-fmridyn")
        XCTAssertEqual(try CommandRunner.run(["simulate", "--out", dataset, "--subjects", "3", "--runs", "1", "--volumes", "90",
                                              "--grid", "4mm", "-q"]).status, 0)
        let atlas = ["--atlas", "dosenbach160", "--radius", "6", "--allow-overlap"]
        let cleaning = atlas + ["--confound-strategy", "motion6", "--detrend", "--standardize", "zscore"]

        // Output inside the BIDS directory is refused before anything is written.
        let inside = try CommandRunner.run(["bids", dataset, dataset + "/derivatives/fmridyn", "participant"] + cleaning)
        XCTAssertEqual(inside.status, 2)
        XCTAssertTrue(inside.stderr.contains("inside the BIDS directory"), inside.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dataset + "/derivatives/fmridyn"))
        XCTAssertEqual(try CommandRunner.run(["bids", dataset, dataset, "group"]).status, 2)
        XCTAssertEqual(try CommandRunner.run(["bids", dataset, out, "subject"]).status, 2)

        // Participant level, one job per subject as on a cluster; labels with or without sub-.
        for label in ["01", "sub-02", "03"] {
            let job = try CommandRunner.run(["bids", dataset, out, "participant", "--participant-label", label, "-q"] + cleaning)
            XCTAssertEqual(job.status, 0, job.stderr)
        }
        let stem = out + "/sub-02/func/sub-02_task-motor_run-1_atlas-dosenbach160"
        let header = try String(contentsOfFile: stem + "_timeseries.tsv", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(header.count, 1 + 90)
        XCTAssertEqual(header[0].split(separator: "\t").count, 160)
        let sidecar = try json(stem + "_timeseries.json")
        XCTAssertEqual(sidecar["RepetitionTime"] as? Double, 0.72)
        XCTAssertEqual((sidecar["KeptVolumes"] as? [Int])?.count, 90)
        let settings = try XCTUnwrap(sidecar["Settings"] as? [String: Any])
        XCTAssertEqual(settings["Detrend"] as? Bool, true)
        XCTAssertEqual(settings["Standardize"] as? String, "zscore")
        XCTAssertEqual(settings["ConfoundStrategy"] as? [String], ["motion6"])
        XCTAssertEqual((sidecar["ConfoundsRegressed"] as? [String])?.count, 6)
        let conditions = try String(contentsOfFile: stem + "_desc-conditions_timeseries.tsv", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(conditions.first, "volume\tonset\tcondition\tcondition_hrf")
        XCTAssertEqual(conditions.count, 91)
        XCTAssertTrue(conditions[2].hasPrefix("1\t0.72\t"), String(conditions[2]))
        let conditionsSidecar = try json(stem + "_desc-conditions_timeseries.json")
        XCTAssertEqual(conditionsSidecar["SamplingFrequency"] as? Double ?? 0, 1 / 0.72, accuracy: 1e-12)
        XCTAssertEqual(conditionsSidecar["Sources"] as? [String], ["bids:raw:sub-02/func/sub-02_task-motor_run-1_events.tsv",
                                                                  "bids:raw:sub-02/func/sub-02_task-motor_run-1_bold.nii.gz"])
        XCTAssertNotNil((conditionsSidecar["condition_hrf"] as? [String: Any])?["Description"])
        XCTAssertEqual(sidecar["SamplingFrequency"] as? Double ?? 0, 1 / 0.72, accuracy: 1e-12)
        XCTAssertEqual((sidecar["Sources"] as? [String])?.first, "bids:raw:sub-02/func/sub-02_task-motor_run-1_bold.nii.gz")
        let description = try json(out + "/dataset_description.json")
        XCTAssertEqual(description["DatasetType"] as? String, "derivative")
        XCTAssertEqual(((description["GeneratedBy"] as? [[String: Any]])?.first)?["Name"] as? String, "fmridyn")
        XCTAssertTrue((((description["GeneratedBy"] as? [[String: Any]])?.first)?["CommandLine"] as? String ?? "").contains("participant"))

        // A re-run with the same settings skips; other settings or --force redo.
        let before = try modified(stem + "_timeseries.tsv")
        let again = try CommandRunner.run(["bids", dataset, out, "participant", "--participant-label", "02"] + cleaning)
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertTrue(again.stderr.contains("up to date, skipped"), again.stderr)
        XCTAssertEqual(try modified(stem + "_timeseries.tsv"), before)
        let changed = try CommandRunner.run(["bids", dataset, out, "participant", "--participant-label", "02"] + atlas + ["--detrend", "--standardize", "zscore"])
        XCTAssertFalse(changed.stderr.contains("skipped"), changed.stderr)
        XCTAssertEqual(try json(stem + "_timeseries.json")["ConfoundsRegressed"] as? [String], [])

        // Group level: model, per-run latents, fixed points, decoding against baselines, report.
        let fit = ["--epochs", "2", "--latent-dim", "3", "--hidden", "8", "--window", "16", "--stride", "8"]
        let group = try CommandRunner.run(["bids", dataset, out, "group", "--folds", "3", "-q"] + atlas + fit)
        XCTAssertEqual(group.status, 0, group.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/models/model.safetensors"))
        let latents = try String(contentsOfFile: stem + "_desc-latents_timeseries.tsv", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(latents.first, "volume\ttime_s\tcondition\tz1\tz2\tz3")
        XCTAssertEqual(latents.count, 91)
        let latentsSidecar = try json(stem + "_desc-latents_timeseries.json")
        XCTAssertEqual(latentsSidecar["Sources"] as? [String], ["bids::sub-02/func/sub-02_task-motor_run-1_atlas-dosenbach160_timeseries.tsv"])
        XCTAssertNotNil((latentsSidecar["z3"] as? [String: Any])?["Description"])
        // Both levels are in GeneratedBy, each once.
        let levels = ((try json(out + "/dataset_description.json"))["GeneratedBy"] as? [[String: Any]])?.compactMap { $0["Description"] as? String }
        XCTAssertEqual(levels, ["participant level", "group level"])
        // fit reads the repetition time from fmridyn's own sidecars: no --tr needed.
        let own = try CommandRunner.run(["fit", stem + "_timeseries.tsv", "--out", directory.file("own"), "--epochs", "1", "--window", "16",
                                         "--hidden", "4", "--latent-dim", "2", "-q"])
        XCTAssertEqual(own.status, 0, own.stderr)
        let noTR = try CommandRunner.run(["fit", directory.file("none_timeseries.tsv"), "--out", directory.file("none"), "-q"])
        XCTAssertEqual(noTR.status, 2)
        XCTAssertTrue(noTR.stderr.contains("no repetition time") && noTR.stderr.contains("none_timeseries.json"), noTR.stderr)
        XCTAssertEqual(try String(contentsOfFile: out + "/group/latents.csv", encoding: .utf8).split(separator: "\n").count, 1 + 3 * 90)
        let decoding = try json(out + "/group/decoding.json")
        XCTAssertEqual((decoding["methods"] as? [[String: Any]])?.map { $0["kind"] as? String }, ["node", "pca", "ica", "raw"])
        XCTAssertEqual(decoding["folds"] as? Int, 3)
        XCTAssertNotNil(try json(out + "/group/fixed_points.json")["fixed_points"])
        let page = try String(contentsOfFile: out + "/group/report.html", encoding: .utf8)
        XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/group/maps/maps.nii.gz"))
        // Dosenbach-160's six networks: one bar per network in each condition's map chart.
        let classes = try XCTUnwrap(decoding["classes"] as? [String])
        XCTAssertEqual(page.components(separatedBy: ": map by network").count - 1, classes.count)
        for section in ["training", "latents", "fixed-points", "data", "decoding", "maps", "provenance"] {
            XCTAssertTrue(page.contains("<section id=\"\(section)\">"), section)
        }
        XCTAssertTrue(page.contains("sub-02_task-motor_run-1_atlas-dosenbach160_timeseries.tsv</td><td>0.72</td><td>90</td><td>0</td><td>none</td>"))
        XCTAssertTrue(page.contains("library: OpenBLAS"))
        XCTAssertTrue(page.contains("<table class=\"fixed-points\"><tr><th>#</th><th>stability</th><th>coordinates z</th><th>largest Re &lambda;</th><th>starts converged (of 1024)</th>"), "fixed-point table")
        XCTAssertTrue(page.contains("<th>Detrend</th><td>true</td>"), "booleans read as true/false")
        let methods = try String(contentsOfFile: out + "/group/methods.md", encoding: .utf8)
        for phrase in ["3 functional runs of 3 subjects", "dosenbach160 atlas", "spheres of 6.0 mm", "linear detrending", "standardisation (zscore)",
                       "3 latent dimensions", "neural ordinary differential equation", "Chen R. T. Q.", "FastICA"] {
            XCTAssertTrue(methods.contains(phrase), phrase)
        }
        XCTAssertTrue(page.contains("<section id=\"methods\"><h2>Methods</h2><p>Results were produced with fmridyn"), "the methods paragraph in the report")
        XCTAssertTrue(page.contains("<p><strong>Region signals.</strong> For each of 3 functional runs of 3 subjects"))

        // The simulator's dataset and the BIDS App's derivatives pass the BIDS validators.
        XCTAssertEqual(try rejectedByValidators(dataset), [])
        XCTAssertEqual(try rejectedByValidators(out), [])

        // Re-running the group level finds everything up to date.
        let report = try modified(out + "/group/report.html")
        let rerun = try CommandRunner.run(["bids", dataset, out, "group", "--folds", "3"] + atlas + fit)
        XCTAssertEqual(rerun.status, 0, rerun.stderr)
        XCTAssertTrue(rerun.stderr.contains("up to date, skipped"), rerun.stderr)
        XCTAssertEqual(try modified(out + "/group/report.html"), report)
        let otherModel = try CommandRunner.run(["bids", dataset, out, "group", "--latent-dim", "4"] + atlas + Array(fit.dropFirst(4)))
        XCTAssertEqual(otherModel.status, 1)
        XCTAssertTrue(otherModel.stderr.contains("--force"), otherModel.stderr)
    }

    /// BIDS-App conventions: the input must be a BIDS dataset unless --skip-bids-validation,
    /// --bids-filter-file selects runs, --derivatives points elsewhere, fit takes
    /// --participant-label and --nthreads.
    func testBIDSAppConventions() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let dataset = directory.file("sim"), out = directory.file("out")
        XCTAssertEqual(try CommandRunner.run(["simulate", "--out", dataset, "--subjects", "2", "--runs", "1", "--volumes", "40", "--grid", "4mm", "-q"]).status, 0)
        let plain = directory.file("plain")
        try FileManager.default.createDirectory(atPath: plain, withIntermediateDirectories: true)
        let refused = try CommandRunner.run(["bids", plain, out, "participant", "-q"])
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.stderr.contains("is not a BIDS dataset") && refused.stderr.contains("dataset_description.json"), refused.stderr)
        let skipped = try CommandRunner.run(["bids", plain, out, "participant", "--skip-bids-validation", "-q"])
        XCTAssertTrue(skipped.stderr.contains("no BOLD runs match"), skipped.stderr)

        let filter = directory.file("filter.json")
        try #"{"bold": {"subject": "02", "task": "motor"}}"#.write(toFile: filter, atomically: true, encoding: .utf8)
        let atlas = ["--atlas", "dosenbach160", "--radius", "6", "--allow-overlap"]
        let selected = try CommandRunner.run(["bids", dataset, out, "participant", "--bids-filter-file", filter, "-q"] + atlas)
        XCTAssertEqual(selected.status, 0, selected.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out + "/sub-01"))
        XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/sub-02/func/sub-02_task-motor_run-1_atlas-dosenbach160_timeseries.tsv"))
        // The simulator's confounds live under derivatives/fmridyn-sim; moved elsewhere, --derivatives finds them.
        let moved = directory.file("elsewhere")
        try FileManager.default.moveItem(atPath: dataset + "/derivatives/fmridyn-sim", toPath: moved)
        let confounds = ["--confound-strategy", "motion6", "--force", "-q"]
        let missing = try CommandRunner.run(["bids", dataset, out, "participant", "--participant-label", "01"] + atlas + confounds)
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertTrue(missing.stderr.contains("confounds"), missing.stderr)
        let found = try CommandRunner.run(["bids", dataset, out, "participant", "--participant-label", "01", "--derivatives", moved] + atlas + confounds)
        XCTAssertEqual(found.status, 0, found.stderr)

        let fit = try CommandRunner.run(["fit", dataset, "--participant-label", "01", "--nthreads", "1", "--out", directory.file("model"), "--epochs", "1",
                                         "--window", "16", "--hidden", "4", "--latent-dim", "2", "--derivatives", moved, "-q", "--atlas", "dosenbach160", "--radius", "6"])
        XCTAssertEqual(fit.status, 0, fit.stderr)
        let config = try json(directory.file("model") + "/config.json")
        XCTAssertEqual((config["training"] as? [String: Any])?["threads"] as? Int, 1)
        XCTAssertTrue((config["split"] as? String ?? "").contains("one run"), "\(config["split"] ?? "")")
    }

    /// --work-dir: checkpoints stay in the work folder, OUTPUT_DIR/models gets the finished model
    /// only; with the work folder gone a rerun reuses a published model of the same settings and
    /// refits for other settings.
    func testGroupWorkDirectory() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let dataset = directory.file("sim"), out = directory.file("out"), work = directory.file("scratch")
        XCTAssertEqual(try CommandRunner.run(["simulate", "--out", dataset, "--subjects", "3", "--runs", "1", "--volumes", "60", "--grid", "4mm", "-q"]).status, 0)
        let atlas = ["--atlas", "dosenbach160", "--radius", "6", "--allow-overlap"]
        let fit = ["--epochs", "2", "--window", "16", "--stride", "8", "--latent-dim", "3", "--hidden", "8", "--batch-size", "8"]
        XCTAssertEqual(try CommandRunner.run(["bids", dataset, out, "participant", "-q"] + atlas).status, 0)
        let group = try CommandRunner.run(["bids", dataset, out, "group", "--folds", "3", "--work-dir", work] + atlas + fit)
        XCTAssertEqual(group.status, 0, group.stderr)
        let manager = FileManager.default
        XCTAssertTrue(manager.fileExists(atPath: work + "/models/checkpoint/state.json"), "the checkpoints are in the work folder")
        XCTAssertFalse(manager.fileExists(atPath: out + "/models/checkpoint"), "no checkpoint in the published model")
        for file in ["config.json", "model.safetensors", "training_log.csv"] {
            XCTAssertEqual(manager.contents(atPath: out + "/models/" + file), manager.contents(atPath: work + "/models/" + file), file)
        }
        XCTAssertTrue(manager.fileExists(atPath: out + "/group/latents.csv"))
        let weights = try XCTUnwrap(manager.contents(atPath: out + "/models/model.safetensors"))

        // The scratch disk is wiped: the published model is reused, not refitted.
        try manager.removeItem(atPath: work)
        let reused = try CommandRunner.run(["bids", dataset, out, "group", "--folds", "3", "--work-dir", work] + atlas + fit)
        XCTAssertEqual(reused.status, 0, reused.stderr)
        XCTAssertTrue(reused.stderr.contains("reused"), reused.stderr)
        XCTAssertFalse(manager.fileExists(atPath: work + "/models"))
        XCTAssertEqual(manager.contents(atPath: out + "/models/model.safetensors"), weights)

        // Other settings: refitted in the work folder and published anew.
        let other = try CommandRunner.run(["bids", dataset, out, "group", "--folds", "3", "--work-dir", work] + atlas
                                          + fit.dropLast(6) + ["--latent-dim", "2", "--hidden", "8", "--batch-size", "8"])
        XCTAssertEqual(other.status, 0, other.stderr)
        XCTAssertTrue(manager.fileExists(atPath: work + "/models/checkpoint/state.json"))
        XCTAssertNotEqual(manager.contents(atPath: out + "/models/model.safetensors"), weights)
        let config = try json(out + "/models/config.json")
        XCTAssertEqual((config["model"] as? [String: Any])?["latent"] as? Int, 2)
    }
}
