import Foundation
import NIfTI

/// Everything `fmridyn extract` does to one run, as a library call: regions (or voxels) out
/// of a BOLD image, non-steady-state volumes dropped, censoring, confounds and cleaning.
public struct ExtractionRequest: Sendable {
    public enum Regions: Sendable {
        /// A label image (any grid; resampled to the data by nearest neighbour).
        case labels(String)
        /// A coordinate table (x, y, z, label, network) with spheres of `radius` mm.
        case coordinates(String, radius: Double, allowOverlap: Bool)
        /// Every voxel of the mask.
        case voxels
    }

    public enum MaskSource: Sendable, Equatable {
        case none
        case file(String)
        /// nilearn's compute_epi_mask on this run.
        case epi
        /// nilearn's compute_background_mask on this run.
        case background
    }

    public var bold: String
    public var regions: Regions
    public var mask: MaskSource = .none
    public var strategy: ReductionStrategy = .mean
    public var smoothingFWHM: Double? = nil
    public var cleaning = CleaningOptions()
    /// Overrides the header's TR (seconds).
    public var repetitionTime: Double? = nil
    public var confounds: String? = nil
    public var confoundColumns: [String] = []
    public var confoundPresets: [ConfoundsTable.Preset] = []
    /// A temporal mask file: one line per volume, 1 keep, 0 censor.
    public var censorFile: String? = nil
    public var framewiseDisplacementThreshold: Double? = nil
    public var dvarsThreshold: Double? = nil
    /// Initial volumes to drop; nil takes fMRIPrep's non_steady_state_outlier columns when
    /// a confounds file is given, else 0.
    public var dropInitial: Int? = nil
    /// NaN or infinite voxels: an error by default (`extract` zeroes them with a warning).
    public var nonFinitePolicy: NonFinitePolicy = .error

    public init(bold: String, regions: Regions) {
        self.bold = bold
        self.regions = regions
    }
}

/// The cleaned timeseries of one run and what produced them.
public struct ExtractionResult: Sendable {
    /// `keptVolumes.count x regions` (or voxels).
    public var signals: SignalMatrix
    /// Column names: label values, coordinate labels, or voxel flat indices (NIfTI order).
    public var names: [String]
    /// Indices of the output rows in the original run.
    public var keptVolumes: [Int]
    public var repetitionTime: Double?
    public var grid: Grid
    /// The mask used (voxel mode, or restricting regions).
    public var mask: BrainMask?
    public var warnings: [String]
    public var confoundColumns: [String]
    public var droppedInitial: Int
    /// Volumes of the run as read (before dropping and censoring).
    public var runVolumes: Int = 0
    /// Every grayordinate of a CIFTI dense timeseries (no atlas): the XML of its brain-models
    /// element, over which maps of these columns are written; nil otherwise.
    public var ciftiBrainModels: String?
}

extension ExtractionRequest {
    /// The largest smoothing kernel accepted: wider than any head, so larger values are typos.
    public static let maximumSmoothingFWHM = 500.0

    /// Rejects settings no image can make sense of (non-finite or out-of-range numbers) before
    /// any voxel is read; the messages name the setting. The sphere radius and the non-finite
    /// policy are checked where they are used (`RegionSet.spheres`, the extractors).
    public func validateSettings() throws {
        if let fwhm = smoothingFWHM, !(fwhm >= 0 && fwhm <= Self.maximumSmoothingFWHM) {
            throw AtlasError("the smoothing FWHM must be between 0 and \(Self.maximumSmoothingFWHM) mm (got \(fwhm))")
        }
        if let tr = repetitionTime, !(tr > 0 && tr.isFinite) {
            throw AtlasError("the repetition time must be a positive number of seconds (got \(tr))")
        }
        for (name, threshold) in [("framewise-displacement", framewiseDisplacementThreshold), ("DVARS", dvarsThreshold)] {
            if let threshold, !(threshold > 0 && threshold.isFinite) {
                throw AtlasError("the \(name) censoring threshold must be a positive number (got \(threshold))")
            }
        }
    }

    public func run(progress: ((Int, Int) -> Void)? = nil) throws -> ExtractionResult {
        try validateSettings()
        if CIFTIImage.isCIFTI(bold) { return try runCIFTI() }
        if GIfTIImage.isGIfTI(bold) { return try runGIfTI() }
        let image = try NIfTIImage(contentsOf: bold)
        let header = image.header
        guard header.rank >= 4 || header.volumeCount > 1 else {
            throw AtlasError("\(bold): the image is 3-D; extraction needs a 4-D run")
        }
        let grid = Grid(header)
        var warnings: [String] = []
        let tr = repetitionTime ?? header.repetitionTime
        if repetitionTime == nil, let warning = header.repetitionTimeWarning { warnings.append("\(bold): \(warning)") }

        // Mask
        var brainMask: BrainMask?
        switch mask {
        case .none: brainMask = nil
        case .epi: brainMask = try BrainMask.epi(image)
        case .background: brainMask = try BrainMask.background(image)
        case .file(let path):
            let resolved = try BundledAtlases.path(for: path) ?? path
            brainMask = try BrainMask(contentsOf: resolved).resampled(to: grid, path: resolved)
        }
        if let brainMask, brainMask.count == 0 { throw AtlasError("the mask is empty on the data grid") }

        // Regions
        var tally = NonFiniteTally()
        var signals: SignalMatrix
        var names: [String]
        switch regions {
        case .labels(let path):
            let (set, labelWarnings) = try RegionSet.labels(atlas: path, on: grid, mask: brainMask)
            warnings += labelWarnings
            signals = try RegionExtraction.extract(image, regions: set, strategy: strategy, smoothingFWHM: smoothingFWHM,
                                                   nonFinite: nonFinitePolicy, tally: &tally, progress: progress)
            names = set.names
        case .coordinates(let path, let radius, let allowOverlap):
            let resolved = try BundledAtlases.path(for: path) ?? path
            let atlas = try CoordinateAtlas(contentsOf: resolved)
            let set = try RegionSet.spheres(seeds: atlas.seeds, names: atlas.labels, radius: radius, on: grid,
                                            mask: brainMask, allowOverlap: allowOverlap)
            signals = try RegionExtraction.extract(image, regions: set, strategy: strategy, smoothingFWHM: smoothingFWHM,
                                                   nonFinite: nonFinitePolicy, tally: &tally, progress: progress)
            names = set.names
        case .voxels:
            guard let brainMask else {
                throw AtlasError("voxel mode needs a mask: pass `mask` FILE, or `mask` epi|background|mni152")
            }
            signals = try VoxelExtraction.extract(image, mask: brainMask, smoothingFWHM: smoothingFWHM, nonFinite: nonFinitePolicy,
                                                  tally: &tally, progress: progress)
            names = brainMask.columnOrder.map(String.init)
        }
        if let warning = tally.warning(path: bold, names: names, policy: nonFinitePolicy) { warnings.append(warning) }
        return try cleaned(consume signals, names: names, volumes: header.volumeCount, repetitionTime: tr, grid: grid, mask: brainMask, warnings: warnings)
    }

    /// A non-volume input (CIFTI grayordinates, GIfTI vertices): how its parcels and its
    /// every column are read; the region choice, refusals and cleaning are shared.
    struct ColumnSource {
        /// "a CIFTI file", "a GIfTI surface file" (for messages).
        var kind: String
        /// The parcellation it takes, e.g. ".dlabel.nii, e.g. Glasser's 360".
        var atlasKind: String
        var isAtlas: (String) -> Bool
        var parcels: (String) throws -> (signals: SignalMatrix, names: [String])
        var everyColumn: () throws -> (signals: SignalMatrix, names: [String])
        var repetitionTime: Double?
        var grid: Grid
        var smoothingAdvice: String
    }

    func runColumns(_ source: ColumnSource) throws -> ExtractionResult {
        var signals: SignalMatrix, names: [String]
        switch regions {
        case .labels(let path):
            guard source.isAtlas(path) else { throw AtlasError("\(bold) is \(source.kind): its atlas must be a \(source.atlasKind), not \(path)") }
            (signals, names) = try source.parcels(path)
        case .voxels:
            (signals, names) = try source.everyColumn()
        case .coordinates:
            throw AtlasError("\(bold) is \(source.kind): coordinate atlases need a volume; give a \(source.atlasKind), or no `atlas` for every column")
        }
        if smoothingFWHM != nil { throw AtlasError("\(bold): smoothing \(source.kind) needs its surfaces; \(source.smoothingAdvice)") }
        if mask != .none { throw AtlasError("\(bold): masks apply to volumes, not to \(source.kind)'s columns") }
        let volumes = signals.timePoints
        return try cleaned(consume signals, names: names, volumes: volumes, repetitionTime: repetitionTime ?? source.repetitionTime,
                           grid: source.grid, mask: nil, warnings: [])
    }

    /// Region signals of a CIFTI-2 dense timeseries: parcel means of a `.dlabel.nii` atlas, or
    /// every grayordinate without one.
    func runCIFTI() throws -> ExtractionResult {
        let series = try CIFTIImage(contentsOf: bold)
        var result = try runColumns(ColumnSource(
            kind: "a CIFTI file", atlasKind: "CIFTI dense label file (.dlabel.nii, e.g. Glasser's 360)", isAtlas: CIFTIImage.isCIFTI,
            parcels: { try CIFTIExtraction.parcels(series, labels: CIFTIImage(contentsOf: $0)) }, everyColumn: { try CIFTIExtraction.grayordinates(series) },
            repetitionTime: series.repetitionTime, grid: Grid(series.image.header), smoothingAdvice: "smooth with wb_command -cifti-smoothing first"))
        if case .voxels = regions { result.ciftiBrainModels = series.brainModelsElement }
        return result
    }

    /// Region signals of a GIfTI surface timeseries: label means of a `.label.gii` atlas, or
    /// every vertex without one.
    func runGIfTI() throws -> ExtractionResult {
        let series = try GIfTIImage(contentsOf: bold)
        // A surface has no voxel grid; the result's grid is a placeholder no writer uses.
        let none = Grid(NIfTIHeader.make(shape: [1, 1, 1], zooms: [1, 1, 1], affine: .identity, datatype: .float32, code: 0, repetitionTime: nil))
        return try runColumns(ColumnSource(
            kind: "a GIfTI surface file", atlasKind: "GIfTI label file (.label.gii) of the same surface", isAtlas: GIfTIImage.isGIfTI,
            parcels: { try GIfTIExtraction.parcels(series, labels: GIfTIImage(contentsOf: $0)) }, everyColumn: { try GIfTIExtraction.vertices(series) },
            repetitionTime: series.repetitionTime, grid: none, smoothingAdvice: "smooth it with FreeSurfer or Workbench first"))
    }

    /// Confounds, censoring, initial volumes and cleaning of extracted signals [volumes, regions].
    /// `signals` is consumed: the cleaning runs in its storage, and a caller that kept its own
    /// reference would make that a second full copy of a voxel matrix.
    func cleaned(_ signals: consuming SignalMatrix, names: [String], volumes: Int, repetitionTime tr: Double?, grid: Grid, mask brainMask: BrainMask?,
                 warnings: [String]) throws -> ExtractionResult {
        var confoundMatrix: SignalMatrix?
        var confoundNames: [String] = []
        var keep = [Bool](repeating: true, count: volumes)
        var drop = dropInitial ?? 0
        if let confounds {
            let table = try ConfoundsTable(contentsOf: confounds)
            guard table.volumeCount == volumes else {
                throw TableError(path: confounds, "has \(table.volumeCount) rows but \(bold) has \(volumes) volumes; use the confounds file of this run")
            }
            for preset in confoundPresets { confoundNames += try table.columns(for: preset) }
            confoundNames += confoundColumns.filter { !confoundNames.contains($0) }
            if !confoundNames.isEmpty { confoundMatrix = try table.matrix(columns: confoundNames) }
            if confoundPresets.contains(.scrub) || framewiseDisplacementThreshold != nil || dvarsThreshold != nil {
                let scrub = confoundPresets.contains(.scrub)
                let motion = try table.censorMask(framewiseDisplacement: framewiseDisplacementThreshold ?? (scrub ? 0.5 : nil),
                                                  standardizedDVARS: dvarsThreshold ?? (scrub ? 1.5 : nil))
                for t in 0..<volumes where !motion[t] { keep[t] = false }
            }
            if dropInitial == nil { drop = try table.nonSteadyStateVolumes() }
        } else if framewiseDisplacementThreshold != nil || dvarsThreshold != nil || !confoundColumns.isEmpty || !confoundPresets.isEmpty {
            throw AtlasError("confound columns, presets and FD/DVARS thresholds need `confounds` FILE (an fMRIPrep confounds TSV)")
        }
        if let censorFile {
            let text = try String(contentsOfFile: censorFile, encoding: .utf8)
            let lines = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            guard lines.count == volumes else {
                throw TableError(path: censorFile, "has \(lines.count) lines but the run has \(volumes) volumes; give one 1 (keep) or 0 (censor) per volume")
            }
            for (t, line) in lines.enumerated() {
                switch line {
                case "1": break
                case "0": keep[t] = false
                default: throw TableError(path: censorFile, row: t + 1, "\"\(line)\" is not 1 (keep) or 0 (censor)")
                }
            }
        }
        guard drop < volumes else { throw AtlasError("`dropInitial` \(drop) removes every volume of the \(volumes)-volume run") }
        let remaining = Array(drop..<volumes)
        if drop > 0 {
            signals = signals.selectingTimePoints(remaining)
            confoundMatrix = confoundMatrix?.selectingTimePoints(remaining)
            keep = Array(keep[drop...])
        }

        var options = cleaning
        options.repetitionTime = tr
        let cleaner = try SignalCleaner(options: options, timePoints: remaining.count, confounds: confoundMatrix,
                                        keep: keep.allSatisfy { $0 } ? nil : keep)
        cleaner.clean(&signals)
        let keptVolumes = cleaner.keptTimePoints.map { remaining[$0] }
        return ExtractionResult(signals: signals, names: names, keptVolumes: keptVolumes, repetitionTime: tr, grid: grid,
                                mask: brainMask, warnings: warnings, confoundColumns: confoundNames, droppedInitial: drop, runVolumes: volumes)
    }
}
