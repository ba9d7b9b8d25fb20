import Core
import Foundation
import Model
import Preprocessing

/// The BIDS App's participant level: per selected run, region timeseries with a sidecar of every
/// setting, and the per-volume conditions, as BEP012-style derivatives
/// (`OUTPUT_DIR/sub-XX/[ses-YY/]func/sub-XX_..._[space-S_]atlas-A_timeseries.tsv`). Work whose
/// outputs are complete and were made with the same settings from older inputs is skipped; the
/// sidecar is written last, so its presence with these settings marks a run complete.
public struct BIDSParticipantLevel: Sendable {
    public let bidsDir: String
    public let outputDir: String
    /// The atlas as given, and as a BIDS entity value (letters and digits).
    public let atlas: String
    public let atlasEntity: String
    public let settings: ExtractionSettings

    public init(bidsDir: String, outputDir: String, atlas: String, atlasEntity: String, settings: ExtractionSettings) {
        self.bidsDir = bidsDir
        self.outputDir = outputDir
        self.atlas = atlas
        self.atlasEntity = atlasEntity
        self.settings = settings
    }

    /// An absolute path with symbolic links and `..` resolved.
    public static func canonical(_ path: String) -> String {
        let absolute = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        return URL(fileURLWithPath: absolute).standardizedFileURL.resolvingSymlinksInPath().path
    }

    /// `path` as a BIDS URI into the input dataset (`bids:raw:sub-01/func/...`), or the path
    /// itself when it lies outside it.
    public func bidsURI(_ path: String) -> String {
        let root = Self.canonical(bidsDir), file = Self.canonical(path)
        return file.hasPrefix(root + "/") ? "bids:raw:" + file.dropFirst(root.count + 1) : path
    }

    /// Descriptions of a TSV's columns, as a sidecar's column keys.
    public static func columnDescriptions(_ columns: [(String, String)]) -> [(String, JSONValue)] {
        columns.map { ($0.0, .object([("Description", .string($0.1))])) }
    }

    /// The derivative path stem of a run: OUTPUT_DIR/sub-XX/[ses-YY/]func/sub-XX_[ses-YY_]task-T_[acq-..._][run-N_][space-S_]atlas-A,
    /// with the space of the preprocessed BOLD it was extracted from (none for raw BOLD).
    public func stem(for run: BIDSRun) -> String {
        let folder = outputDir + "/sub-\(run.subject)" + (run.session.map { "/ses-\($0)" } ?? "") + "/func"
        let entities = run.name.entities.filter { ["sub", "ses", "task", "acq", "ce", "rec", "dir", "run", "echo"].contains($0.key) }
        let space = run.preprocessedBold.flatMap { BIDSName(($0 as NSString).lastPathComponent)?["space"] }
        return folder + "/" + (entities.map { "\($0.key)-\($0.value)" } + (space.map { ["space-\($0)"] } ?? []) + ["atlas-\(atlasEntity)"])
            .joined(separator: "_")
    }

    /// Complete (every output present), made with `settings`, and newer than every input.
    public static func isUpToDate(sidecar: String, settings: [(String, JSONValue)], outputs: [String], inputs: [String]) -> Bool {
        let manager = FileManager.default
        guard outputs.allSatisfy({ manager.fileExists(atPath: $0) }),
              let data = manager.contents(atPath: sidecar),
              let recorded = (try? JSONValue(parsing: data))?["Settings"],
              let expected = try? JSONValue(parsing: Data(JSONValue.object(settings).rendered().utf8)),
              recorded.rendered(indent: nil) == expected.rendered(indent: nil) else { return false }
        func modified(_ path: String) -> Date? { (try? manager.attributesOfItem(atPath: path))?[.modificationDate] as? Date }
        guard let made = outputs.compactMap(modified).min() else { return false }
        return inputs.allSatisfy { (modified($0) ?? .distantFuture) <= made }
    }

    /// Extracts every run of `runs` that is not up to date (all with `force`), one writer per
    /// subject folder. `progress` gets a line per run, `warn` the extraction's warnings.
    public func extract(_ runs: [BIDSRun], force: Bool, progress: (String) -> Void, warn: (String) -> Void) throws -> (written: Int, skipped: Int) {
        try settings.checkPresets()  // before the first run, not at it
        var written = 0, skipped = 0
        // One writer per subject's output folder (jobs for different subjects run side by side).
        var locks: [String: DirectoryLock] = [:]
        defer { locks.values.forEach { $0.release() } }
        for (index, bidsRun) in runs.enumerated() {
            let subjectFolder = outputDir + "/sub-\(bidsRun.subject)"
            if locks[subjectFolder] == nil { locks[subjectFolder] = try DirectoryLock.acquire(subjectFolder, purpose: "bids participant") }
            let base = stem(for: bidsRun)
            let timeseries = base + "_timeseries.tsv", sidecar = base + "_timeseries.json"
            let conditions = base + "_desc-conditions_timeseries.tsv", conditionsSidecar = base + "_desc-conditions_timeseries.json"
            let bold = bidsRun.preprocessedBold ?? bidsRun.bold
            var inputs = [bold] + bidsRun.sidecars
            if let events = bidsRun.events { inputs.append(events) }
            if settings.needsConfounds {
                guard let confounds = bidsRun.confounds else {
                    throw PipelineError("\(bidsRun.bold): the confound options need fMRIPrep confounds under derivatives/, none found for this run")
                }
                inputs.append(confounds)
            }
            let recordedSettings: [(String, JSONValue)] = settings.sidecar + [("Source", .string(bold)),
                                                                      ("Confounds", settings.needsConfounds ? .string(bidsRun.confounds ?? "") : .null)]
            let outputs = [timeseries, sidecar] + (bidsRun.events != nil ? [conditions, conditionsSidecar] : [])
            if !force, Self.isUpToDate(sidecar: sidecar, settings: recordedSettings, outputs: outputs, inputs: inputs) {
                progress("[\(index + 1)/\(runs.count)] \((timeseries as NSString).lastPathComponent): up to date, skipped (`force` redoes it)")
                skipped += 1
                continue
            }
            progress("[\(index + 1)/\(runs.count)] extracting \((bidsRun.bold as NSString).lastPathComponent)")
            let request = try settings.request(bold: bold, confounds: settings.needsConfounds ? bidsRun.confounds : nil, repetitionTime: bidsRun.repetitionTime)
            let result = try request.run()
            for warning in result.warnings { warn("\(bidsRun.bold): \(warning)") }
            guard let tr = result.repetitionTime else { throw PipelineError("\(bidsRun.bold): no repetition time in the sidecar or header") }
            try OutputDirectory.create((base as NSString).deletingLastPathComponent)
            try OutputFiles.writeTSV(result.signals, columns: result.names, to: timeseries)
            if let events = bidsRun.events {
                let parsed = try Event.read(contentsOf: events, runDuration: Double(result.runVolumes) * tr)
                if let warning = Event.lateEventsWarning(path: events, runDuration: Double(result.runVolumes) * tr, events: parsed) { warn(warning) }
                let total = (result.keptVolumes.last ?? 0) + 1
                let plain = ConditionLabels.labels(events: parsed, volumes: total, repetitionTime: tr)
                let delayed = ConditionLabels.labels(events: parsed, volumes: total, repetitionTime: tr, shiftByHRFPeak: .glover)
                var text = "volume\tonset\tcondition\tcondition_hrf\n"
                for volume in result.keptVolumes {
                    text += "\(volume)\t\((Double(volume) * tr * 1e6).rounded() / 1e6)\t\(plain[volume])\t\(delayed[volume])\n"
                }
                try OutputFiles.write(Data(text.utf8), to: conditions)
                let described: [(String, JSONValue)] = [
                    ("RepetitionTime", .number(tr)), ("SamplingFrequency", .number(1 / tr)),
                    ("Sources", .array([.string(bidsURI(events)), .string(bidsURI(bold))])),
                ] + Self.columnDescriptions([
                    ("volume", "Index of the volume in the original run (0-based; censored volumes are absent)"),
                    ("onset", "Start of the volume in seconds from the start of the run"),
                    ("condition", "The events' trial_type at the volume's onset, at face value (rest where none)"),
                    ("condition_hrf", "The same with the events delayed by the peak of the Glover HRF (about 5 s), so labels follow the BOLD response"),
                ])
                try OutputFiles.write(Data((JSONValue.object(described).rendered() + "\n").utf8), to: conditionsSidecar)
            }
            // The sidecar goes last: its presence with these settings marks the run complete.
            let sources: [String] = [bold] + (settings.needsConfounds ? [bidsRun.confounds ?? ""] : [])
            let events: JSONValue = bidsRun.events.map { .string($0) } ?? .null
            var record: [(String, JSONValue)] = [("RepetitionTime", .number(tr)), ("KeptVolumes", .integers(result.keptVolumes)),
                                                 ("DroppedInitialVolumes", .integer(result.droppedInitial)),
                                                 ("ConfoundsRegressed", .array(result.confoundColumns.map { .string($0) })),
                                                 ("Regions", .integer(result.names.count)), ("Events", events)]
            record += [("GeneratedBy", .string("fmridyn \(FMRIDynVersion.current)")), ("Settings", .object(recordedSettings)),
                       ("SamplingFrequency", .number(1 / tr)), ("Atlas", .string(atlas)),
                       ("Sources", .array(sources.map { .string(bidsURI($0)) }))]
            record += Self.columnDescriptions(result.names.map { ($0, "Cleaned signal of region \($0) of \(atlas), one row per kept volume (KeptVolumes)") })
            try OutputFiles.write(Data((JSONValue.object(record).rendered() + "\n").utf8), to: sidecar)
            written += 1
        }
        return (written, skipped)
    }
}
