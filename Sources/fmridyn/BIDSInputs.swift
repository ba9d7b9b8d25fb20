import ArgumentParser
import Foundation
import Model
import NIfTI
import Preprocessing

/// BIDS datasets as model inputs: runs found by `BIDSLayout`, region timeseries extracted on
/// the fly (fMRIPrep's preprocessed BOLD and confounds when `derivatives/` has them), TR from
/// the sidecars, conditions from the events files.
struct BIDSInputOptions: ParsableArguments {
    @Option(help: "BIDS: task to use.")
    var task: String?
    @Option(name: [.customLong("subjects"), .customLong("participant-label")], parsing: .upToNextOption,
            help: "BIDS: subject labels (with or without sub-; all when omitted).")
    var subjects: [String] = []
    @OptionGroup(title: "BIDS-App conventions") var conventions: BIDSAppOptions
    @Flag(help: "The input directory is in the HCP layout (SUBJECT/MNINonLinear/Results/tfMRI_TASK_{LR,RL}/, FSL EVs in EVs/); needs --task as HCP spells it (MOTOR). A .dlabel.nii --atlas reads the _Atlas.dtseries.nii grayordinates instead of the volumes.")
    var hcp = false
    @Option(help: "BIDS: atlas for on-the-fly extraction (bundled name, label image or coordinate TSV).")
    var atlas: String = "power264"
    @Option(parsing: .unconditional, help: "BIDS: sphere radius in mm for coordinate atlases.")
    var radius: Double = 5
    @Option(help: "BIDS: fMRIPrep output space to prefer.")
    var space: String?
    @Option(help: "BIDS: confound presets, comma-separated (needs fMRIPrep confounds).")
    var confoundStrategy: String?
    @Option(parsing: .unconditional, help: "BIDS: high-pass cutoff in Hz (Butterworth).")
    var highPass: Double?
    @Option(parsing: .unconditional, help: "BIDS: low-pass cutoff in Hz (Butterworth).")
    var lowPass: Double?
    @Flag(inversion: .prefixedNo, help: "BIDS: remove the mean and linear trend (on by default for BIDS inputs; --no-detrend skips it). The same flag as extract's --detrend.")
    var detrend = true
    @Flag(help: "BIDS: voxel mode, every voxel of --mask instead of atlas regions (fit reduces them with --voxel-pca).")
    var voxels = false
    @Flag(help: "With --hcp: every grayordinate of the _Atlas.dtseries.nii runs (91,282 for HCP's standard space), reduced by fit's voxel PCA (--voxel-pca) as in voxel mode; maps are written as .dscalar.nii over the same grayordinates.")
    var grayordinates = false
    @Option(help: "BIDS: mask image, or epi|background|mni152|mni152gm (voxel mode; restricts regions otherwise).")
    var mask: String?
    @Option(help: "BIDS: region reduction: mean, median, sum, min, max, std.")
    var strategy: ReductionStrategy = .mean
    @Option(help: "BIDS: confound columns to regress out, comma-separated (with or instead of presets).")
    var confoundColumns: String?
    @Option(help: "BIDS: filter: butterworth (default when a cutoff is given), cosine or fft.")
    var filter: TemporalFilter?
    @Option(help: "BIDS: standardisation of the cleaned signals: zscore (default), psc or none.")
    var standardize: Standardization = .zscore
    @Option(parsing: .unconditional, help: "BIDS: Gaussian smoothing FWHM in mm before extraction.")
    var smoothingFwhm: Double?
    @Option(help: "BIDS: censor volumes whose framewise displacement exceeds this (mm; needs fMRIPrep confounds).")
    var fdThreshold: Double?
    @Option(help: "BIDS: censor volumes whose std-DVARS exceeds this (needs fMRIPrep confounds).")
    var dvarsThreshold: Double?
    @Option(help: "BIDS: drop this many initial volumes (default: fMRIPrep's non_steady_state_outlier columns, else 0).")
    var dropInitial: Int?
    @Option(help: "BIDS: NaN or infinite voxels: error (default: the run is refused, naming region and volume), zero (set to 0, as nilearn) or drop (left out of their region).")
    var nanPolicy: NonFinitePolicy = .error

    /// Every column of the input through the voxel PCA: voxels of a mask, or grayordinates.
    var columnMode: Bool { voxels || grayordinates }

    func validate() throws {
        if grayordinates {
            guard hcp else {
                throw ValidationError("--grayordinates reads the HCP layout's _Atlas.dtseries.nii runs: add --hcp (BIDS CIFTI runs are not read yet; extract them with `fmridyn extract RUN.dtseries.nii` first)")
            }
            guard !voxels, mask == nil, atlas == "power264" else {
                throw ValidationError("--grayordinates takes every grayordinate: leave out --voxels, --mask and --atlas (or give --atlas PARCELS.dlabel.nii without --grayordinates for parcel means)")
            }
        }
        try ExtractionOptions.check(radius: radius, dropInitial: dropInitial)
        try ExtractionOptions.check(nanPolicy: nanPolicy, smoothing: smoothingFwhm, voxels: voxels)
        try ExtractionOptions.checkNumbers(highPass: highPass, lowPass: lowPass, smoothingFwhm: smoothingFwhm, fdThreshold: fdThreshold, dvarsThreshold: dvarsThreshold)
    }

    /// Extracts every selected run of the dataset at `root`.
    func loadRuns(root: String, hrfShift: Bool = false, progress: (String) -> Void) throws -> [RunData] {
        var runs: [RunData] = []
        try forEachRun(root: root, hrfShift: hrfShift, progress: progress) { runs.append($0) }
        return runs
    }

    /// Extracts the selected runs one at a time, handing each to `body` (so a caller that keeps
    /// only what it needs holds one run's signals at a time).
    func forEachRun(root: String, hrfShift: Bool = false, only: Set<Int>? = nil, progress: (String) -> Void,
                    _ body: (RunData) throws -> Void) throws {
        let selected = try selectedRuns(root: root)
        let presets = try (confoundStrategy?.split(separator: ",").map(String.init) ?? []).map { name -> ConfoundsTable.Preset in
            guard let preset = ConfoundsTable.Preset(rawValue: name) else { throw ValidationError("unknown --confound-strategy \(name)") }
            return preset
        }
        let lower = atlas.lowercased()
        let coordinates = BundledAtlases.coordinateAtlases.contains(atlas) || lower.hasSuffix(".tsv") || lower.hasSuffix(".csv")
        for (index, run) in selected.enumerated() where only?.contains(index) ?? true {
            progress("extracting \(index + 1)/\(selected.count): \((run.bold as NSString).lastPathComponent)")
            let bold = run.preprocessedBold ?? run.bold
            var request = ExtractionRequest(bold: bold,
                                            regions: columnMode ? .voxels : coordinates ? .coordinates(atlas, radius: radius, allowOverlap: true) : .labels(atlas))
            switch mask {
            case nil: request.mask = voxels ? .file("mni152") : .none  // one mask for every run: the same voxels
            case "epi": request.mask = .epi
            case "background": request.mask = .background
            case let path?: request.mask = .file(path)
            }
            request.repetitionTime = run.repetitionTime
            request.strategy = strategy
            request.smoothingFWHM = smoothingFwhm
            request.dropInitial = dropInitial
            request.nonFinitePolicy = nanPolicy
            request.cleaning = CleaningOptions(detrend: detrend,
                                               filter: filter ?? ((highPass ?? lowPass) == nil ? nil : .butterworth),
                                               highPass: highPass, lowPass: lowPass, standardize: standardize)
            let columns = confoundColumns?.split(separator: ",").map(String.init) ?? []
            if !columns.isEmpty || fdThreshold != nil || dvarsThreshold != nil {
                guard let confounds = run.confounds else {
                    throw ValidationError("\(run.bold): --confound-columns, --fd-threshold and --dvars-threshold need fMRIPrep confounds under derivatives/, none found")
                }
                request.confounds = confounds
                request.confoundColumns = columns
                request.framewiseDisplacementThreshold = fdThreshold
                request.dvarsThreshold = dvarsThreshold
            }
            if !presets.isEmpty {
                guard let confounds = run.confounds else {
                    throw ValidationError("\(run.bold): --confound-strategy needs fMRIPrep confounds under derivatives/, none found")
                }
                request.confounds = confounds
                request.confoundPresets = presets
            }
            let result = try request.run()
            guard let tr = result.repetitionTime else { throw ValidationError("\(run.bold): no repetition time in the sidecar or header") }
            var data = RunData(timeseries: result.signals, repetitionTime: tr)
            data.subject = run.subject
            data.session = run.session ?? ""
            data.task = run.task ?? ""
            data.run = run.run ?? run.name["dir"] ?? ""
            data.source = run.bold
            data.volumes = result.keptVolumes
            data.featureNames = result.names
            if voxels, let used = result.mask { data.voxelSpace = VoxelSpace(grid: used.grid, indices: used.columnOrder) }
            if grayordinates {
                guard let brainModels = result.ciftiBrainModels else {
                    throw ValidationError("\(bold): its CIFTI XML has no brain models on dimension 1; --grayordinates needs a dense timeseries (.dtseries.nii)")
                }
                data.voxelSpace = VoxelSpace(grid: result.grid, indices: Array(0..<result.names.count), brainModels: brainModels)
            }
            if run.events != nil || run.eventFolder != nil {
                let duration = Double(result.runVolumes) * tr
                data.events = try run.events.map { try Event.read(contentsOf: $0, runDuration: duration) }
                    ?? Event.readFSL(folder: run.eventFolder ?? "", runDuration: duration)
                if let warning = Event.lateEventsWarning(path: run.events ?? run.eventFolder ?? run.bold, runDuration: duration, events: data.events ?? []) {
                    WarningsOnce.warn(warning)
                }
                let labels = ConditionLabels.labels(events: data.events ?? [], volumes: (result.keptVolumes.last ?? 0) + 1,
                                                    repetitionTime: tr, shiftByHRFPeak: hrfShift ? .glover : nil)
                data.conditions = result.keptVolumes.map { labels[$0] }
            }
            try body(data)
        }
    }
}

extension BIDSInputOptions {
    /// The BOLD runs the options select, in the order `forEachRun` extracts them.
    func selectedRuns(root: String) throws -> [BIDSRun] {
        if hcp {
            guard let task else { throw ValidationError("--hcp needs --task, as HCP names it (MOTOR, WM, RELATIONAL, ...)") }
            let runs = try HCPLayout.runs(root: root, task: task, subjects: subjects, grayordinates: grayordinates || CIFTIImage.isCIFTI(atlas))
            guard let filter = try conventions.filter() else { return runs }
            return runs.filter(filter.accepts)
        }
        let layout = try BIDSLayout(root: root, derivatives: conventions.derivativeRoots, space: space)
        let selected = try conventions.select(layout.runs(subjects: subjects, tasks: task.map { [$0] }), root: root)
        guard !selected.isEmpty else {
            throw ValidationError("\(root): no BOLD runs match (task \(task ?? "any"), subjects \(subjects.isEmpty ? "all" : subjects.joined(separator: " ")))")
        }
        return selected
    }
}
