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
        let volumeColumn = (0..<volumes).map(String.init)
        let timeColumn = (0..<volumes).map { String(Double($0) * tr) }
        if labels {
            let names = ConditionLabels.labels(events: events, volumes: volumes, repetitionTime: tr, shiftByHRFPeak: model)
            let text = "volume\ttime_s\tcondition\n" + (0..<volumes).map { "\(volumeColumn[$0])\t\(timeColumn[$0])\t\(names[$0])" }.joined(separator: "\n") + "\n"
            try OutputFiles.write(Data(text.utf8), to: out)
        } else {
            let design = DesignMatrix(events: events, volumes: volumes, repetitionTime: tr, hrf: model)
            try OutputFiles.writeTSV(design.regressors, columns: design.conditions, to: out,
                                     leadingColumns: [("volume", volumeColumn), ("time_s", timeColumn)])
        }
        diagnostics.makeLogger().info("\(out): \(volumes) volumes, conditions \(Set(events.map(\.condition)).sorted().joined(separator: ", "))")
    }
}
