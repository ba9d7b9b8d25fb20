import Core
import Analysis
import Foundation
import Model
import Preprocessing

/// `fit` in one process: the runs streamed into a run cache (voxel and grayordinate runs after
/// a first pass that fits their PCA), the external inputs attached, the windows split, and one
/// model trained, or one per seed on the same split followed by their fixed-point robustness
/// (`robustness.json`), which needs every run in memory.
public struct SingleProcessFit: Sendable {
    /// The model folder (with seeds: its `seed-N` subfolders and `robustness.json`).
    public var directory: String
    /// Where the run cache goes (nil: the model folder).
    public var workDir: String?
    /// One model per seed (at least two), all on the first seed's split; nil fits one.
    public var seeds: [UInt64]?
    /// The split's seed without `seeds`.
    public var seed: UInt64 = 1
    public var testFraction: Double = 0
    /// Principal components of voxel or grayordinate runs the model sees.
    public var voxelComponents = 128
    /// The model's window and stride: voxel runs are split (and their PCA fitted on the
    /// training runs) before the model, whose size depends on the components, is built.
    public var window = 32, stride = 8
    /// The events drive the latents as known inputs.
    public var externalInputs = false
    /// Start from wells placed at the modes of a field-free path (`--start wells`; needs the
    /// external inputs); nil starts from a random model. The window becomes the shortest run.
    public var wellsStart: WellsStart? = nil
    public var resume = false
    public var sparsity: SparsitySettings?
    public var alignment: SeedRobustness.Alignment = .orthogonal
    public var version = FMRIDynVersion.current

    public init(directory: String) { self.directory = directory }

    /// The model folders this fit writes.
    public var modelDirectories: [String] { seeds.map { $0.map { directory + "/seed-\($0)" } } ?? [directory] }

    /// Runs the fit. `configurations` builds the model for the inputs' feature count and
    /// repetition time (with this fit's window and stride); `progress` receives the readers' and
    /// the trainer's lines, `info` the summary lines. Returns the robustness table with seeds.
    public func run(source: some RunSource, configurations: (_ features: Int, _ repetitionTime: Double) -> (SVAEConfiguration, TrainingConfiguration),
                    progress: @escaping (String) -> Void, info: (String) -> Void) throws -> String? {
        let splitSeed = seeds?.first ?? seed
        let validationFraction = TrainingConfiguration().validationFraction
        var runs: [RunData]
        var store: RunStore? = nil
        if seeds == nil, let columns = try source.columnRuns() {
            let cache = try WorkFolder.runCache(output: directory, scratch: workDir)
            (runs, store) = try VoxelMode.stream(runs: columns, read: { only, body in try source.forEachRun(only: only, progress: progress, body) },
                                                 components: voxelComponents, validationFraction: validationFraction, testFraction: testFraction,
                                                 seed: splitSeed, window: window, stride: stride, directories: [directory], cache: cache,
                                                 say: progress)
        } else if seeds == nil {
            let cache = try WorkFolder.runCache(output: directory, scratch: workDir)
            (runs, store) = try RunStore.collect(file: cache) { add in try source.forEachRun(only: nil, progress: progress, add) }
        } else {
            runs = []
            try source.forEachRun(only: nil, progress: progress) { runs.append($0) }
            if runs.first?.voxelSpace != nil {
                runs = try VoxelMode.prepare(runs, components: voxelComponents, validationFraction: validationFraction, testFraction: testFraction,
                                             seed: splitSeed, window: window, stride: stride, directories: modelDirectories, say: progress)
            }
        }
        guard let features = store?.extents.first?.columns ?? runs.first?.timeseries.columns else {
            throw PipelineError("no runs were read from the inputs")
        }
        var (model, training) = configurations(features, runs.first?.repetitionTime ?? 1)
        if externalInputs {
            let names = ExternalInputs.names(runs)
            guard !names.isEmpty else { throw PipelineError("`externalInputs` needs events with at least one condition for the runs") }
            model.externalInputs = names
            try ExternalInputs.attach(&runs, for: model)
            progress("external inputs: \(names.joined(separator: ", ")) (\(model.observationKernel == nil ? "HRF-convolved regressors" : "neural-level boxcars"))")
        }
        if wellsStart != nil {
            if runs.contains(where: { $0.voxelSpace != nil }) {
                throw PipelineError("`--start wells` reads the wells from region timeseries; voxel and grayordinate runs are not supported (extract regions first)")
            }
            model.window = try WellsStart.wholeRunWindow(runs)
            model.stride = model.window
            progress("wells start: one window per run (\(model.window) volumes, the shortest run)")
        }
        let data = try FitPlan(model: model, training: training, testFraction: testFraction, splitSeed: splitSeed).dataset(runs: runs, store: store)
        info("\(runs.count) runs, \(model.observations) features; \(data.training.count) training, \(data.validation.count) validation and \(data.test.count) test windows (\(data.splitDescription))")
        guard let seeds else {
            try train(model: model, training: training, data: data, directory: directory, progress: progress, info: info)
            return nil
        }
        for (value, seededDirectory) in zip(seeds, modelDirectories) {
            var seeded = model
            seeded.seed = value
            info("seed \(value) -> \(seededDirectory)")
            try train(model: seeded, training: training, data: data, directory: seededDirectory, progress: progress, info: info)
        }
        let report = try RobustnessReport(models: modelDirectories, runs: runs, alignment: alignment, matchDistance: 0.25, nullSamples: 20,
                                          starts: 512, seed: splitSeed)
        try OutputFiles.write(Data(report.rendered.utf8), to: ModelDirectory(directory).robustness)
        info("\(directory)/robustness.json: fixed points of seeds \(seeds.dropFirst().map(String.init).joined(separator: ", ")) against seed \(splitSeed)")
        return report.table
    }

    /// Trains one model into `directory` and scores its test split.
    func train(model: SVAEConfiguration, training: TrainingConfiguration, data: WindowDataset, directory: String,
               progress: @escaping (String) -> Void, info: (String) -> Void) throws {
        var plan = FitPlan(model: model, training: training, testFraction: testFraction, sparsity: sparsity)
        plan.version = version
        var start: SVAE<Float>? = nil
        if let wellsStart {
            let line: String
            (start, line) = try wellsStart.model(configuration: model, data: data, seed: model.seed)
            progress(line)
        }
        let outcome = try plan.train(on: data, into: ModelDirectory(directory), resume: resume, initialModel: start, progress: progress)
        FitPlan.summaryLines(directory: directory, log: outcome.log, testELBO: outcome.testELBO, testWindows: data.test.count).forEach(info)
        if let sparsity {
            info("\(directory)/sparsity.json: \(sparsity.method.rawValue) at sparsity \(sparsity.sparsity) (\(sparsity.scope.rawValue)); compact export model_sparse.safetensors")
        }
    }
}
