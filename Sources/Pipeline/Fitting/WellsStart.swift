import Core
import Foundation
import Model
import Preprocessing
import RecoveryBenchmark

/// `fit --start wells`: the benchmark's `node-wells` start (`WellsInitialisation`, docs/recovery.md,
/// sixth and seventh rounds) built from a fit's own runs. The wells are read from the training
/// runs only, with each run's conditions at the neural level taken from its events (the
/// condition of each volume's onset, undelayed; "rest" between blocks), the rule the
/// benchmark's simulator labels its volumes by.
public struct WellsStart: Sendable {
    public var options: WellsInitialisation.Options

    public init(options: WellsInitialisation.Options) { self.options = options }

    /// Per kept volume of `run`, the condition of its events at the neural level.
    public static func neuralLabels(of run: RunData) throws -> [String] {
        guard let events = run.events else {
            throw PipelineError("\(run.source) has no events: `--start wells` reads the wells from the task's conditions (`--events`, a manifest events column, or BIDS events.tsv)")
        }
        let total = (run.volumes.last ?? -1) + 1
        let labels = ConditionLabels.labels(events: events, volumes: total, repetitionTime: run.repetitionTime)
        return run.volumes.map { labels[$0] }
    }

    /// One window per run: the start is fitted by a whole-run rollout from each run's initial
    /// state, so the window is the shortest run and the stride equals it.
    public static func wholeRunWindow(_ runs: [RunData]) throws -> Int {
        guard let shortest = runs.map(\.volumes.count).min(), shortest >= 2 else {
            throw PipelineError("`--start wells` needs runs of at least 2 volumes")
        }
        return shortest
    }

    /// The starting model for `configuration` from the training runs of `data` (their
    /// standardised values, their external inputs and their events' neural-level labels).
    /// Returns the model and a line describing the start.
    public func model(configuration: SVAEConfiguration, data: WindowDataset, seed: UInt64) throws -> (SVAE<Float>, String) {
        guard let conditions = configuration.externalInputs, !conditions.isEmpty else {
            throw PipelineError("`--start wells` needs the task as external inputs (`--external-inputs`)")
        }
        let fitted = Set(data.training.map(\.run)).sorted()
        guard let first = fitted.first else { throw PipelineError("`--start wells` needs at least one training run") }
        var regions: [[[Double]]] = [], labels: [[String]] = [], inputs: [[[Double]]] = []
        for index in fitted {
            let run = data.runs[index]
            guard index < data.store.extents.count, case let extent = data.store.extents[index], extent.isPresent else {
                throw PipelineError("\(run.source): its standardised values are not in this process's run store")
            }
            var values = [Float](repeating: 0, count: extent.timePoints * extent.columns)
            try values.withUnsafeMutableBufferPointer { buffer in
                guard let base = buffer.baseAddress else { return }
                try data.store.read(run: index, start: 0, count: extent.timePoints, into: base)
            }
            regions.append((0..<extent.timePoints).map { t in (0..<extent.columns).map { Double(values[t * extent.columns + $0]) } })
            labels.append(try Self.neuralLabels(of: run))
            guard let runInputs = run.inputs else { throw PipelineError("\(run.source) has no external inputs attached") }
            inputs.append(runInputs.rows)
        }
        let start = try WellsInitialisation(configuration: configuration, regions: regions, labels: labels, inputs: inputs,
                                            conditions: conditions, repetitionTime: data.runs[first].repetitionTime,
                                            options: options, seed: seed)
        let placement = options.restSettle.map { "wells at rest \(String(format: "%g", $0)) s after each condition" } ?? "components"
        let line = "wells start: \(start.mixture.count) \(placement) from \(fitted.count) training runs, "
            + String(format: "field fit R^2 %.3f, temperature %.3g, largest expansion %.2f per s",
                     start.fieldFitR2, start.temperature, start.largestExpansion)
        return (start.model, line)
    }
}
