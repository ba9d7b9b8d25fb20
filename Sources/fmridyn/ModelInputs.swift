import ArgumentParser
import Foundation
import Model
import Pipeline
import Preprocessing

/// Inputs of `fit` and `latents`: a BIDS directory (extracted on the fly, see `BIDSInputOptions`),
/// region-timeseries TSV files (as `fmridyn extract` writes), or a manifest TSV listing them with `timeseries` and optional `subject`, `session`, `task`,
/// `run`, `tr`, `events` columns (paths relative to the manifest).
struct ModelInputOptions: ParsableArguments {
    @Argument(help: "A BIDS directory, region-timeseries TSV files, or one manifest TSV (--manifest).")
    var inputs: [String] = []

    @Flag(help: "Treat the single input as a manifest of runs.")
    var manifest = false

    @Option(help: "Repetition time in seconds for inputs without one in the manifest.")
    var tr: Double?

    @Option(help: "A BIDS events.tsv for per-volume conditions (single input only; manifests have an events column).")
    var events: String?

    @Flag(help: "Label each volume by the events delayed by the Glover HRF's peak (about 5 s), so conditions follow the BOLD response.")
    var hrfShift = false

    func validate() throws {
        guard !inputs.isEmpty else { throw ValidationError("give a BIDS directory, region-timeseries TSVs, or --manifest FILE.") }
        try Self.check(inputs: inputs, manifest: manifest, events: events, tr: tr)
    }

    /// The checks shared with `ModelDataOptions`.
    static func check(inputs: [String], manifest: Bool, events: String?, tr: Double?) throws {
        if manifest && inputs.count != 1 { throw ValidationError("--manifest takes exactly one manifest file.") }
        if events != nil && inputs.count != 1 { throw ValidationError("--events applies to a single input; use a manifest with an events column for several runs.") }
        try NumericOptions.positive("--tr", tr, unit: "seconds")
    }

    @OptionGroup var bids: BIDSInputOptions

    /// The parsed inputs.
    var source: ModelInputs {
        ModelInputs(inputs, manifest: manifest, tr: tr, events: events, hrfShift: hrfShift, bids: bids)
    }

    func loadRuns(progress: (String) -> Void = { _ in }) throws -> [RunData] { try source.loadRuns(progress: progress) }
}

extension ModelInputs {
    /// Model inputs as parsed (by `ModelInputOptions` or `ModelDataOptions`): one BIDS
    /// directory, else region-timeseries files or a manifest; warnings printed once.
    init(_ inputs: [String], manifest: Bool, tr: Double?, events: String?, hrfShift: Bool, bids: BIDSInputOptions) {
        if let root = ModelInputs.bidsRoot(of: inputs, manifest: manifest) {
            self = .bids(bids.inputs(root: root, hrfShift: hrfShift))
            return
        }
        var files = RegionTimeseriesInputs(files: inputs, manifest: manifest, repetitionTime: tr, events: events)
        files.hrfShift = hrfShift
        files.warn = WarningsOnce.warn
        self = .timeseries(files)
    }
}

/// The same inputs as `ModelInputOptions`, named by `--data` for the commands whose positional
/// arguments are model directories (`fixed-points`, `robustness`, `prune`, `merge`): a BIDS directory (with
/// the same extraction options), region-timeseries TSVs, or a manifest.
struct ModelDataOptions: ParsableArguments {
    @Option(parsing: .upToNextOption, help: "A BIDS directory, region-timeseries TSV files, or one manifest TSV (--manifest).")
    var data: [String] = []

    @Flag(help: "The single --data input is a manifest of runs.")
    var manifest = false

    @Option(help: "Repetition time in seconds for inputs without one in the manifest or a sidecar.")
    var tr: Double?

    @Option(help: "A BIDS events.tsv for per-volume conditions (single input only; manifests have an events column).")
    var events: String?

    @OptionGroup var bids: BIDSInputOptions

    func validate() throws {
        try ModelInputOptions.check(inputs: data, manifest: manifest, events: events, tr: tr)
    }

    /// The inputs as fit, latents and compare take them.
    var inputs: ModelInputs {
        ModelInputs(data, manifest: manifest, tr: tr, events: events, hrfShift: false, bids: bids)
    }
}
