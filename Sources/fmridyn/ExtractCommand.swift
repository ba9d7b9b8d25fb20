import ArgumentParser
import Foundation
import NIfTI
import Pipeline
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

    @Option(help: "Output: .tsv for regions; .nii/.nii.gz (cleaned image) or .npy (volumes x voxels) in voxel mode.")
    var out: String

    @Option(help: "An fMRIPrep desc-confounds_timeseries.tsv of this run.")
    var confounds: String?

    @Option(help: "Repetition time in seconds (overrides the header).")
    var tr: Double?

    @Option(help: "Temporal mask file: one line per volume, 1 keep, 0 censor.")
    var censor: String?

    @OptionGroup var cleaning: ExtractionOptions

    @OptionGroup var diagnostics: DiagnosticOptions

    func validate() throws {
        try NumericOptions.positive("--tr", tr, unit: "seconds")
        // Writing over an input would destroy it before (or while) it is read.
        for (flag, input) in [("the BOLD run", bold), ("--confounds", confounds), ("--censor", censor), ("--mask", cleaning.mask), ("--atlas", cleaning.atlas)] {
            if let input, OutputFiles.sameFile(out, input) {
                throw ValidationError("--out \(out) is \(flag) itself; write the output to a new file.")
            }
        }
        let lower = out.lowercased()
        if CIFTIImage.isCIFTI(bold) || GIfTIImage.isGIfTI(bold) {
            // Grayordinate or vertex (no --atlas) or parcel (--atlas X.dlabel.nii / X.label.gii) columns: a table either way.
            guard lower.hasSuffix(".tsv") || lower.hasSuffix(".npy") else {
                throw ValidationError("a CIFTI or GIfTI input gives a table of parcels (--atlas X.dlabel.nii or X.label.gii) or of every grayordinate or vertex (no --atlas): --out .tsv or .npy; got --out \(out).")
            }
        } else if cleaning.atlas == nil {
            guard lower.hasSuffix(".nii") || lower.hasSuffix(".nii.gz") || lower.hasSuffix(".npy") else {
                throw ValidationError("voxel mode (no --atlas) writes .nii, .nii.gz or .npy; got --out \(out).")
            }
            guard cleaning.mask != nil else { throw ValidationError("voxel mode (no --atlas) needs --mask.") }
        } else if !(lower.hasSuffix(".tsv") || lower.hasSuffix(".npy")) {
            throw ValidationError("region timeseries are written as .tsv (or .npy); got --out \(out).")
        }
    }

    func makeRequest() throws -> ExtractionRequest {
        var request = try cleaning.makeRequest(bold: bold, confounds: confounds, repetitionTime: tr)
        request.censorFile = censor
        return request
    }

    func run() throws {
        try OutputLocation.requireWritable(file: out)
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
            try result.writeVoxelImage(to: out, like: bold)
        }
        let dropped = result.droppedInitial > 0 ? ", \(result.droppedInitial) initial volumes dropped" : ""
        logger.info("\(out): \(result.signals.timePoints) volumes x \(result.signals.columns) \(cleaning.atlas == nil ? (CIFTIImage.isCIFTI(bold) ? "grayordinates" : GIfTIImage.isGIfTI(bold) ? "vertices" : "voxels") : "regions")\(dropped)")
    }
}
