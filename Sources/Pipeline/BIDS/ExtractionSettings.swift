import Preprocessing

/// What `extract` and the BIDS App's participant level do to a run: regions (atlas, or voxels
/// without one), mask, reduction, confounds and censoring, cleaning. `request` builds the
/// extraction of one run; `sidecar` records the settings with BIDS-style keys.
public struct ExtractionSettings: Sendable, Equatable {
    /// A bundled name, a label image or a coordinate TSV; nil for voxel mode.
    public var atlas: String?
    /// A mask image, or `epi` / `background` (computed from the run), or nil.
    public var mask: String?
    public var strategy: ReductionStrategy = .mean
    /// Sphere radius (mm) of a coordinate atlas.
    public var radius = 5.0
    public var allowOverlap = false
    public var confoundColumns: [String] = []
    /// Preset names (`motion6`, `wm_csf`, ...), as given.
    public var confoundStrategy: [String] = []
    public var detrend = false
    public var highPass: Double?
    public var lowPass: Double?
    /// nil: Butterworth when a cutoff is given.
    public var filter: TemporalFilter?
    public var standardize: Standardization = .none
    public var smoothingFWHM: Double?
    public var fdThreshold: Double?
    public var dvarsThreshold: Double?
    public var nonFinitePolicy: NonFinitePolicy = .zero
    public var dropInitial: Int?

    public init() {}

    /// Whether the settings need a confounds table.
    public var needsConfounds: Bool { !confoundStrategy.isEmpty || !confoundColumns.isEmpty || fdThreshold != nil || dvarsThreshold != nil }

    /// Throws unless every name of `confoundStrategy` is a known preset (what `request` checks,
    /// for callers that want to refuse bad settings before the first run).
    public func checkPresets() throws {
        _ = try presets()
    }

    /// The presets `confoundStrategy` names; throws at the first unknown name.
    func presets() throws -> [ConfoundsTable.Preset] {
        try confoundStrategy.map { name in
            guard let preset = ConfoundsTable.Preset(rawValue: name) else {
                throw PipelineError("unknown `confoundStrategy` \(name); use \(ConfoundsTable.Preset.allCases.map(\.rawValue).joined(separator: ", ")).")
            }
            return preset
        }
    }

    /// The extraction of one run. Throws for an unknown confound preset.
    public func request(bold: String, confounds: String?, repetitionTime: Double?) throws -> ExtractionRequest {
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
        request.strategy = strategy
        request.smoothingFWHM = smoothingFWHM
        request.repetitionTime = repetitionTime
        request.confounds = confounds
        request.confoundColumns = confoundColumns
        request.confoundPresets = try presets()
        request.framewiseDisplacementThreshold = fdThreshold
        request.dvarsThreshold = dvarsThreshold
        request.dropInitial = dropInitial
        request.nonFinitePolicy = nonFinitePolicy
        var cleaning = CleaningOptions(detrend: detrend, highPass: highPass, lowPass: lowPass, standardize: standardize)
        cleaning.filter = filter ?? ((highPass != nil || lowPass != nil) ? .butterworth : nil)
        request.cleaning = cleaning
        return request
    }

    /// The settings as JSON (BIDS-style keys) for derivative sidecars and up-to-date checks.
    public var sidecar: [(String, JSONValue)] {
        func optional(_ value: Double?) -> JSONValue { value.map { .number($0) } ?? .null }
        return [
            ("Atlas", atlas.map { .string($0) } ?? .null), ("Radius", .number(radius)), ("AllowOverlap", .bool(allowOverlap)),
            ("Mask", mask.map { .string($0) } ?? .null), ("Strategy", .string(strategy.rawValue)),
            ("Detrend", .bool(detrend)), ("HighPass", optional(highPass)), ("LowPass", optional(lowPass)),
            ("Filter", filter.map { .string($0.rawValue) } ?? ((highPass ?? lowPass) != nil ? .string("butterworth") : .null)),
            ("Standardize", .string(standardize.rawValue)), ("SmoothingFWHM", optional(smoothingFWHM)),
            ("ConfoundStrategy", .array(confoundStrategy.map { .string($0) })),
            ("ConfoundColumns", .array(confoundColumns.map { .string($0) })),
            ("FramewiseDisplacementThreshold", optional(fdThreshold)), ("DVARSThreshold", optional(dvarsThreshold)),
            ("DropInitial", dropInitial.map { .integer($0) } ?? .null),
        ]
    }
}
