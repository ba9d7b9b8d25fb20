import ArgumentParser
import Foundation
import Pipeline
import Preprocessing

/// Region definition and cleaning options shared by `extract` and `bids` (nilearn's masker and
/// `signal.clean` settings). Nothing is cleaned unless asked.
struct ExtractionOptions: ParsableArguments, ExtractionFlags {
    @Option(help: "Atlas: a bundled name, a label image or a coordinate TSV. Omit for voxel mode.")
    var atlas: String?

    @Option(help: "Mask image, or epi|background|mni152|mni152gm.")
    var mask: String?

    @Option(help: "Region reduction: mean, median, sum, min, max, std.")
    var strategy: ReductionStrategy = .mean

    @Option(parsing: .unconditional, help: "Sphere radius in mm for coordinate atlases.")
    var radius: Double = 5

    @Flag(help: "Allow spheres of a coordinate atlas to overlap.")
    var allowOverlap = false

    @Option(help: "Confound columns to regress out, comma-separated.")
    var confoundColumns: String?

    @Option(help: "Confound presets, comma-separated: motion6, motion24, wm_csf, global, compcor, scrub.")
    var confoundStrategy: String?

    @Flag(help: "Remove the mean and linear trend.")
    var detrend = false

    @Option(parsing: .unconditional, help: "High-pass cutoff in Hz.")
    var highPass: Double?

    @Option(parsing: .unconditional, help: "Low-pass cutoff in Hz.")
    var lowPass: Double?

    @Option(help: "Filter: butterworth (default when a cutoff is given), cosine or fft.")
    var filter: TemporalFilter?

    @Option(help: "Standardisation: zscore, psc or none.")
    var standardize: Standardization = .none

    @Option(parsing: .unconditional, help: "Gaussian smoothing FWHM in mm, applied to each volume before extraction.")
    var smoothingFwhm: Double?

    @Option(help: "Censor volumes whose framewise displacement exceeds this (mm; needs confounds).")
    var fdThreshold: Double?

    @Option(help: "Censor volumes whose std-DVARS exceeds this (needs confounds).")
    var dvarsThreshold: Double?

    @Option(help: "NaN or infinite voxels: zero (default: set to 0 with a warning, as nilearn), drop (left out of their region's reduction) or error.")
    var nanPolicy: NonFinitePolicy = .zero

    @Option(help: "Drop this many initial volumes (default: fMRIPrep's non_steady_state_outlier columns, else 0).")
    var dropInitial: Int?

    func validate() throws {
        try checkExtraction(voxels: atlas == nil)
    }

    var atlasSetting: String? { atlas }

    /// The checks shared with the BIDS model inputs, which take the same flags with model defaults.
    static func check(radius: Double, dropInitial: Int?) throws {
        try NumericOptions.positive("--radius", radius, unit: "mm")
        if let dropInitial, dropInitial < 0 { throw ValidationError("--drop-initial must be 0 or more.") }
    }

    /// --nan-policy: a known policy, and drop only for regions without smoothing.
    static func check(nanPolicy policy: NonFinitePolicy, smoothing: Double?, voxels: Bool) throws {
        if policy == .drop && smoothing != nil { throw ValidationError("--nan-policy drop cannot be combined with --smoothing-fwhm (the kernel spreads a NaN); use zero.") }
        if policy == .drop && voxels { throw ValidationError("--nan-policy drop needs regions (--atlas); in voxel mode use zero or error.") }
    }

    /// Cutoffs, smoothing and censoring thresholds: finite and in range (shared with BIDS inputs).
    static func checkNumbers(highPass: Double?, lowPass: Double?, smoothingFwhm: Double?, fdThreshold: Double?, dvarsThreshold: Double?) throws {
        try NumericOptions.positive("--high-pass", highPass, unit: "Hz")
        try NumericOptions.positive("--low-pass", lowPass, unit: "Hz")
        try NumericOptions.within("--smoothing-fwhm", smoothingFwhm, 0...ExtractionRequest.maximumSmoothingFWHM, unit: "mm")
        try NumericOptions.positive("--fd-threshold", fdThreshold, unit: "mm")
        try NumericOptions.positive("--dvars-threshold", dvarsThreshold)
    }

    /// The options as the pipeline takes them.
    var settings: ExtractionSettings {
        var settings = cleaningSettings
        settings.allowOverlap = allowOverlap
        return settings
    }

    /// Whether any option needs a confounds table.
    var needsConfounds: Bool { settings.needsConfounds }

    /// The request for one run.
    func makeRequest(bold: String, confounds: String?, repetitionTime: Double?) throws -> ExtractionRequest {
        try settings.request(bold: bold, confounds: confounds, repetitionTime: repetitionTime)
    }
}

/// The extraction flags `extract`/`bids` (`ExtractionOptions`) and the BIDS model inputs
/// (`BIDSInputOptions`) share, spelled alike; their defaults differ (models get z-scored,
/// detrended signals).
protocol ExtractionFlags {
    /// The atlas as the pipeline takes it (nil: voxel mode).
    var atlasSetting: String? { get }
    var mask: String? { get }
    var strategy: ReductionStrategy { get }
    var radius: Double { get }
    var confoundColumns: String? { get }
    var confoundStrategy: String? { get }
    var detrend: Bool { get }
    var highPass: Double? { get }
    var lowPass: Double? { get }
    var filter: TemporalFilter? { get }
    var standardize: Standardization { get }
    var smoothingFwhm: Double? { get }
    var fdThreshold: Double? { get }
    var dvarsThreshold: Double? { get }
    var nanPolicy: NonFinitePolicy { get }
    var dropInitial: Int? { get }
}

extension ExtractionFlags {
    /// The flags as the pipeline takes them (coordinate spheres may not overlap).
    var cleaningSettings: ExtractionSettings {
        func list(_ value: String?) -> [String] { value?.split(separator: ",").map(String.init) ?? [] }
        var settings = ExtractionSettings()
        settings.atlas = atlasSetting
        settings.mask = mask
        settings.strategy = strategy
        settings.radius = radius
        settings.confoundColumns = list(confoundColumns)
        settings.confoundStrategy = list(confoundStrategy)
        settings.detrend = detrend
        settings.highPass = highPass
        settings.lowPass = lowPass
        settings.filter = filter
        settings.standardize = standardize
        settings.smoothingFWHM = smoothingFwhm
        settings.fdThreshold = fdThreshold
        settings.dvarsThreshold = dvarsThreshold
        settings.nonFinitePolicy = nanPolicy
        settings.dropInitial = dropInitial
        return settings
    }

    /// The flags' ranges, the NaN policy against smoothing and voxel mode, known presets.
    func checkExtraction(voxels: Bool) throws {
        try ExtractionOptions.check(radius: radius, dropInitial: dropInitial)
        try ExtractionOptions.checkNumbers(highPass: highPass, lowPass: lowPass, smoothingFwhm: smoothingFwhm, fdThreshold: fdThreshold, dvarsThreshold: dvarsThreshold)
        try ExtractionOptions.check(nanPolicy: nanPolicy, smoothing: smoothingFwhm, voxels: voxels)
        do { try cleaningSettings.checkPresets() } catch let error as PipelineError { throw ValidationError(error.message) }
    }
}
