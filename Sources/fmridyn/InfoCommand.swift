import ArgumentParser
import Foundation
import Pipeline

/// `fmridyn info FILE`: what a NIfTI image holds, for people or (with `--json`) for scripts.
struct Info: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Summarise a NIfTI image's header (and optionally its values).",
        discussion: """
            The affine is chosen as nibabel does: sform when sform_code > 0, else qform when \
            qform_code > 0, else the pixdim-scaled base affine. --stats reads every voxel (one \
            volume at a time) and accumulates in Float64.

            JSON keys: nifti_version, shape, zooms, datatype_code, datatype, scl_slope, \
            scl_inter (null when no scaling applies), qform_code, sform_code, affine, \
            tr_seconds (null for 3-D), xyzt_units; with --stats also stats {min, max, mean, \
            sum, non_finite}. CIFTI-2 files (.dtseries.nii, .dscalar.nii, .dlabel.nii) add \
            cifti {rows, columns, dimension0, brain_models [{structure, type, offset, count}], \
            series_step_seconds, map_names}, and tr_seconds is the series step. docs/nifti.md \
            describes each.

            Examples:
              fmridyn info sub-01_task-motor_run-1_bold.nii.gz
              fmridyn info --json --stats anatomical.nii | jq .stats.mean
              fmridyn info tfMRI_MOTOR_LR_Atlas.dtseries.nii
            """
    )

    @Argument(help: "A NIfTI image: .nii, .nii.gz, or .hdr/.img; or a CIFTI-2 file (.dtseries.nii, .dscalar.nii, .dlabel.nii).")
    var file: String

    @Flag(help: "Print one JSON object instead of the summary.")
    var json = false

    @Flag(help: "Also compute min, max, mean and sum of the scaled voxel values.")
    var stats = false

    @OptionGroup var diagnostics: DiagnosticOptions

    func run() throws {
        let summary = try ImageSummary(path: file, statistics: stats)
        let logger = diagnostics.makeLogger()
        for warning in summary.warnings { logger.warning("\(warning)") }
        print(json ? summary.json.rendered() : summary.text)
    }
}
