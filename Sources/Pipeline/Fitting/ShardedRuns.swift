import Core
import Foundation
import Model

/// The runs of a sharded fit: each rank reads only the runs of the shards it computes (the
/// subjects dealt to it), into its own run cache, and learns every other run's shape and
/// labels from the other ranks, so that all ranks build the same windows and split.
public enum ShardedRuns {
    /// `subjects`: every run's subject label and `shardOfRun` its shard, in input order
    /// (`RunSource.runSubjects`, `WindowDataset.shards`).
    public static func load(_ input: some RunSource, subjects: [String], shardOfRun: [Int], communicator: any Communicator, cacheDirectory: String,
                     say: (String) -> Void) throws -> ([RunData], RunStore) {
        let owned = subjects.indices.filter { WindowDataset.rank(ofShard: shardOfRun[$0], ranks: communicator.size) == communicator.rank }
        let cache = WorkFolder.runCachePath(in: cacheDirectory)
        let (local, store) = try communicator.agree { () -> ([RunData], RunStore) in
            try OutputDirectory.create(cacheDirectory)
            return try RunStore.collect(file: cache) { add in try input.forEachRun(only: Set(owned), progress: say, add) }
        }
        let mine = try communicator.agree { () -> [RunMetadata] in
            guard local.count == owned.count else {
                throw PipelineError("read \(local.count) runs where the inputs list \(owned.count) for this rank; the inputs changed while reading", kind: .input)
            }
            return zip(owned, zip(local, store.extents)).map { index, pair in
                RunMetadata(index: index, run: pair.0, shape: (pair.1.timePoints, pair.1.columns))
            }
        }
        let encoder = JSONEncoder()
        let gathered = try communicator.allGather(bytes: Array(try encoder.encode(mine)))
        var all: [RunMetadata] = []
        for (rank, bytes) in gathered.enumerated() {
            do { all += try JSONDecoder().decode([RunMetadata].self, from: Data(bytes)) } catch {
                throw CommunicationError("rank \(rank) sent run metadata this rank cannot read (\(error)); run the same fmridyn on every rank")
            }
        }
        all.sort { $0.index < $1.index }
        guard all.map(\.index) == Array(subjects.indices) else {
            throw CommunicationError("the ranks read \(all.count) of \(subjects.count) runs; every rank must see the same inputs")
        }
        let runs = all.map(\.runData)
        if runs.map(\.subject) != subjects {
            throw PipelineError("the subjects read from the runs differ from the input list's (\(subjects.prefix(3).joined(separator: ", ")) ...); name the runs with sub- entities or a manifest subject column", kind: .input)
        }
        say("rank \(communicator.rank) of \(communicator.size): \(owned.count) of \(runs.count) runs (shards \(Set(owned.map { shardOfRun[$0] }).sorted().map(String.init).joined(separator: ",")) of \(Set(shardOfRun).count))")
        return (runs, store.placed(at: owned, shapes: all.map { ($0.timePoints, $0.columns) }))
    }
}
