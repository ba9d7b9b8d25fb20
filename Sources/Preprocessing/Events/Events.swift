/// One BIDS event: onset and duration in seconds, a condition, an amplitude.
public struct Event: Equatable, Sendable {
    public var onset: Double
    public var duration: Double
    public var condition: String
    public var modulation: Double

    public init(onset: Double, duration: Double, condition: String, modulation: Double = 1) {
        self.onset = onset
        self.duration = duration
        self.condition = condition
        self.modulation = modulation
    }
}

extension Event {
    /// Reads a BIDS `_events.tsv`: `onset` and `duration` required, `trial_type` (missing:
    /// every event is condition "dummy", as nilearn) and `modulation` (default 1) optional.
    /// Every number must be finite; with `runDuration` (seconds: volumes x TR) a file whose
    /// events all start after the run has ended is an error too (every regressor would be zero
    /// and every volume rest: the wrong file, or onsets not in seconds). Single events after
    /// the end, as with a run stopped early, are kept and fall outside it; callers warn with
    /// their rows (`rowsAfter(runDuration:)`), so that the choice is never silent.
    /// Errors name the file, the row (the header is row 1) and the column.
    public static func read(contentsOf path: String, runDuration: Double? = nil) throws -> [Event] {
        let table = try DelimitedTable(contentsOf: path)
        let onsets = try table.numericColumn("onset", allowMissing: false)
        if let row = try table.column("duration").firstIndex(where: { $0 == "n/a" || $0.isEmpty }) {
            throw TableError(path: path, row: row + 2, column: "duration",
                             "is n/a; fmridyn needs every event's duration in seconds (use 0 for an impulse)")
        }
        let durations = try table.numericColumn("duration", allowMissing: false)
        let conditions = table.columnIndex("trial_type") != nil ? try table.column("trial_type") : Array(repeating: "dummy", count: onsets.count)
        let modulations = table.columnIndex("modulation") != nil ? try table.numericColumn("modulation", allowMissing: false)
            : Array(repeating: 1, count: onsets.count)
        for (name, values) in [("onset", onsets), ("duration", durations), ("modulation", modulations)] {
            for (row, value) in values.enumerated() where !value.isFinite {
                throw TableError(path: path, row: row + 2, column: name, "is \(value); every event needs a finite \(name)\(name == "modulation" ? "" : " in seconds")")
            }
        }
        if let runDuration, !onsets.isEmpty, onsets.allSatisfy({ $0 >= runDuration }),
           let first = onsets.indices.min(by: { onsets[$0] < onsets[$1] }) {
            throw TableError(path: path, row: first + 2, column: "onset",
                             "is \(onsets[first]) s, and every event starts after the run ends (\(runDuration) s: volumes x TR); is this the events file of this run, and are onsets in seconds?")
        }
        for (row, duration) in durations.enumerated() where duration < 0 {
            throw TableError(path: path, row: row + 2, column: "duration", "is negative (\(duration)); durations are seconds >= 0")
        }
        for (row, condition) in conditions.enumerated() where condition == "n/a" || condition.isEmpty {
            throw TableError(path: path, row: row + 2, column: "trial_type", "is empty; name the condition of every event")
        }
        return (0..<onsets.count).map { Event(onset: onsets[$0], duration: durations[$0], condition: conditions[$0], modulation: modulations[$0]) }
    }

    /// The file rows (the header is row 1) of events that start at or after the run's end
    /// (`runDuration` seconds): they label no volume.
    public static func rowsAfter(runDuration: Double, in events: [Event]) -> [Int] {
        events.indices.filter { events[$0].onset >= runDuration }.map { $0 + 2 }
    }

    /// A warning for events after the run's end, or nil when there are none.
    public static func lateEventsWarning(path: String, runDuration: Double, events: [Event]) -> String? {
        let rows = rowsAfter(runDuration: runDuration, in: events)
        guard !rows.isEmpty else { return nil }
        let listed = rows.prefix(10).map(String.init).joined(separator: ", ") + (rows.count > 10 ? ", ..." : "")
        return "\(path): \(rows.count) of \(events.count) events start after the run ends (\(runDuration) s: volumes x TR), rows \(listed); they label no volume (a run stopped early?). Check the TR and the volume count if this is unexpected."
    }
}
