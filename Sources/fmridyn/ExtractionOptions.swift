import ArgumentParser
import Foundation
import Preprocessing

/// Region definition and cleaning options shared by `extract` and `bids` (nilearn's masker and
/// `signal.clean` settings). Nothing is cleaned unless asked.
struct ExtractionOptions: ParsableArguments {
    @Option(help: "Atlas: a bundled name, a label image or a coordinate TSV. Omit for voxel mode.")
    var atlas: String?

    @Option(help: "Mask image, or epi|background|mni152|mni152gm.")
    var mask: String?

    @Option(help: "Region reduction: mean, median, sum, min, max, std.")
    var strategy: String = "mean"

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
    var filter: String?

    @Option(help: "Standardisation: zscore, psc or none.")
    var standardize: String = "none"

    @Option(parsing: .unconditional, help: "Gaussian smoothing FWHM in mm, applied to each volume before extraction.")
    var smoothingFwhm: Double?

    @Option(help: "Censor volumes whose framewise displacement exceeds this (mm; needs confounds).")
    var fdThreshold: Double?

    @Option(help: "Censor volumes whose std-DVARS exceeds this (needs confounds).")
    var dvarsThreshold: Double?

    @Option(help: "NaN or infinite voxels: zero (default: set to 0 with a warning, as nilearn), drop (left out of their region's reduction) or error.")
    var nanPolicy: String = "zero"

    @Option(help: "Drop this many initial volumes (default: fMRIPrep's non_steady_state_outlier columns, else 0).")
    var dropInitial: Int?

    func validate() throws {
        try Self.check(strategy: strategy, standardize: standardize, filter: filter, radius: radius, dropInitial: dropInitial)
        try Self.checkNumbers(highPass: highPass, lowPass: lowPass, smoothingFwhm: smoothingFwhm, fdThreshold: fdThreshold, dvarsThreshold: dvarsThreshold)
        try Self.check(nanPolicy: nanPolicy, smoothing: smoothingFwhm, voxels: atlas == nil)
        for preset in presetNames where ConfoundsTable.Preset(rawValue: preset) == nil {
            throw ValidationError("unknown --confound-strategy \(preset); use \(ConfoundsTable.Preset.allCases.map(\.rawValue).joined(separator: ", ")).")
        }
    }

    /// The checks shared with the BIDS model inputs, which take the same flags with model defaults.
    static func check(strategy: String, standardize: String, filter: String?, radius: Double, dropInitial: Int?) throws {
        guard ReductionStrategy(rawValue: strategy) != nil else {
            throw ValidationError("--strategy must be one of: \(ReductionStrategy.allCases.map(\.rawValue).joined(separator: ", ")).")
        }
        guard Standardization(rawValue: standardize) != nil else {
            throw ValidationError("--standardize must be zscore, psc or none.")
        }
        if let filter, TemporalFilter(rawValue: filter) == nil {
            throw ValidationError("--filter must be butterworth, cosine or fft.")
        }
        try NumericOptions.positive("--radius", radius, unit: "mm")
        if let dropInitial, dropInitial < 0 { throw ValidationError("--drop-initial must be 0 or more.") }
    }

    /// --nan-policy: a known policy, and drop only for regions without smoothing.
    static func check(nanPolicy: String, smoothing: Double?, voxels: Bool) throws {
        guard let policy = NonFinitePolicy(rawValue: nanPolicy) else { throw ValidationError("--nan-policy must be error, zero or drop.") }
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

    var presetNames: [String] { confoundStrategy.map { $0.split(separator: ",").map(String.init) } ?? [] }

    /// Whether any option needs a confounds table.
    var needsConfounds: Bool { !presetNames.isEmpty || confoundColumns != nil || fdThreshold != nil || dvarsThreshold != nil }

    /// The request for one run.
    func makeRequest(bold: String, confounds: String?, repetitionTime: Double?) -> ExtractionRequest {
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
        request.repetitionTime = repetitionTime
        request.confounds = confounds
        request.confoundColumns = confoundColumns.map { $0.split(separator: ",").map(String.init) } ?? []
        request.confoundPresets = presetNames.compactMap(ConfoundsTable.Preset.init(rawValue:))
        request.framewiseDisplacementThreshold = fdThreshold
        request.dvarsThreshold = dvarsThreshold
        request.dropInitial = dropInitial
        request.nonFinitePolicy = NonFinitePolicy(rawValue: nanPolicy) ?? .zero
        var cleaning = CleaningOptions(detrend: detrend, highPass: highPass, lowPass: lowPass,
                                       standardize: Standardization(rawValue: standardize) ?? .none)
        cleaning.filter = filter.flatMap(TemporalFilter.init(rawValue:)) ?? ((highPass != nil || lowPass != nil) ? .butterworth : nil)
        request.cleaning = cleaning
        return request
    }

    /// The settings as JSON (BIDS-style keys) for derivative sidecars and up-to-date checks.
    var sidecar: [(String, JSONValue)] {
        func optional(_ value: Double?) -> JSONValue { value.map { .number($0) } ?? .null }
        return [
            ("Atlas", atlas.map { .string($0) } ?? .null), ("Radius", .number(radius)), ("AllowOverlap", .bool(allowOverlap)),
            ("Mask", mask.map { .string($0) } ?? .null), ("Strategy", .string(strategy)),
            ("Detrend", .bool(detrend)), ("HighPass", optional(highPass)), ("LowPass", optional(lowPass)),
            ("Filter", filter.map { .string($0) } ?? ((highPass ?? lowPass) != nil ? .string("butterworth") : .null)),
            ("Standardize", .string(standardize)), ("SmoothingFWHM", optional(smoothingFwhm)),
            ("ConfoundStrategy", .array(presetNames.map { .string($0) })),
            ("ConfoundColumns", .array((confoundColumns?.split(separator: ",").map(String.init) ?? []).map { .string($0) })),
            ("FramewiseDisplacementThreshold", optional(fdThreshold)), ("DVARSThreshold", optional(dvarsThreshold)),
            ("DropInitial", dropInitial.map { .integer($0) } ?? .null),
        ]
    }
}
