import Core
import Foundation
import Preprocessing
import TestSupport
import TrainingTestSupport
import XCTest

@testable import Model

final class TrainingTests: XCTestCase {
    func makeRuns(volumes: Int = 60) -> [RunData] { TrainingFixtures.runs(volumes: volumes) }
    func configurations() -> (SVAEConfiguration, TrainingConfiguration) { TrainingFixtures.configurations() }

    func parameters(in directory: String) throws -> [String: SafeTensors.Entry] {
        try SafeTensors.read(directory + "/checkpoint/model.safetensors").tensors
    }

    /// Runs streamed into a file give the same windows, split and training as runs in memory,
    /// and the file is gone once it is open for reading.
    func testRunsStreamedThroughAFileTrainLikeRunsInMemory() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let (model, training) = configurations()
        let runs = makeRuns()
        let inMemory = try WindowDataset(runs: runs, window: model.window, stride: model.stride, validationFraction: 0.34, seed: model.seed)
        let cache = directory.file("runs.f32")
        var writer = try RunStore.Writer(file: cache)
        for run in runs { try writer.append(run.standardized) }
        let store = try writer.finish()
        XCTAssertTrue(store.isOnDisk)
        XCTAssertFalse(FileManager.default.fileExists(atPath: cache), "the cache is unlinked once open")
        let metadata = runs.map { run -> RunData in
            var copy = run
            copy.timeseries = SignalMatrix(timePoints: 0, columns: 0, values: [])
            return copy
        }
        let streamed = try WindowDataset(runs: metadata, store: store, window: model.window, stride: model.stride, validationFraction: 0.34, seed: model.seed)
        XCTAssertEqual(streamed.training, inMemory.training)
        XCTAssertEqual(streamed.validation, inMemory.validation)
        let windows = Array(streamed.training.prefix(5)) + streamed.validation.prefix(2)
        let (a, b): (Tensor<Float>, Tensor<Float>) = (try streamed.batch(windows), try inMemory.batch(windows))
        XCTAssertEqual(a, b)
        // The values are the runs' z-scores, row-major per window.
        let first = windows[0]
        XCTAssertEqual(a.scalars[1 * 6 + 4], Float(runs[first.run].standardized[first.start + 1, 4]))
        let straight = try Trainer(directory: directory.file("memory"), model: model, training: training).fit(inMemory)
        let fromFile = try Trainer(directory: directory.file("file"), model: model, training: training).fit(streamed)
        XCTAssertEqual(straight.map(\.validationELBO), fromFile.map(\.validationELBO))
        // A window past a run's end is refused before reading.
        XCTAssertThrowsError(try WindowDataset(runs: metadata, store: store, window: 61, stride: 1, validationFraction: 0.34, seed: 1))
    }

    /// A step whose gradient overflows is skipped instead of turning every parameter into NaN;
    /// ten such steps in a row stop the fit with an error that names the cause.
    func testNonFiniteGradientStepsAreSkipped() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let (model, training) = configurations()
        let data = try WindowDataset(runs: makeRuns(), window: model.window, stride: model.stride, validationFraction: 0.34, seed: model.seed)
        var trainer = Trainer(directory: directory.file("skipped"), model: model, training: training)
        trainer.gradientFactorsAtSteps = [2: .nan, 5: .nan]
        var lines: [String] = []
        trainer.progress = { lines.append($0) }
        let log = try trainer.fit(data)
        XCTAssertEqual(log.count, 3)
        XCTAssertTrue(log.allSatisfy { $0.validationELBO.isFinite })
        XCTAssertEqual(lines.filter { $0.contains("the gradient is not finite; the step is skipped (1 in a row)") }.count, 2)
        for (name, entry) in try parameters(in: directory.file("skipped")) {
            XCTAssertTrue(entry.values.allSatisfy(\.isFinite), "\(name) is not finite")
        }
        // The two skipped updates are missing from the path, so the fit differs from the plain one.
        let plain = try Trainer(directory: directory.file("plain"), model: model, training: training).fit(data)
        XCTAssertNotEqual(plain.map(\.validationELBO), log.map(\.validationELBO))

        var hopeless = Trainer(directory: directory.file("hopeless"), model: model, training: training)
        hopeless.gradientFactorsAtSteps = Dictionary(uniqueKeysWithValues: (1...20).map { ($0, Float.nan) })
        XCTAssertThrowsError(try hopeless.fit(data)) { error in
            XCTAssertTrue("\(error)".contains("not finite at 10 steps in a row"), "\(error)")
        }

        // Finite entries whose Float norm overflows are clipped (to a zero gradient) and applied,
        // as before the guard: no step is skipped and the fit ends finite.
        var huge = Trainer(directory: directory.file("huge"), model: model, training: training)
        huge.gradientFactorsAtSteps = [2: 1e30, 3: 1e30]
        var hugeLines: [String] = []
        huge.progress = { hugeLines.append($0) }
        let hugeLog = try huge.fit(data)
        XCTAssertEqual(hugeLog.count, 3)
        XCTAssertFalse(hugeLines.contains { $0.contains("skipped") })
        for (name, entry) in try parameters(in: directory.file("huge")) {
            XCTAssertTrue(entry.values.allSatisfy(\.isFinite), "\(name) is not finite")
        }
    }

    func testResumeAfterAKillGivesTheSameParameters() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let (model, training) = configurations()
        let data = try WindowDataset(runs: makeRuns(), window: model.window, stride: model.stride, validationFraction: 0.34, seed: model.seed)
        XCTAssertTrue(data.splitDescription.hasPrefix("by subject"), data.splitDescription)
        XCTAssertEqual(data.training.count + data.validation.count, 3 * 9)

        let straight = directory.file("straight")
        let log = try Trainer(directory: straight, model: model, training: training).fit(data)
        XCTAssertEqual(log.count, 3)

        let interrupted = directory.file("interrupted")
        var killed = Trainer(directory: interrupted, model: model, training: training)
        killed.interruptAfterStep = 8  // after the checkpoint at step 6, mid-epoch
        XCTAssertThrowsError(try killed.fit(data))
        // What the killed fit left is refused as a model until it is finished (or asked for).
        XCTAssertThrowsError(try Trainer.loadModel(from: interrupted)) { error in
            XCTAssertTrue("\(error)".contains("unfinished fit") && "\(error)".contains("`resume`"), "\(error)")
        }
        XCTAssertNoThrow(try Trainer.loadModel(from: interrupted, allowUnfinished: true))
        let resumed = try Trainer(directory: interrupted, model: model, training: training).fit(data, resume: true)
        XCTAssertEqual(resumed.map(\.validationELBO), log.map(\.validationELBO))
        let a = try parameters(in: straight), b = try parameters(in: interrupted)
        XCTAssertEqual(a.count, b.count)
        for (name, entry) in a { XCTAssertEqual(entry.values, b[name]?.values, "\(name) differs after resuming") }

        // The log's schema and the model directory's files.
        let csv = try String(contentsOfFile: straight + "/training_log.csv", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(csv.first, "epoch,step,train_elbo,recon,kl,val_elbo,lr,seconds")
        XCTAssertEqual(csv.count, 4)
        for file in ["config.json", "model.safetensors", "checkpoint/optimizer.safetensors", "checkpoint/state.json"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: straight + "/" + file), file)
        }
    }

    /// A finished fit resumed with more epochs continues to the same parameters as a fit that
    /// ran them all; a fit that stopped early, or one resumed on other runs, says so; a killed
    /// writer's temporaries are cleaned up; the checkpoint is a sealed set.
    func testResumeContinuesAFinishedFitAndRefusesOtherInputs() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var (model, training) = configurations()
        training.patience = 100
        let data = try WindowDataset(runs: makeRuns(), window: model.window, stride: model.stride, validationFraction: 0.34, seed: model.seed)
        let straight = directory.file("straight"), staged = directory.file("staged")
        training.epochs = 4
        let full = try Trainer(directory: straight, model: model, training: training).fit(data)
        training.epochs = 2
        try FileManager.default.createDirectory(atPath: staged, withIntermediateDirectories: true)
        for leftover in [".dat.nosync1234.abcd", ".fmridyn-runs-999999.f32", ".model.safetensors.tmp-999999-42"] {
            try Data([1]).write(to: URL(fileURLWithPath: staged + "/" + leftover))
        }
        XCTAssertEqual(try Trainer(directory: staged, model: model, training: training).fit(data).count, 2)
        for leftover in [".dat.nosync1234.abcd", ".fmridyn-runs-999999.f32", ".model.safetensors.tmp-999999-42"] {
            XCTAssertFalse(FileManager.default.fileExists(atPath: staged + "/" + leftover), "\(leftover) of a dead process is removed")
        }
        XCTAssertTrue(try CheckpointSet.verify(in: staged), "the checkpoint carries a manifest")
        training.epochs = 4
        var lines: [String] = []
        var again = Trainer(directory: staged, model: model, training: training)
        again.progress = { lines.append($0) }
        let continued = try again.fit(data, resume: true)
        XCTAssertEqual(continued.map(\.validationELBO), full.map(\.validationELBO))
        XCTAssertTrue(lines.contains { $0.contains("continuing the finished fit from epoch 2 to 4") }, "\(lines.prefix(3))")
        let a = try parameters(in: straight), b = try parameters(in: staged)
        for (name, entry) in a { XCTAssertEqual(entry.values, b[name]?.values, "\(name) differs after continuing") }
        // Nothing left to do: said, not pretended.
        lines = []
        var done = Trainer(directory: staged, model: model, training: training)
        done.progress = { lines.append($0) }
        XCTAssertEqual(try done.fit(data, resume: true).count, 4)
        XCTAssertTrue(lines.contains { $0.contains("nothing to resume") }, "\(lines)")
        // Other runs (one subject fewer) are refused.
        let fewer = try WindowDataset(runs: Array(makeRuns().prefix(2)), window: model.window, stride: model.stride, validationFraction: 0.34, seed: model.seed)
        XCTAssertThrowsError(try Trainer(directory: staged, model: model, training: training).fit(fewer, resume: true)) { error in
            XCTAssertTrue("\(error)".contains("other inputs"), "\(error)")
        }
        // A file of the set that is not the one sealed with it (another step's) is refused.
        let weights = staged + "/checkpoint/model.safetensors"
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: weights)))
        bytes[bytes.count - 1] ^= 0x01
        try Data(bytes).write(to: URL(fileURLWithPath: weights))
        XCTAssertThrowsError(try Trainer(directory: staged, model: model, training: training).fit(data, resume: true)) { error in
            XCTAssertTrue("\(error)".contains("does not match the checkpoint's manifest"), "\(error)")
        }
        // ModelDirectory names the files and clears a model's (and only a model's) files.
        let files = ModelDirectory(staged)
        XCTAssertTrue(files.holdsModel)
        XCTAssertNil(files.unfinishedFit)
        for path in [files.configuration, files.weights, files.trainingLog, files.trainingState] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: path), path)
        }
        try Data("notes".utf8).write(to: URL(fileURLWithPath: staged + "/notes.txt"))
        files.removeModelFiles()
        XCTAssertFalse(files.holdsModel)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: staged).sorted(), [DirectoryLock.fileName, "notes.txt"])
    }

    /// A toy schedule: every 4 steps, each masked layer moves its mask one entry along
    /// (the first active entry goes, the first inactive one after it comes), weights zeroed there.
    struct RotatingMask: MaskSchedule {
        func update<M: Module>(step: Int, totalSteps: Int, model: inout M, gradient: M, masks: inout ParameterMasks<M.Scalar>,
                               optimizer: inout OptimizerState<M.Scalar>) where M.Scalar == Float {
            guard step % 4 == 0 else { return }
            for (name, path) in model.parameters {
                guard var mask = masks.masks[name]?.scalars, let off = mask.firstIndex(of: 1),
                      let on = mask.indices.first(where: { $0 > off && mask[$0] == 0 }) else { continue }
                mask[off] = 0
                mask[on] = 1
                var weights = model[keyPath: path].scalars
                weights[off] = 0
                weights[on] = 0
                model[keyPath: path] = Tensor(shape: model[keyPath: path].shape, scalars: weights)
                masks.masks[name] = Tensor(shape: model[keyPath: path].shape, scalars: mask)
            }
        }
    }

    func testMasksAndSchedulesSurviveAKill() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let (model, training) = configurations()
        let data = try WindowDataset(runs: makeRuns(), window: model.window, stride: model.stride, validationFraction: 0.34, seed: model.seed)
        let initial = SVAE<Float>(configuration: model)
        // Half of the decoder's weights masked, alternating.
        let name = "decoder.linear.weight"
        let count = initial.namedParameters.first { $0.0 == name }?.1.count ?? 0
        XCTAssertGreaterThan(count, 0)
        let masks = ParameterMasks<Float>([name: Tensor(shape: [6, 2], scalars: (0..<count).map { $0 % 2 == 0 ? 1 : 0 })])
        func trainer(_ path: String) -> Trainer {
            var trainer = Trainer(directory: path, model: model, training: training)
            trainer.masks = masks
            trainer.maskSchedule = RotatingMask()
            return trainer
        }
        let straight = directory.file("straight")
        try trainer(straight).fit(data)
        var killed = trainer(directory.file("killed"))
        killed.interruptAfterStep = 8
        XCTAssertThrowsError(try killed.fit(data))
        try trainer(directory.file("killed")).fit(data, resume: true)
        let a = try parameters(in: straight), b = try parameters(in: directory.file("killed"))
        for (key, entry) in a { XCTAssertEqual(entry.values, b[key]?.values, "\(key) differs after resuming") }
        let finalMasks = try SafeTensors.read(straight + "/checkpoint/masks.safetensors").tensors[name]?.values ?? []
        XCTAssertEqual(finalMasks, try SafeTensors.read(directory.file("killed") + "/checkpoint/masks.safetensors").tensors[name]?.values)
        // 9 steps: the schedule moved the mask twice; density is unchanged and masked weights are zero.
        XCTAssertNotEqual(finalMasks, (0..<count).map { $0 % 2 == 0 ? 1 : 0 })
        XCTAssertEqual(finalMasks.filter { $0 != 0 }.count, count / 2)
        let weights = a["decoder.linear.weight"]?.values ?? []
        for (w, m) in zip(weights, finalMasks) where m == 0 { XCTAssertEqual(w, 0) }
        XCTAssertTrue(FileManager.default.fileExists(atPath: straight + "/masks.safetensors"), "the best model keeps its masks")
    }

    func testLatentsCSVSchema() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let (model, training) = configurations()
        let runs = makeRuns()
        let data = try WindowDataset(runs: runs, window: model.window, stride: model.stride, validationFraction: 0.34, seed: 1)
        try Trainer(directory: directory.path, model: model, training: training).fit(data)
        let (svae, description) = try Trainer.loadModel(from: directory.path)
        XCTAssertEqual(description.model, model)
        let out = directory.file("latents.csv")
        try LatentExport.write(model: svae, runs: runs, to: out)
        let lines = try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        XCTAssertEqual(lines[0], ["subject", "session", "task", "run", "volume", "time_s", "condition", "z1", "z2"])
        XCTAssertEqual(lines.count, 1 + 3 * 60)
        XCTAssertEqual(lines[1], Array(lines[1].prefix(7)) + Array(lines[1].suffix(2)))
        XCTAssertEqual(Array(lines[12].prefix(7)), ["01", "", "motor", "1", "11", "22.0", "left_hand"])
        XCTAssertNotNil(Double(lines[12][7]))
        // The typed trajectories are what the CSV prints: every value reads back to its Float,
        // and equals the posterior means of the run.
        let trajectories = try LatentExport.trajectories(model: svae, runs: runs)
        XCTAssertEqual(trajectories.count, 3)
        XCTAssertEqual(trajectories[0].volumes.count, 60)
        XCTAssertEqual(trajectories[0].times[11], 22.0)
        XCTAssertEqual(trajectories[0].conditions?[11], "left_hand")
        for (t, line) in lines.dropFirst().prefix(60).enumerated() {
            XCTAssertEqual(line.suffix(2).compactMap(Float.init), trajectories[0].values[t], "volume \(t)")
        }
        let run = runs[0].standardized
        let means = try svae.posteriorMeans(Tensor<Float>(shape: [run.timePoints, run.columns], scalars: run.rows.flatMap { $0.map(Float.init) }))
        XCTAssertEqual(trajectories[0].values.flatMap { $0 }, Array(means.scalars))
    }

    func testTestSplitHoldsOutWholeSubjectsAndIsScoredOnce() throws {
        let (model, training) = configurations()
        let runs = makeRuns()
        let plain = try WindowDataset(runs: runs, window: 12, stride: 6, validationFraction: 0.34, seed: 1)
        let split = try WindowDataset(runs: runs, window: 12, stride: 6, validationFraction: 0.34, testFraction: 0.34, seed: 1)
        // Adding a test split keeps the same validation subject; the other two become one
        // training and one test subject (9 windows each).
        XCTAssertEqual(split.validation, plain.validation)
        XCTAssertEqual(split.training.count, 9)
        XCTAssertEqual(split.test.count, 9)
        let subjectsOf = { (windows: [WindowDataset.Window]) in Set(windows.map { runs[$0.run].subject }) }
        XCTAssertEqual(subjectsOf(split.training).count, 1)
        XCTAssertTrue(subjectsOf(split.test).isDisjoint(with: subjectsOf(split.training).union(subjectsOf(split.validation))))
        XCTAssertTrue(split.splitDescription.contains("; test "), split.splitDescription)
        XCTAssertThrowsError(try WindowDataset(runs: runs, window: 12, stride: 6, validationFraction: 0.34, testFraction: 0.67, seed: 1)) {
            XCTAssertTrue("\($0)".contains("`testFraction`"), "\($0)")
        }

        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let trainer = Trainer(directory: directory.file("model"), model: model, training: training)
        try trainer.fit(split)
        let test = try XCTUnwrap(try trainer.evaluateTest(split))
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: directory.file("model/evaluation.json")))) as? [String: Any])
        XCTAssertEqual(json["test_windows"] as? Int, 9)
        XCTAssertEqual(try XCTUnwrap(json["test_elbo"] as? Double), test, accuracy: 1e-9)
        // The best model it scores is the one training kept: its recomputed validation ELBO is
        // the best one the training log recorded.
        let log = try String(contentsOfFile: directory.file("model/training_log.csv"), encoding: .utf8).split(separator: "\n").dropFirst()
        let loggedBest = try XCTUnwrap(log.compactMap { Double($0.split(separator: ",")[5]) }.max())
        XCTAssertEqual(try XCTUnwrap(json["best_validation_elbo"] as? Double), loggedBest, accuracy: 1e-6 * abs(loggedBest))
        XCTAssertNotEqual(test, try XCTUnwrap(json["best_validation_elbo"] as? Double))
        // The typed reading of the same file (keys above are the public spelling).
        let report = try EvaluationReport(contentsOf: directory.file("model/evaluation.json"))
        XCTAssertEqual(report, EvaluationReport(testELBO: test, testWindows: 9, bestValidationELBO: try XCTUnwrap(json["best_validation_elbo"] as? Double),
                                                split: split.splitDescription))
        XCTAssertThrowsError(try EvaluationReport(contentsOf: directory.file("model/training_log.csv"))) {
            XCTAssertTrue("\($0)".contains("training_log.csv: not an fmridyn evaluation.json"), "\($0)")
        }
        XCTAssertNil(try Trainer(directory: directory.file("other"), model: model, training: training).evaluateTest(plain))
    }

    func testBadInputsAreExplained() throws {
        var runs = makeRuns(volumes: 10)
        XCTAssertThrowsError(try WindowDataset(runs: runs, window: 12, stride: 6, validationFraction: 0.2, seed: 1)) {
            XCTAssertTrue("\($0)".contains("`window` 10"), "\($0)")
        }
        runs[1].timeseries = SignalMatrix(timePoints: 10, columns: 4)
        XCTAssertThrowsError(try WindowDataset(runs: runs, window: 5, stride: 5, validationFraction: 0.2, seed: 1)) {
            XCTAssertTrue("\($0)".contains("same regions"), "\($0)")
        }
    }
}
