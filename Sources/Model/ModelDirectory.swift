import Core
import Foundation

/// A model directory and the files in it: the one place their names are joined, so that the
/// trainer, the read-outs and the commands agree on them (docs/checkpoint-format.md).
public struct ModelDirectory: Sendable, Equatable {
    public let path: String

    public init(_ path: String) { self.path = path }

    /// `config.json`: model and training settings, split, feature names (`ModelDescription`).
    public var configuration: String { path + "/" + Checkpoint.configFile }
    /// `model.safetensors`: the best model's parameters.
    public var weights: String { path + "/" + Checkpoint.modelFile }
    /// `checkpoint/`: the latest training step's set (parameters, Adam state, masks, state).
    public var checkpoint: String { path + "/checkpoint" }
    /// `checkpoint/state.json`: where the training run stands.
    public var trainingState: String { checkpoint + "/state.json" }
    public var trainingLog: String { path + "/training_log.csv" }
    public var evaluation: String { path + "/evaluation.json" }
    public var sparsity: String { path + "/sparsity.json" }
    public var robustness: String { path + "/robustness.json" }
    /// `voxel_projection.safetensors` of a voxel-mode model.
    public var voxelProjection: String { path + "/" + VoxelProjection.fileName }

    /// Every file and folder a fitted model leaves (what `fit --force` clears before a new fit).
    public static let modelFiles = [Checkpoint.configFile, Checkpoint.modelFile, Checkpoint.masksFile, "model_sparse.safetensors",
                                    Checkpoint.optimizerFile, "training_log.csv", "evaluation.json", "sparsity.json",
                                    VoxelProjection.fileName, "robustness.json", "federated.json", "checkpoint", "checkpoint.previous"]

    /// The files of a finished model that a reader needs (no checkpoint), `config.json` last.
    public static let publishedFiles = [Checkpoint.modelFile, Checkpoint.masksFile, "model_sparse.safetensors", "training_log.csv",
                                        "evaluation.json", "sparsity.json", VoxelProjection.fileName, Checkpoint.configFile]

    /// Whether a model has been (or is being) fitted here.
    public var holdsModel: Bool { FileManager.default.fileExists(atPath: configuration) }

    /// Removes a previous model's files (other files, and the lock, stay).
    public func removeModelFiles() {
        for file in Self.modelFiles { try? FileManager.default.removeItem(atPath: path + "/" + file) }
    }

    /// Records how far a fit that keeps no resumable checkpoint (a federated fit) has come, in
    /// `checkpoint/state.json`, so readers refuse it until `finished`.
    public func recordProgress(epoch: Int, step: Int, finished: Bool) throws {
        var state = TrainingState()
        state.epoch = epoch
        state.globalStep = step
        state.finished = finished
        try OutputDirectory.create(checkpoint)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try AtomicWrite.write(encoder.encode(state), to: trainingState)
    }

    /// Writes a model derived from another (pruned, merged): `config.json` with `description`,
    /// `model.safetensors` (and the masks), and the source's voxel projection when it has one.
    public func save(_ svae: SVAE<Float>, description: ModelDescription, masks: ParameterMasks<Float>? = nil,
                     projectionFrom source: ModelDirectory? = nil) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try Checkpoint.save(svae, configuration: try encoder.encode(description), masks: masks, to: path)
        if let source, let projection = try VoxelProjection.load(from: source.path) { try projection.save(to: path) }
    }

    /// Copies the finished model's files (`publishedFiles`, no checkpoint) into `destination`,
    /// each atomically and `config.json` last, so a reader that finds the configuration finds a
    /// complete model.
    public func publish(to destination: ModelDirectory) throws {
        try OutputDirectory.create(destination.path)
        for file in Self.publishedFiles {
            guard let contents = FileManager.default.contents(atPath: path + "/" + file) else { continue }
            try AtomicWrite.write(contents, to: destination.path + "/" + file)
        }
    }

    /// The saved settings.
    public func description() throws -> ModelDescription {
        guard let data = FileManager.default.contents(atPath: configuration) else {
            throw TrainingError("\(path) is not a model directory: \(configuration) is missing (fit a model with fmridyn fit first)")
        }
        do {
            return try JSONDecoder().decode(ModelDescription.self, from: data)
        } catch {
            throw TrainingError("\(configuration) is not a model configuration (\(error)); the directory is damaged, fit again")
        }
    }

    /// Where an unfinished fit stopped (nil when it finished, or was not trained here).
    public var unfinishedFit: (epoch: Int, step: Int)? {
        guard let data = FileManager.default.contents(atPath: trainingState),
              let state = try? JSONDecoder().decode(TrainingState.self, from: data), !state.finished else { return nil }
        return (state.epoch + 1, state.globalStep)
    }

    /// The best model. A directory whose fit did not finish (killed, stopped by an error or a
    /// full disk) is refused unless `allowUnfinished`: its "best" model is only the best of the
    /// epochs it reached.
    public func load(allowUnfinished: Bool = false) throws -> (SVAE<Float>, ModelDescription) {
        let description = try description()
        if !allowUnfinished, let stopped = unfinishedFit {
            throw TrainingError("\(path) holds an unfinished fit (stopped in epoch \(stopped.epoch) at step \(stopped.step)): finish it with fmridyn fit `resume`, or accept its best parameters so far with `allowUnfinished`")
        }
        var svae = SVAE<Float>(configuration: description.model)
        try Checkpoint.load(into: &svae, from: path)
        return (svae, description)
    }
}
