import ArgumentParser
import Foundation
import NIfTI
import Pipeline
import Preprocessing

/// BIDS datasets as model inputs: runs found by `BIDSLayout`, region timeseries extracted on
/// the fly (fMRIPrep's preprocessed BOLD and confounds when `derivatives/` has them), TR from
/// the sidecars, conditions from the events files.
struct BIDSInputOptions: ParsableArguments, ExtractionFlags {
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
        try checkExtraction(voxels: voxels)
    }

    /// The runs these options select.
    var selection: BIDSRunSelection {
        var selection = conventions.selection
        selection.task = task
        selection.subjects = subjects
        selection.space = space
        selection.hcp = hcp
        selection.grayordinates = grayordinates || CIFTIImage.isCIFTI(atlas)
        return selection
    }

    /// How each run is extracted (a coordinate atlas's spheres may overlap, as in `bids`).
    var atlasSetting: String? { atlas }

    var extraction: ExtractionSettings {
        var settings = cleaningSettings
        settings.allowOverlap = true
        return settings
    }

    /// The dataset at `root` as model inputs.
    func inputs(root: String, hrfShift: Bool) -> BIDSModelInputs {
        var inputs = BIDSModelInputs(root: root, selection: selection, extraction: extraction)
        inputs.columns = grayordinates ? .grayordinates : voxels ? .voxels : .regions
        inputs.hrfShift = hrfShift
        inputs.warn = WarningsOnce.warn
        return inputs
    }
}
