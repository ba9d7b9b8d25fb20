import Core
import Foundation

/// Posterior-mean latent timeseries of runs, as `latents.csv`:
/// `subject,session,task,run,volume,time_s,condition,z1,...,zK` (empty strings where an entity
/// or the condition is unknown; `volume` counts from 0 in the original run; time_s = volume x TR).
public enum LatentExport {
    public static func rows(model: SVAE<Float>, runs: [RunData]) throws -> (header: [String], rows: [[String]]) {
        let k = model.configuration.latent
        let header = ["subject", "session", "task", "run", "volume", "time_s", "condition"] + (1...k).map { "z\($0)" }
        var rows: [[String]] = []
        for run in runs {
            let expected = model.configuration.observations + model.configuration.covariateCount
            guard run.timeseries.columns == expected else {
                throw TrainingError("\(run.source) has \(run.timeseries.columns) features; the model was fitted on \(expected)")
            }
            let standardized = run.standardized
            let input = Tensor<Float>(shape: [standardized.timePoints, standardized.columns],
                                      scalars: standardized.rows.flatMap { $0.map(Float.init) })
            var inputs: Tensor<Float>? = nil
            if model.configuration.inputCount > 0 {
                guard let u = run.inputs, u.columns == model.configuration.inputCount, u.timePoints == standardized.timePoints else {
                    throw TrainingError("\(run.source): the model takes \(model.configuration.inputCount) external inputs (\((model.configuration.externalInputs ?? []).joined(separator: ", "))); give the events of every run")
                }
                inputs = Tensor<Float>(shape: [u.timePoints, u.columns], scalars: u.rows.flatMap { $0.map(Float.init) })
            }
            let means = try model.posteriorMeans(input, inputs: inputs)
            for t in 0..<standardized.timePoints {
                let volume = run.volumes[t]
                var row = [run.subject, run.session, run.task, run.run, String(volume), String((Double(volume) * run.repetitionTime * 1e6).rounded() / 1e6),
                           run.conditions?[t] ?? ""]
                row += (0..<k).map { String(means.scalars[t * k + $0]) }
                rows.append(row)
            }
        }
        return (header, rows)
    }

    /// Writes the CSV atomically.
    public static func write(model: SVAE<Float>, runs: [RunData], to path: String) throws {
        let (header, rows) = try rows(model: model, runs: runs)
        try write(header: header, rows: rows, to: path)
    }

    /// Writes rows (from `rows(model:runs:)`, possibly gathered run by run) atomically.
    public static func write(header: [String], rows: [[String]], to path: String) throws {
        var text = header.joined(separator: ",") + "\n"
        for row in rows { text += row.map(escape).joined(separator: ",") + "\n" }
        try AtomicWrite.write(Data(text.utf8), to: path)
    }

    static func escape(_ field: String) -> String {
        field.contains(",") || field.contains("\"") ? "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : field
    }
}
