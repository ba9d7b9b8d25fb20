import Foundation
import Model
import Preprocessing

/// One run of the BIDS App's participant-level derivatives, as the group level reads it back:
/// the region timeseries (TR and kept volumes from its sidecar) and the conditions table's
/// plain and HRF-delayed labels.
public struct BIDSDerivativeRun: Sendable {
    public var data: RunData
    /// The path without `_timeseries.tsv`.
    public var stem: String
    /// Per row, the events' condition delayed by the Glover HRF's peak (nil without events).
    public var hrfConditions: [String]?
    public var timeseries: String
    public var sidecar: RegionTimeseriesSidecar

    /// Which derivatives to read.
    public struct Selection: Sendable {
        public var atlasEntity: String
        /// Subject labels without `sub-` (all when empty), session labels without `ses-`.
        public var subjects: Set<String> = []
        public var sessions: Set<String> = []
        public var task: String?
        public var runs: [String] = []
        public var space: String?
        public var filter: BIDSFilter?

        public init(atlasEntity: String) { self.atlasEntity = atlasEntity }
    }

    /// Every participant-level output under `outputDir` that `selection` takes, by subject,
    /// session and file name.
    public static func read(outputDir: String, selection: Selection) throws -> [BIDSDerivativeRun] {
        let manager = FileManager.default
        let wantedSubjects = selection.subjects, wantedSessions = selection.sessions
        var result: [BIDSDerivativeRun] = []
        let subjects = ((try? manager.contentsOfDirectory(atPath: outputDir)) ?? []).filter { $0.hasPrefix("sub-") }.sorted()
        for subject in subjects {
            let root = outputDir + "/" + subject
            let sessions = ((try? manager.contentsOfDirectory(atPath: root)) ?? []).filter { $0.hasPrefix("ses-") }.sorted()
            for folder in (sessions.isEmpty ? [root + "/func"] : sessions.map { root + "/" + $0 + "/func" }) {
                for file in ((try? manager.contentsOfDirectory(atPath: folder)) ?? []).sorted() {
                    guard let name = BIDSName(file), name.suffix == "timeseries", name.fileExtension == ".tsv",
                          name["atlas"] == selection.atlasEntity, name["desc"] == nil, let subjectLabel = name["sub"] else { continue }
                    if let space = selection.space, name["space"] != space { continue }
                    if let filter = selection.filter, !filter.accepts(name) { continue }
                    if !wantedSubjects.isEmpty && !wantedSubjects.contains(subjectLabel) { continue }
                    if !wantedSessions.isEmpty && !wantedSessions.contains(name["ses"] ?? "") { continue }
                    if let task = selection.task, name["task"] != task { continue }
                    if !selection.runs.isEmpty && !selection.runs.contains(where: { Int($0) == Int(name["run"] ?? "") || $0 == name["run"] }) { continue }
                    let path = folder + "/" + file
                    let base = String(path.dropLast("_timeseries.tsv".count))
                    guard let sidecar = try? RegionTimeseriesSidecar.read(contentsOf: base + "_timeseries.json") else {
                        throw PipelineError("\(path) has no complete sidecar (\(base)_timeseries.json with RepetitionTime); rerun the participant level for \(subject)", kind: .input)
                    }
                    var data = try RunData.read(timeseries: path, repetitionTime: sidecar.repetitionTime)
                    data.source = path
                    if sidecar.keptVolumes.count == data.timeseries.timePoints { data.volumes = sidecar.keptVolumes }
                    var hrf: [String]?
                    // Participant outputs before the BEP012-style names wrote ..._conditions.tsv.
                    let conditions = [base + "_desc-conditions_timeseries.tsv", base + "_conditions.tsv"].first { manager.fileExists(atPath: $0) }
                    if let conditions {
                        let table = try DelimitedTable(contentsOf: conditions)
                        let plain = try table.column("condition")
                        guard plain.count == data.timeseries.timePoints else {
                            throw PipelineError("\(conditions) has \(plain.count) rows for \(data.timeseries.timePoints) volumes; rerun the participant level with `force`", kind: .input)
                        }
                        data.conditions = plain
                        hrf = try table.column("condition_hrf")
                    }
                    result.append(BIDSDerivativeRun(data: data, stem: base, hrfConditions: hrf, timeseries: path, sidecar: sidecar))
                }
            }
        }
        return result
    }

    /// The run's latents beside its region timeseries: `..._desc-latents_timeseries.tsv`
    /// (volume, time_s, condition, z1..zK) and its sidecar (RepetitionTime, SamplingFrequency,
    /// Sources as a BIDS URI into the derivative dataset, the model, column descriptions).
    public func writeLatents(_ trajectory: LatentTrajectory, latent k: Int, dynamics: String, outputDir: String) throws {
        try OutputFiles.write(Data(LatentExport.runTable(trajectory, latent: k).utf8), to: stem + "_desc-latents_timeseries.tsv")
        let tr = data.repetitionTime
        let source = "bids::" + BIDSParticipantLevel.canonical(timeseries).dropFirst(BIDSParticipantLevel.canonical(outputDir).count + 1)
        var described: [(String, JSONValue)] = [
            ("RepetitionTime", .number(tr)), ("SamplingFrequency", .number(1 / tr)), ("Sources", .array([.string(source)])),
            ("Model", .string("models/ (fmridyn \(FMRIDynVersion.current), \(dynamics) dynamics, \(k) latents)")),
        ]
        described += BIDSParticipantLevel.columnDescriptions([("volume", "Index of the volume in the original run (0-based)"),
                                                              ("time_s", "Onset of the volume in seconds"),
                                                              ("condition", "The events' condition at the volume (n/a without events)")]
                                                             + (1...k).map { ("z\($0)", "Posterior mean of latent \($0)") })
        try OutputFiles.write(Data((JSONValue.object(described).rendered() + "\n").utf8), to: stem + "_desc-latents_timeseries.json")
    }
}
