import ArgumentParser
import Pipeline
import RecoveryBenchmark

/// `fit --start wells` and its settings (docs/recovery.md, sixth and seventh rounds).
struct WellsStartOptions: ParsableArguments {
    @Option(help: "random, or wells: attractors placed first at the modes of a field-free neural path of the training runs, the field pretrained to flow into them (the recovery benchmark's node-wells; needs --observation hrf --external-inputs --inference initial; one window per run).")
    var start: ModelStart = .random
    @Option(help: "--start wells: Gaussian mixture components (candidate wells).")
    var wellsComponents = 8
    @Option(help: "--start wells: first-difference penalty of the deconvolution that gives the field-free path (standardised units).")
    var wellsSmoothing = 0.3
    @Option(help: "--start wells: raise the responsibilities' temperature until the starting flow pulls neighbouring states apart at most this fast, per second (node-wells-soft: 1; default: temperature 1).")
    var wellsExpansion: Double?
    @Option(help: "--start wells: place the wells at the path's means over rest volumes at least this many seconds after each condition's blocks (one well per condition) instead of at the mixture's means; --wells-components is then not used. Needs rest between blocks.")
    var wellsRestSettle: Double?

    /// Checks the start against the model settings it needs.
    func validate(options: FitOptions, externalInputs: Bool, sparse: Bool) throws {
        guard start == .wells else { return }
        try NumericOptions.count("--wells-components", wellsComponents, 1...64, why: "each component is a candidate well of the mixture")
        try NumericOptions.nonNegative("--wells-smoothing", wellsSmoothing)
        if let wellsExpansion { try NumericOptions.positive("--wells-expansion", wellsExpansion, unit: "per second") }
        if let wellsRestSettle { try NumericOptions.positive("--wells-rest-settle", wellsRestSettle, unit: "seconds") }
        var missing: [String] = []
        if options.observation != .hrf { missing.append("--observation hrf") }
        if !externalInputs { missing.append("--external-inputs") }
        if options.inference != .initial { missing.append("--inference initial") }
        if options.dynamics != .node { missing.append("--dynamics node") }
        if options.decoder != .linear { missing.append("--decoder linear") }
        if !missing.isEmpty {
            throw ValidationError("--start wells places attractors in a neural-level model driven by the task and fitted by whole-run rollouts; add \(missing.joined(separator: " ")).")
        }
        if sparse { throw ValidationError("--start wells starts from a dense pretrained model; drop --sparsity.") }
    }

    /// The start `fit` hands the pipeline (nil: random).
    var wellsStart: WellsStart? {
        guard start == .wells else { return nil }
        var settings = WellsInitialisation.Options(components: wellsComponents)
        settings.smoothing = wellsSmoothing
        settings.expansionLimit = wellsExpansion
        settings.restSettle = wellsRestSettle
        return WellsStart(options: settings)
    }
}
