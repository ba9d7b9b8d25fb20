import ArgumentParser
import Foundation
import NIfTI
import Preprocessing

/// `fmridyn extract`: region (or voxel) timeseries of one run, cleaned as nilearn would.
struct Extract: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Extract and clean region or voxel timeseries from a BOLD run.",
        discussion: """
            Nothing is cleaned unless asked (as nilearn's maskers). Cleaning follows nilearn's \
            order: censored volumes interpolated (Butterworth) or dropped, detrend, filter, \
            confound regression, standardise. docs/preprocessing.md has the details.

            ATLAS: power264, dosenbach160, seitzman300 (bundled coordinates), a label image \
            (.nii/.nii.gz, any grid), or a coordinate TSV (x, y, z[, label, network]).
            MASK: a mask image, epi (computed from the run), background, mni152 or mni152gm.

            Examples:
              fmridyn extract sub-01_task-motor_bold.nii.gz --atlas power264 --radius 5 \\
                --confounds sub-01_task-motor_desc-confounds_timeseries.tsv --confound-strategy motion24,wm_csf \\
                --detrend --high-pass 0.01 --low-pass 0.1 --standardize zscore --out sub-01_timeseries.tsv
              fmridyn extract run.nii.gz --mask mni152 --detrend --standardize zscore --out cleaned.nii.gz
            """
    )

    @Argument(help: "The BOLD run (4-D NIfTI).")
    var bold: String

    @Option(help: "Atlas: a bundled name, a label image or a coordinate TSV. Omit for voxel mode.")
    var atlas: String?

    @Option(help: "Output: .tsv for regions; .nii/.nii.gz (cleaned image) or .npy (volumes x voxels) in voxel mode.")
    var out: String

    @Option(help: "Mask image, or epi|background|mni152|mni152gm.")
    var mask: String?

    @Option(help: "Region reduction: mean, median, sum, min, max, std.")
    var strategy: String = "mean"

    @Option(help: "Sphere radius in mm for coordinate atlases.")
    var radius: Double = 5

    @Flag(help: "Allow spheres of a coordinate atlas to overlap.")
    var allowOverlap = false

    @Option(help: "An fMRIPrep desc-confounds_timeseries.tsv of this run.")
    var confounds: String?

    @Option(help: "Confound columns to regress out, comma-separated.")
    var confoundColumns: String?

    @Option(help: "Confound presets, comma-separated: motion6, motion24, wm_csf, global, compcor, scrub.")
    var confoundStrategy: String?

    @Flag(help: "Remove the mean and linear trend.")
    var detrend = false

    @Option(help: "High-pass cutoff in Hz.")
    var highPass: Double?

    @Option(help: "Low-pass cutoff in Hz.")
    var lowPass: Double?

    @Option(help: "Filter: butterworth (default when a cutoff is given), cosine or fft.")
    var filter: String?

    @Option(help: "Standardisation: zscore, psc or none.")
    var standardize: String = "none"

    @Option(help: "Gaussian smoothing FWHM in mm, applied to each volume before extraction.")
    var smoothingFwhm: Double?

    @Option(help: "Repetition time in seconds (overrides the header).")
    var tr: Double?

    @Option(help: "Temporal mask file: one line per volume, 1 keep, 0 censor.")
    var censor: String?

    @Option(help: "Censor volumes whose framewise displacement exceeds this (mm; needs --confounds).")
    var fdThreshold: Double?

    @Option(help: "Censor volumes whose std-DVARS exceeds this (needs --confounds).")
    var dvarsThreshold: Double?

    @Option(help: "Drop this many initial volumes (default: fMRIPrep's non_steady_state_outlier columns, else 0).")
    var dropInitial: Int?

    @OptionGroup var diagnostics: DiagnosticOptions

    func validate() throws {
        guard ReductionStrategy(rawValue: strategy) != nil else {
            throw ValidationError("--strategy must be one of: \(ReductionStrategy.allCases.map(\.rawValue).joined(separator: ", ")).")
        }
        guard Standardization(rawValue: standardize) != nil else {
            throw ValidationError("--standardize must be zscore, psc or none.")
        }
        if let filter, TemporalFilter(rawValue: filter) == nil {
            throw ValidationError("--filter must be butterworth, cosine or fft.")
        }
        for preset in presetNames where ConfoundsTable.Preset(rawValue: preset) == nil {
            throw ValidationError("unknown --confound-strategy \(preset); use \(ConfoundsTable.Preset.allCases.map(\.rawValue).joined(separator: ", ")).")
        }
        if radius <= 0 { throw ValidationError("--radius must be positive.") }
        if let dropInitial, dropInitial < 0 { throw ValidationError("--drop-initial must be 0 or more.") }
        let lower = out.lowercased()
        if atlas == nil {
            guard lower.hasSuffix(".nii") || lower.hasSuffix(".nii.gz") || lower.hasSuffix(".npy") else {
                throw ValidationError("voxel mode (no --atlas) writes .nii, .nii.gz or .npy; got --out \(out).")
            }
            guard mask != nil else { throw ValidationError("voxel mode (no --atlas) needs --mask.") }
        } else if !(lower.hasSuffix(".tsv") || lower.hasSuffix(".npy")) {
            throw ValidationError("region timeseries are written as .tsv (or .npy); got --out \(out).")
        }
    }

    var presetNames: [String] { confoundStrategy.map { $0.split(separator: ",").map(String.init) } ?? [] }

    func makeRequest() throws -> ExtractionRequest {
        let regions: ExtractionRequest.Regions
        if let atlas {
            let lower = atlas.lowercased()
            if BundledAtlases.coordinateAtlases.contains(atlas) || lower.hasSuffix(".tsv") || lower.hasSuffix(".csv") {
                regions = .coordinates(atlas, radius: radius, allowOverlap: allowOverlap)
            } else {
                regions = .labels(atlas)
            }
        } else {
            regions = .voxels
        }
        var request = ExtractionRequest(bold: bold, regions: regions)
        switch mask {
        case nil: request.mask = .none
        case "epi": request.mask = .epi
        case "background": request.mask = .background
        case let path?: request.mask = .file(path)
        }
        request.strategy = ReductionStrategy(rawValue: strategy) ?? .mean
        request.smoothingFWHM = smoothingFwhm
        request.repetitionTime = tr
        request.confounds = confounds
        request.confoundColumns = confoundColumns.map { $0.split(separator: ",").map(String.init) } ?? []
        request.confoundPresets = presetNames.compactMap(ConfoundsTable.Preset.init(rawValue:))
        request.censorFile = censor
        request.framewiseDisplacementThreshold = fdThreshold
        request.dvarsThreshold = dvarsThreshold
        request.dropInitial = dropInitial
        var cleaning = CleaningOptions(detrend: detrend, highPass: highPass, lowPass: lowPass,
                                       standardize: Standardization(rawValue: standardize) ?? .none)
        cleaning.filter = filter.flatMap(TemporalFilter.init(rawValue:)) ?? ((highPass != nil || lowPass != nil) ? .butterworth : nil)
        request.cleaning = cleaning
        return request
    }

    func run() throws {
        let logger = diagnostics.makeLogger()
        let progress = ProgressReporter(label: "extract", quiet: diagnostics.quiet)
        let result = try makeRequest().run { done, total in progress.update(done, total) }
        progress.finish()
        for warning in result.warnings { logger.warning("\(warning)") }
        let lower = out.lowercased()
        if lower.hasSuffix(".tsv") {
            try OutputFiles.writeTSV(result.signals, columns: result.names, to: out)
        } else if lower.hasSuffix(".npy") {
            try OutputFiles.writeNPY(result.signals, to: out)
        } else {
            try writeCleanedImage(result)
        }
        let dropped = result.droppedInitial > 0 ? ", \(result.droppedInitial) initial volumes dropped" : ""
        logger.info("\(out): \(result.signals.timePoints) volumes x \(result.signals.columns) \(atlas == nil ? "voxels" : "regions")\(dropped)")
    }

    /// Voxel mode to NIfTI: the cleaned values back in their voxels, zeros outside the mask.
    private func writeCleanedImage(_ result: ExtractionResult) throws {
        guard let mask = result.mask else { return }
        let grid = result.grid
        let volumes = result.signals.timePoints
        var values = [Float](repeating: 0, count: grid.voxelCount * volumes)
        for (column, index) in mask.columnOrder.enumerated() {
            for t in 0..<volumes { values[t * grid.voxelCount + index] = Float(result.signals[t, column]) }
        }
        let source = try NIfTIImage(contentsOf: bold).header
        var header = NIfTIHeader.make(shape: grid.shape + [volumes], zooms: Array(source.pixdim[1...3]),
                                      affine: grid.affine, datatype: .float32, code: max(1, source.sformCode),
                                      repetitionTime: result.repetitionTime)
        header.description = "fmridyn extract"
        try NIfTIWriter.write(values, header: header, to: out)
    }
}
