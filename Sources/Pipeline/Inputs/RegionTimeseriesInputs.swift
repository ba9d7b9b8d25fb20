import Foundation
import Model
import Preprocessing

/// Region-timeseries TSV files (as `fmridyn extract` and the BIDS App's participant level
/// write them) as model inputs, or one manifest TSV listing them: a `timeseries` column and
/// optional `subject`, `session`, `task`, `run`, `tr`, `events` columns, paths relative to
/// the manifest. The repetition time comes from the manifest's `tr`, then `repetitionTime`,
/// then each file's JSON sidecar.
public struct RegionTimeseriesInputs: RunSource, Sendable {
    public var files: [String]
    /// `files` is one manifest.
    public var manifest = false
    /// For runs without a `tr` value in the manifest (overrides the sidecars).
    public var repetitionTime: Double?
    /// A BIDS events.tsv for a single file's per-volume conditions.
    public var events: String?
    /// Label each volume by the events delayed by the Glover HRF's peak.
    public var hrfShift = false
    /// Receives the events' warnings.
    public var warn: @Sendable (String) -> Void = { _ in }

    public init(files: [String], manifest: Bool = false, repetitionTime: Double? = nil, events: String? = nil) {
        self.files = files
        self.manifest = manifest
        self.repetitionTime = repetitionTime
        self.events = events
    }

    public func forEachRun(only: Set<Int>? = nil, progress: (String) -> Void = { _ in }, _ body: (RunData) throws -> Void) throws {
        try forEachListedRun(only: only) { data in
            let duration = Double(data.timeseries.timePoints) * data.repetitionTime
            if let events = data.events, let warning = Event.lateEventsWarning(path: "the events of \(data.source)", runDuration: duration, events: events) {
                warn(warning)
            }
            try body(data)
        }
    }

    private func forEachListedRun(only: Set<Int>?, _ body: (RunData) throws -> Void) throws {
        guard manifest else {
            for (index, file) in files.enumerated() where only?.contains(index) ?? true {
                guard let tr = repetitionTime ?? Self.sidecarRepetitionTime(file) else {
                    throw PipelineError("\(file): no repetition time: give `repetitionTime` (seconds), or a sidecar \(Self.sidecar(of: file)) with RepetitionTime (as fmridyn bids writes), or a manifest with a tr column.")
                }
                try body(RunData.read(timeseries: file, repetitionTime: tr, events: events, hrfShift: hrfShift))
            }
            return
        }
        let path = files[0]
        let table = try DelimitedTable(contentsOf: path)
        let base = (path as NSString).deletingLastPathComponent
        func resolve(_ relative: String) -> String { relative.hasPrefix("/") || base.isEmpty ? relative : base + "/" + relative }
        func optional(_ name: String) throws -> [String]? { table.columnIndex(name) != nil ? try table.column(name) : nil }
        let timeseries = try table.column("timeseries")
        let (subjects, sessions, tasks, runLabels) = (try optional("subject"), try optional("session"), try optional("task"), try optional("run"))
        let (trs, eventFiles) = (try optional("tr"), try optional("events"))
        func notApplicable(_ value: String) -> String { value == "n/a" ? "" : value }
        for (index, file) in timeseries.enumerated() where only?.contains(index) ?? true {
            guard let tr = trs.flatMap({ Double($0[index]) }) ?? repetitionTime ?? Self.sidecarRepetitionTime(resolve(file)) else {
                throw PipelineError("\(path), row \(index + 2): no tr column value, no `repetitionTime`, and no RepetitionTime in \(Self.sidecar(of: resolve(file)))")
            }
            let eventFile = eventFiles.map { $0[index] }.flatMap { $0.isEmpty || $0 == "n/a" ? nil : resolve($0) }
            var run = try RunData.read(timeseries: resolve(file), repetitionTime: tr, events: eventFile, hrfShift: hrfShift)
            if let subjects { run.subject = subjects[index] }
            if let sessions { run.session = notApplicable(sessions[index]) }
            if let tasks { run.task = tasks[index] }
            if let runLabels { run.run = notApplicable(runLabels[index]) }
            try body(run)
        }
    }

    /// Every run's `entity` label (`sub`, `ses`): the manifest's column of that entity, else
    /// the file names' BIDS entity.
    public func runEntities(_ entity: String) throws -> [String] {
        func fromName(_ path: String) -> String { BIDSName((path as NSString).lastPathComponent)?[entity] ?? "" }
        guard manifest else { return files.map(fromName) }
        let table = try DelimitedTable(contentsOf: files[0])
        let column = ["sub": "subject", "ses": "session"][entity] ?? entity
        if table.columnIndex(column) != nil { return try table.column(column) }
        return try table.column("timeseries").map(fromName)
    }

    /// The JSON sidecar beside a timeseries TSV (`X_timeseries.tsv` -> `X_timeseries.json`).
    public static func sidecar(of path: String) -> String {
        (path.hasSuffix(".tsv") ? String(path.dropLast(4)) : path) + ".json"
    }

    /// The sidecar's `RepetitionTime` (or 1 / `SamplingFrequency`), when it has one: fmridyn's
    /// own derivatives carry it, so `repetitionTime` is needed only to override it.
    public static func sidecarRepetitionTime(_ path: String) -> Double? {
        RegionTimeseriesSidecar.repetitionTime(atPath: sidecar(of: path))
    }
}
