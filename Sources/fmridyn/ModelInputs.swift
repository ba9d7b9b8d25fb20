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
    var source: ModelInputSource {
        ModelInputSource(inputs: inputs, manifest: manifest, tr: tr, events: events, hrfShift: hrfShift, bids: bids)
    }

    func loadRuns(progress: (String) -> Void = { _ in }) throws -> [RunData] { try source.loadRuns(progress: progress) }

    func forEachRun(only: Set<Int>? = nil, progress: (String) -> Void = { _ in }, _ body: (RunData) throws -> Void) throws {
        try source.forEachRun(only: only, progress: progress, body)
    }

    func runSubjects() throws -> [String] { try source.runSubjects() }
    func runEntities(_ entity: String) throws -> [String] { try source.runEntities(entity) }
    var bidsRoot: String? { source.bidsRoot }
}

/// Model inputs as parsed (by `ModelInputOptions` or `ModelDataOptions`): a BIDS directory
/// (extracted on the fly), region-timeseries TSV files, or one manifest.
struct ModelInputSource: RunSource {
    var inputs: [String]
    var manifest: Bool
    var tr: Double?
    var events: String?
    var hrfShift: Bool
    var bids: BIDSInputOptions

    func loadRuns(progress: (String) -> Void = { _ in }) throws -> [RunData] {
        var runs: [RunData] = []
        try forEachRun(progress: progress) { runs.append($0) }
        return runs
    }

    /// Reads (or extracts) the runs one at a time, in input order, handing each to `body`;
    /// with `only`, just the runs at those positions of the input order.
    func forEachRun(only: Set<Int>? = nil, progress: (String) -> Void = { _ in }, _ body: (RunData) throws -> Void) throws {
        if let root = bidsRoot { return try bids.forEachRun(root: root, hrfShift: hrfShift, only: only, progress: progress, body) }
        try RunLoader.forEach(inputs: inputs, manifest: manifest, tr: tr, events: events, hrfShift: hrfShift, only: only) { data in
            let duration = Double(data.timeseries.timePoints) * data.repetitionTime
            if let events = data.events, let warning = Event.lateEventsWarning(path: "the events of \(data.source)", runDuration: duration, events: events) {
                WarningsOnce.warn(warning)
            }
            try body(data)
        }
    }

    /// Every run's subject label, in input order, without reading any run (from the BIDS
    /// layout, the manifest's subject column, or the file names' sub- entity).
    func runSubjects() throws -> [String] { try runEntities("sub") }

    /// A BIDS directory read voxel by voxel (`--voxels`) or grayordinate by grayordinate
    /// (`--grayordinates`): its selected runs; nil for region inputs.
    func columnRuns() throws -> [(subject: String, source: String)]? {
        guard let root = bidsRoot, bids.columnMode else { return nil }
        return try bids.selectedRuns(root: root).map { (subject: $0.subject, source: $0.bold) }
    }

    /// Every run's `entity` label (`sub`, `ses`), in input order, without reading any run.
    func runEntities(_ entity: String) throws -> [String] {
        if let root = bidsRoot {
            return try bids.selectedRuns(root: root).map { entity == "sub" ? $0.subject : $0.name[entity] ?? "" }
        }
        func fromName(_ path: String) -> String { BIDSName((path as NSString).lastPathComponent)?[entity] ?? "" }
        guard manifest else { return inputs.map(fromName) }
        let table = try DelimitedTable(contentsOf: inputs[0])
        let column = ["sub": "subject", "ses": "session"][entity] ?? entity
        if table.columnIndex(column) != nil { return try table.column(column) }
        return try table.column("timeseries").map(fromName)
    }

    /// Whether the single input is a BIDS directory (a directory whose name is not a TSV's).
    var bidsRoot: String? {
        guard inputs.count == 1, !manifest, !inputs[0].lowercased().hasSuffix(".tsv") else { return nil }
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: inputs[0], isDirectory: &isDirectory) && isDirectory.boolValue ? inputs[0] : nil
    }
}

/// The same inputs as `ModelInputOptions`, named by `--data` for the commands whose positional
/// arguments are model directories (`fixed-points`, `robustness`): a BIDS directory (with
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
    var inputs: ModelInputSource {
        ModelInputSource(inputs: data, manifest: manifest, tr: tr, events: events, hrfShift: false, bids: bids)
    }
}

enum RunLoader {
    static func load(inputs: [String], manifest: Bool, tr: Double?, events: String?, hrfShift: Bool = false) throws -> [RunData] {
        var runs: [RunData] = []
        try forEach(inputs: inputs, manifest: manifest, tr: tr, events: events, hrfShift: hrfShift) { runs.append($0) }
        return runs
    }

    /// Reads the runs one at a time, handing each to `body`.
    static func forEach(inputs: [String], manifest: Bool, tr: Double?, events: String?, hrfShift: Bool = false, only: Set<Int>? = nil,
                        _ body: (RunData) throws -> Void) throws {
        if manifest {
            let path = inputs[0]
            let table = try DelimitedTable(contentsOf: path)
            let base = (path as NSString).deletingLastPathComponent
            func resolve(_ relative: String) -> String { relative.hasPrefix("/") || base.isEmpty ? relative : base + "/" + relative }
            let files = try table.column("timeseries")
            func optional(_ name: String) throws -> [String]? { table.columnIndex(name) != nil ? try table.column(name) : nil }
            let (subjects, sessions, tasks, runLabels, trs, events) = (try optional("subject"), try optional("session"), try optional("task"),
                                                                      try optional("run"), try optional("tr"), try optional("events"))
            for (index, file) in files.enumerated() where only?.contains(index) ?? true {
                let repetition = try trs.flatMap { Double($0[index]) } ?? tr ?? sidecarRepetitionTime(resolve(file)) ?? {
                    throw ValidationError("\(path), row \(index + 2): no tr column value, no --tr, and no RepetitionTime in \(sidecar(of: resolve(file)))")
                }()
                let eventFile = events.map { $0[index] }.flatMap { $0.isEmpty || $0 == "n/a" ? nil : resolve($0) }
                var run = try RunData.read(timeseries: resolve(file), repetitionTime: repetition, events: eventFile, hrfShift: hrfShift)
                if let subjects { run.subject = subjects[index] }
                if let sessions { run.session = sessions[index] == "n/a" ? "" : sessions[index] }
                if let tasks { run.task = tasks[index] }
                if let runLabels { run.run = runLabels[index] == "n/a" ? "" : runLabels[index] }
                try body(run)
            }
            return
        }
        for (index, input) in inputs.enumerated() where only?.contains(index) ?? true {
            guard let repetition = tr ?? sidecarRepetitionTime(input) else {
                throw ValidationError("\(input): no repetition time: give --tr SECONDS, or a sidecar \(sidecar(of: input)) with RepetitionTime (as fmridyn bids writes), or a manifest with a tr column.")
            }
            try body(RunData.read(timeseries: input, repetitionTime: repetition, events: events, hrfShift: hrfShift))
        }
    }

    /// The JSON sidecar beside a timeseries TSV (`X_timeseries.tsv` -> `X_timeseries.json`).
    static func sidecar(of path: String) -> String {
        (path.hasSuffix(".tsv") ? String(path.dropLast(4)) : path) + ".json"
    }

    /// The sidecar's `RepetitionTime` (or 1 / `SamplingFrequency`), when it has one: fmridyn's
    /// own derivatives carry it, so `--tr` is needed only to override it.
    static func sidecarRepetitionTime(_ path: String) -> Double? {
        RegionTimeseriesSidecar.repetitionTime(atPath: sidecar(of: path))
    }
}
