import Core
import Foundation
import Model

/// A fitted model directory loaded once, with the voxel projection it was fitted through: the
/// one place that turns runs as read into runs as the model reads them (projected onto its
/// voxel PCA, feature count checked, external inputs attached) and into posterior-mean latents.
public struct FittedModel {
    public let directory: String
    public let svae: SVAE<Float>
    public let description: ModelDescription
    /// The voxel PCA of a voxel or grayordinate model; nil for region models.
    public let projection: VoxelProjection?
    /// Latents as each run's MAP path with this transition noise (`SVAE.mapPath`); nil: the
    /// posterior means.
    public var mapPath: SVAE<Float>.MAPPathOptions? = nil
    /// With `mapPath`: the MAP path with the task inputs withheld (`SVAE.taskFreePath`); the
    /// runs need no events then.
    public var taskFree = false

    /// Loads `directory` (`allowUnfinished`: the best parameters of a fit that did not finish).
    public init(directory: String, allowUnfinished: Bool = false) throws {
        (svae, description) = try Trainer.loadModel(from: directory, allowUnfinished: allowUnfinished)
        projection = try VoxelProjection.load(from: directory)
        self.directory = directory
    }

    /// `runs` as the model reads them; errors name the run and what the model expects.
    public func prepare(_ runs: [RunData]) throws -> [RunData] {
        var prepared = try projection.map { try VoxelMode.apply($0, to: runs) } ?? runs
        try description.requireMatchingFeatures(prepared, modelDirectory: directory)
        if !taskFree { try ExternalInputs.attach(&prepared, for: svae.configuration) }
        return prepared
    }

    /// The latent trajectory of each run (posterior means, or MAP paths with `mapPath`).
    public func trajectories(_ runs: [RunData]) throws -> [LatentTrajectory] {
        try LatentExport.trajectories(model: svae, runs: prepare(runs), mapPath: mapPath, taskFree: taskFree)
    }

    /// The trajectories of every run of `source`, read one run at a time (one run's signals in
    /// memory at once).
    public func trajectories(of source: some RunSource, progress: (String) -> Void = { _ in }) throws -> [LatentTrajectory] {
        var trajectories: [LatentTrajectory] = []
        try source.forEachRun(only: nil, progress: progress) { trajectories += try self.trajectories([$0]) }
        return trajectories
    }
}
