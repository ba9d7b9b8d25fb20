import Core
import Foundation

/// One run's posterior-mean latents with the run's entities, volumes and conditions.
public struct LatentTrajectory: Sendable, Equatable {
    public var subject: String
    public var session: String
    public var task: String
    public var run: String
    /// Volume indices in the original run (from 0).
    public var volumes: [Int]
    public var repetitionTime: Double
    /// Per volume; nil without events.
    public var conditions: [String]?
    /// [T][K] posterior means, at the model's precision.
    public var values: [[Float]]

    /// Seconds of each volume (volume x TR, rounded to the microsecond as written).
    public var times: [Double] { volumes.map { (Double($0) * repetitionTime * 1e6).rounded() / 1e6 } }
    /// The latents as Double rows [T][K], for the analyses.
    public var states: [[Double]] { values.map { $0.map(Double.init) } }
}

/// Posterior-mean latent timeseries of runs, and `latents.csv`:
/// `subject,session,task,run,volume,time_s,condition,z1,...,zK` (empty strings where an entity
/// or the condition is unknown; `volume` counts from 0 in the original run; time_s = volume x TR).
public enum LatentExport {
    /// The latents of every run (sequential models filter through each whole run); with
    /// `mapPath`, each run's most probable path under the model with that transition noise
    /// (`SVAE.mapPath`), started from the posterior means. `taskFree` (with `mapPath`): the path
    /// with the model's task inputs withheld (`SVAE.taskFreePath`), so the runs need no events
    /// and the task's kicks come from the data alone.
    public static func trajectories(model: SVAE<Float>, runs: [RunData], mapPath: SVAE<Float>.MAPPathOptions? = nil,
                                    taskFree: Bool = false) throws -> [LatentTrajectory] {
        if taskFree, mapPath == nil { throw TrainingError("the task-free read-out is a MAP path: give its transition SD") }
        let k = model.configuration.latent
        return try runs.map { run in
            let expected = model.configuration.observations + model.configuration.covariateCount
            guard run.timeseries.columns == expected else {
                throw TrainingError("\(run.source) has \(run.timeseries.columns) features; the model was fitted on \(expected)")
            }
            let standardized = run.standardized
            let input = standardized.floatTensor
            var inputs: Tensor<Float>? = nil
            if model.configuration.inputCount > 0, !taskFree {
                guard let u = run.inputs, u.columns == model.configuration.inputCount, u.timePoints == standardized.timePoints else {
                    throw TrainingError("\(run.source): the model takes \(model.configuration.inputCount) external inputs (\((model.configuration.externalInputs ?? []).joined(separator: ", "))); give the events of every run")
                }
                inputs = u.floatTensor
            }
            let path: Tensor<Float>
            if let mapPath, taskFree {
                path = try model.taskFreePath(input, options: mapPath)
            } else {
                let means = try model.posteriorMeans(input, inputs: inputs)
                path = try mapPath.map { try model.mapPath(input, inputs: inputs, start: means, options: $0) } ?? means
            }
            let values = path.scalars
            return LatentTrajectory(subject: run.subject, session: run.session, task: run.task, run: run.run,
                                    volumes: Array(run.volumes.prefix(standardized.timePoints)), repetitionTime: run.repetitionTime,
                                    conditions: run.conditions.map { Array($0.prefix(standardized.timePoints)) },
                                    values: (0..<standardized.timePoints).map { t in Array(values[(t * k)..<((t + 1) * k)]) })
        }
    }

    /// The CSV's column names for K latents.
    public static func header(latent k: Int) -> [String] {
        ["subject", "session", "task", "run", "volume", "time_s", "condition"] + (1...k).map { "z\($0)" }
    }

    /// The CSV's cells, a row per volume (values printed as the shortest text of their Float).
    public static func rows(_ trajectory: LatentTrajectory) -> [[String]] {
        let times = trajectory.times
        return trajectory.volumes.indices.map { t in
            [trajectory.subject, trajectory.session, trajectory.task, trajectory.run, String(trajectory.volumes[t]), String(times[t]),
             trajectory.conditions?[t] ?? ""] + trajectory.values[t].map { String($0) }
        }
    }

    /// One run's latents as a BIDS derivative table (tab-separated): `volume`, `time_s`,
    /// `condition` (`n/a` without one), `z1..zK`.
    public static func runTable(_ trajectory: LatentTrajectory, latent k: Int) -> String {
        var text = (["volume", "time_s", "condition"] + (0..<k).map { "z\($0 + 1)" }).joined(separator: "\t") + "\n"
        let times = trajectory.times
        for t in trajectory.volumes.indices {
            let condition = trajectory.conditions?[t] ?? ""
            text += ([String(trajectory.volumes[t]), String(times[t]), condition.isEmpty ? "n/a" : condition]
                     + trajectory.values[t].map { String($0) }).joined(separator: "\t") + "\n"
        }
        return text
    }

    /// Writes the CSV of `trajectories` atomically.
    public static func write(_ trajectories: [LatentTrajectory], latent k: Int, to path: String) throws {
        var text = header(latent: k).joined(separator: ",") + "\n"
        for trajectory in trajectories {
            for row in rows(trajectory) { text += row.map(escape).joined(separator: ",") + "\n" }
        }
        try AtomicWrite.write(Data(text.utf8), to: path)
    }

    /// Computes and writes the CSV of `runs`.
    public static func write(model: SVAE<Float>, runs: [RunData], to path: String) throws {
        try write(try trajectories(model: model, runs: runs), latent: model.configuration.latent, to: path)
    }

    static func escape(_ field: String) -> String {
        field.contains(",") || field.contains("\"") ? "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : field
    }
}
