import Foundation
import Model
import Preprocessing

/// A BIDS (or HCP) dataset as model inputs: the selected runs' region timeseries extracted on
/// the fly with `extraction` (fMRIPrep's preprocessed BOLD and confounds when the derivatives
/// have them), the repetition time from the sidecars, per-volume conditions from the events.
/// The same extraction as the BIDS App's participant level.
public struct BIDSModelInputs: RunSource, Sendable {
    public enum Columns: Sendable, Equatable {
        /// One column per region of `extraction.atlas`.
        case regions
        /// Every voxel of `extraction.mask` (the MNI152 brain mask when none is given).
        case voxels
        /// Every grayordinate of the HCP `_Atlas.dtseries.nii` runs.
        case grayordinates
    }

    public var root: String
    public var selection: BIDSRunSelection
    public var extraction: ExtractionSettings
    public var columns: Columns = .regions
    /// Label each volume by the events delayed by the Glover HRF's peak.
    public var hrfShift = false
    /// Receives the extraction's and the events' warnings.
    public var warn: @Sendable (String) -> Void = { _ in }

    public init(root: String, selection: BIDSRunSelection, extraction: ExtractionSettings) {
        self.root = root
        self.selection = selection
        self.extraction = extraction
    }

    /// The settings each run is extracted with: voxel and grayordinate modes take every column
    /// (one mask for every run in voxel mode, so the columns are the same voxels).
    var runSettings: ExtractionSettings {
        var settings = extraction
        if columns != .regions { settings.atlas = nil }
        if columns == .voxels && settings.mask == nil { settings.mask = "mni152" }
        return settings
    }

    public func runEntities(_ entity: String) throws -> [String] {
        try selection.selectedRuns(root: root).map { entity == "sub" ? $0.subject : $0.name[entity] ?? "" }
    }

    public func columnRuns() throws -> [(subject: String, source: String)]? {
        guard columns != .regions else { return nil }
        return try selection.selectedRuns(root: root).map { (subject: $0.subject, source: $0.bold) }
    }

    /// Extracts the selected runs one at a time, handing each to `body` (so a caller that keeps
    /// only what it needs holds one run's signals at a time).
    public func forEachRun(only: Set<Int>? = nil, progress: (String) -> Void = { _ in }, _ body: (RunData) throws -> Void) throws {
        let selected = try selection.selectedRuns(root: root)
        let settings = runSettings
        try settings.checkPresets()
        for (index, run) in selected.enumerated() where only?.contains(index) ?? true {
            progress("extracting \(index + 1)/\(selected.count): \((run.bold as NSString).lastPathComponent)")
            if settings.needsConfounds && run.confounds == nil {
                throw PipelineError("\(run.bold): `confoundStrategy`, `confoundColumns`, `fdThreshold` and `dvarsThreshold` need fMRIPrep confounds under derivatives/, none found")
            }
            let bold = run.preprocessedBold ?? run.bold
            let request = try settings.request(bold: bold, confounds: settings.needsConfounds ? run.confounds : nil, repetitionTime: run.repetitionTime)
            let result = try request.run()
            for warning in result.warnings { warn("\(run.bold): \(warning)") }
            try body(modelRun(run, bold: bold, result: result))
        }
    }

    /// One extracted run as the model reads it: its entities, kept volumes, column names,
    /// voxel or grayordinate space, events and per-volume conditions.
    func modelRun(_ run: BIDSRun, bold: String, result: ExtractionResult) throws -> RunData {
        guard let tr = result.repetitionTime else { throw PipelineError("\(run.bold): no repetition time in the sidecar or header") }
        var data = RunData(timeseries: result.signals, repetitionTime: tr)
        data.subject = run.subject
        data.session = run.session ?? ""
        data.task = run.task ?? ""
        data.run = run.run ?? run.name["dir"] ?? ""
        data.source = run.bold
        data.volumes = result.keptVolumes
        data.featureNames = result.names
        switch columns {
        case .regions: break
        case .voxels:
            if let used = result.mask { data.voxelSpace = VoxelSpace(grid: used.grid, indices: used.columnOrder) }
        case .grayordinates:
            guard let brainModels = result.ciftiBrainModels else {
                throw PipelineError("\(bold): its CIFTI XML has no brain models on dimension 1; grayordinate mode needs a dense timeseries (.dtseries.nii)", kind: .input)
            }
            data.voxelSpace = VoxelSpace(grid: result.grid, indices: Array(0..<result.names.count), brainModels: brainModels)
        }
        guard run.events != nil || run.eventFolder != nil else { return data }
        let duration = Double(result.runVolumes) * tr
        let events = try run.events.map { try Event.read(contentsOf: $0, runDuration: duration) } ?? Event.readFSL(folder: run.eventFolder ?? "", runDuration: duration)
        if let warning = Event.lateEventsWarning(path: run.events ?? run.eventFolder ?? run.bold, runDuration: duration, events: events) { warn(warning) }
        let labels = ConditionLabels.labels(events: events, volumes: (result.keptVolumes.last ?? 0) + 1, repetitionTime: tr,
                                            shiftByHRFPeak: hrfShift ? .glover : nil)
        data.events = events
        data.conditions = result.keptVolumes.map { labels[$0] }
        return data
    }
}
