import Core
import Foundation
import Model
import NIfTI
import Preprocessing

/// Voxel-mode plumbing shared by fit, latents, compare and the derived models: the PCA projection learned on the
/// training runs, applied to every run a voxel model sees.
public enum VoxelMode {
    /// Fits the projection on the runs of the training subjects (the same split the trainer
    /// makes), saves it into each model directory, and returns the runs as component scores.
    public static func prepare(_ runs: [RunData], components: Int, validationFraction: Double, testFraction: Double, seed: UInt64,
                        window: Int, stride: Int, directories: [String], say: (String) -> Void) throws -> [RunData] {
        guard let space = runs.first?.voxelSpace else { return runs }
        guard runs.allSatisfy({ $0.voxelSpace == space }) else { throw sameVoxels }
        let trainingRuns = try trainingIndices(runs.map { ($0.subject, $0.source) }, validationFraction: validationFraction,
                                               testFraction: testFraction, seed: seed, window: window, stride: stride)
        var fit = VoxelProjection.IncrementalFit(components: components)
        for index in trainingRuns.sorted() { try fit.add(runs[index].timeseries) }
        let projection = try finish(fit, space: space, trainingRuns: trainingRuns.count, directories: directories, say: say)
        return try apply(projection, to: runs)
    }

    /// Reads (or extracts) the runs at the given positions of the input order (all of them
    /// for nil), one at a time, in order.
    public typealias RunSource = (_ only: Set<Int>?, _ body: (RunData) throws -> Void) throws -> Void

    /// Voxel mode with one run in memory at a time: a first pass reads the training runs
    /// (`runs` lists every run's subject and source, in input order, without reading it) into
    /// the incremental PCA, a second reads every run again, projects it and appends its
    /// standardised scores to a run cache at `cache`. Returns the runs' metadata and the cache.
    public static func stream(runs: [(subject: String, source: String)], read: RunSource, components: Int, validationFraction: Double,
                              testFraction: Double, seed: UInt64, window: Int, stride: Int, directories: [String], cache: String,
                              say: (String) -> Void) throws -> ([RunData], RunStore) {
        let trainingRuns = try trainingIndices(runs, validationFraction: validationFraction,
                                               testFraction: testFraction, seed: seed, window: window, stride: stride)
        say("voxel PCA: first pass over the \(trainingRuns.count) training runs, one at a time")
        var fit = VoxelProjection.IncrementalFit(components: components)
        var space: VoxelSpace?
        try read(trainingRuns) { run in
            guard let runSpace = run.voxelSpace else { throw PipelineError("\(run.source): voxel mode needs `voxels` extraction") }
            if space == nil { space = runSpace }
            guard runSpace == space else { throw sameVoxels }
            try fit.add(run.timeseries)
        }
        guard let space else { throw PipelineError("no training runs for the voxel PCA (\(runs.count) runs given)", kind: .input) }
        let projection = try finish(fit, space: space, trainingRuns: trainingRuns.count, directories: directories, say: say)
        say("voxel PCA: second pass, projecting every run into the run cache")
        return try withoutActuallyEscaping(read) { read in
            try RunStore.collect(file: cache) { add in
                try read(nil) { run in
                    guard run.voxelSpace == space else { throw sameVoxels }
                    try add(try apply(projection, to: [run])[0])
                }
            }
        }
    }

    public static var sameVoxels: PipelineError {
        PipelineError("voxel mode needs the same voxels in every run: give one `mask` (e.g. mni152) and inputs in one space")
    }

    /// Which runs train: the trainer's split, made on placeholder runs (entities only), which is
    /// the split the trainer makes on the real runs (by subject, by run, or the single run).
    public static func trainingIndices(_ runs: [(subject: String, source: String)], validationFraction: Double, testFraction: Double,
                                seed: UInt64, window: Int, stride: Int) throws -> Set<Int> {
        let placeholders = runs.map { entry -> RunData in
            var light = RunData(timeseries: SignalMatrix(timePoints: window, columns: 1), repetitionTime: 1)
            light.subject = entry.subject
            light.source = entry.source
            return light
        }
        let split = try WindowDataset(runs: placeholders, window: window, stride: stride, validationFraction: validationFraction,
                                      testFraction: testFraction, seed: seed)
        return Set(split.training.map(\.run))
    }

    /// The projection from a finished fit, saved into every model directory.
    public static func finish(_ fit: VoxelProjection.IncrementalFit, space: VoxelSpace, trainingRuns: Int, directories: [String],
                       say: (String) -> Void) throws -> VoxelProjection {
        say("voxel PCA: \(fit.components) components from \(trainingRuns) training runs x \(space.indices.count) \(space.brainModels == nil ? "voxels" : "grayordinates")")
        var projection = try fit.projection(grid: space.grid, voxelIndices: space.indices)
        projection.brainModels = space.brainModels
        for directory in directories {
            try OutputDirectory.create(directory)
            try projection.save(to: directory)
        }
        let explained = projection.explainedVariance.reduce(0, +)
        say(String(format: "voxel PCA: the components hold %.1f%% of the training variance", 100 * explained / max(1e-300, fit.totalVariance)))
        return projection
    }

    /// Runs as component scores (`pc1..pcK` features).
    public static func apply(_ projection: VoxelProjection, to runs: [RunData]) throws -> [RunData] {
        try runs.map { run in
            guard run.voxelSpace != nil else {
                throw PipelineError("\(run.source): this model works on voxels; load the inputs with `voxels` (and the model's `mask`)")
            }
            var projected = run
            projected.timeseries = try projection.project(run.timeseries)
            projected.featureNames = (1...projection.components).map { "pc\($0)" }
            return projected
        }
    }

    /// The runs as the model at `directory` expects them: projected for voxel models.
    public static func runs(_ runs: [RunData], for directory: String) throws -> [RunData] {
        guard let projection = try VoxelProjection.load(from: directory) else { return runs }
        return try apply(projection, to: runs)
    }
}
