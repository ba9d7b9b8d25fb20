import Foundation
import Core
import Model
import Preprocessing

/// The small training problem several test classes share.
public enum TrainingFixtures {
    /// `subjects` subjects, one run each: two latent oscillators mixed into six regions plus noise.
    public static func runs(volumes: Int = 60, subjects: Int = 3, seed: UInt64 = 12) -> [RunData] {
        var random = RandomSource(seed: seed)
        return (1...subjects).map { subject in
            var matrix = SignalMatrix(timePoints: volumes, columns: 6)
            for t in 0..<volumes {
                let a = sin(Double(t) * 0.3 + Double(subject)), b = cos(Double(t) * 0.11)
                for c in 0..<6 { matrix[t, c] = (c % 2 == 0 ? a : b) * Double(c + 1) + 0.1 * random.normal() }
            }
            var run = RunData(timeseries: matrix, repetitionTime: 2)
            run.subject = String(format: "%02d", subject)
            run.task = "motor"
            run.run = "1"
            run.source = "sub-\(run.subject)"
            run.conditions = (0..<volumes).map { ($0 / 10) % 2 == 0 ? "rest" : "left_hand" }
            return run
        }
    }

    public static func configurations() -> (SVAEConfiguration, TrainingConfiguration) {
        var model = SVAEConfiguration(observations: 6)
        model.latent = 2
        model.hidden = 8
        model.window = 12
        model.stride = 6
        var training = TrainingConfiguration()
        training.epochs = 3
        training.batchSize = 4
        training.learningRate = 0.005
        training.checkpointEvery = 3
        training.klWarmupEpochs = 1
        return (model, training)
    }

    /// Rank `rank`'s view of `runs` for `shards` shards on `ranks` ranks: its own runs' values in
    /// a store placed among the others' shapes, and every run's labels; with each run's shard.
    public static func rankView(rank: Int, ranks: Int, shards: Int, runs: [RunData], model: SVAEConfiguration,
                                validationFraction: Double = 0.34) throws -> (data: WindowDataset, shardOfRun: [Int]) {
        let shardOfRun = WindowDataset.shards(groups: runs.map(\.subject), count: shards)
        let owned = runs.indices.filter { WindowDataset.rank(ofShard: shardOfRun[$0], ranks: ranks) == rank }
        let store = RunStore(runs: owned.map { runs[$0].standardized })
            .placed(at: owned, shapes: runs.map { ($0.timeseries.timePoints, $0.timeseries.columns) })
        let metadata = runs.enumerated().map { RunMetadata(index: $0, run: $1, shape: ($1.timeseries.timePoints, $1.timeseries.columns)).runData }
        let data = try WindowDataset(runs: metadata, store: store, window: model.window, stride: model.stride, validationFraction: validationFraction,
                                     seed: model.seed)
        return (data, shardOfRun)
    }
}
