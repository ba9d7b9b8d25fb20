import ArgumentParser
import Foundation
import Preprocessing

/// `fmridyn events`: task regressors or per-volume condition labels from a BIDS events file.
struct Events: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Turn a BIDS events.tsv into per-volume regressors or condition labels.",
        discussion: """
            Without --labels: one column per condition (sorted), the events convolved with the \
            HRF and sampled at the frame times t * TR, as nilearn's make_first_level_design_matrix \
            (no drift terms). With --labels: the condition whose boxcar exceeds 0.5 at each \
            volume, else rest (--hrf shifts the events by that HRF's peak time).
            Output columns: volume, time_s, then the conditions (or condition).

            Examples:
              fmridyn events sub-01_task-motor_events.tsv --tr 0.72 --volumes 284 --hrf glover --out design.tsv
              fmridyn events sub-01_task-motor_events.tsv --tr 0.72 --volumes 284 --labels --hrf glover --out labels.tsv
            """
    )

    @Argument(help: "A BIDS events.tsv (onset, duration, trial_type[, modulation]).")
    var eventsFile: String

    @Option(help: "Repetition time in seconds.")
    var tr: Double

    @Option(help: "Number of volumes in the run.")
    var volumes: Int

    @Option(help: "HRF: glover, spm or none (default: glover for regressors, none for --labels).")
    var hrf: String?

    @Flag(help: "Write per-volume condition labels instead of regressors.")
    var labels = false

    @Option(help: "Output TSV.")
    var out: String

    @OptionGroup var diagnostics: DiagnosticOptions

    func validate() throws {
        try NumericOptions.count("--volumes", volumes, 1...1_000_000, why: "the design matrix holds a row per volume")
        guard tr > 0, tr.isFinite else { throw ValidationError("--tr must be a positive number of seconds.") }
        guard volumes > 0 else { throw ValidationError("--volumes must be positive.") }
        if let hrf, hrf != "none", HemodynamicResponse(rawValue: hrf) == nil {
            throw ValidationError("--hrf must be glover, spm or none.")
        }
    }

    func run() throws {
        let events = try Event.read(contentsOf: eventsFile)
        let model = HemodynamicResponse(rawValue: hrf ?? (labels ? "none" : "glover"))
        if labels {
            try EventTables.writeLabels(events, volumes: volumes, repetitionTime: tr, shiftByHRFPeak: model, to: out)
        } else {
            try EventTables.writeDesign(events, volumes: volumes, repetitionTime: tr, hrf: model, to: out)
        }
        diagnostics.makeLogger().info("\(out): \(volumes) volumes, conditions \(Set(events.map(\.condition)).sorted().joined(separator: ", "))")
    }
}
