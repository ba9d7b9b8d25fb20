import Foundation
import Preprocessing

/// Which BOLD runs of a dataset a command reads: a BIDS directory (optionally with fMRIPrep
/// derivatives) or the HCP layout, narrowed by subjects, sessions, task, run labels and a
/// BIDS filter file (fMRIPrep's `--bids-filter-file` format).
public struct BIDSRunSelection: Sendable, Equatable {
    /// The task label (required for the HCP layout, which spells it as HCP does: `MOTOR`).
    public var task: String?
    /// Subject labels, with or without `sub-`; empty for all.
    public var subjects: [String] = []
    /// Session labels, with or without `ses-`; empty for all.
    public var sessions: [String] = []
    /// Run labels; empty for all.
    public var runs: [String] = []
    /// A JSON file selecting runs by entity.
    public var filterFile: String?
    /// Folders with fMRIPrep outputs; nil for every folder under `derivatives/`.
    public var derivatives: [String]?
    /// Whether to skip the check that the root is a BIDS dataset.
    public var skipValidation = false
    /// The fMRIPrep output space to prefer.
    public var space: String?
    /// The root is in the HCP layout (`SUBJECT/MNINonLinear/Results/tfMRI_TASK_{LR,RL}/`).
    public var hcp = false
    /// HCP: the runs are the `_Atlas.dtseries.nii` grayordinate files instead of the volumes
    /// (for grayordinate mode and for `.dlabel.nii` parcellations).
    public var grayordinates = false

    public init() {}

    /// The filter file's query, when one was given.
    public func filter() throws -> BIDSFilter? {
        try filterFile.map { try BIDSFilter(contentsOf: $0) }
    }

    /// The selected runs of the dataset at `root`, in a stable order (subject, session, task,
    /// run); an error naming the selection when none matches.
    public func selectedRuns(root: String) throws -> [BIDSRun] {
        if hcp {
            guard let task else { throw PipelineError("`hcp` needs `task`, as HCP names it (MOTOR, WM, RELATIONAL, ...)") }
            let found = try HCPLayout.runs(root: root, task: task, subjects: subjects, grayordinates: grayordinates)
            guard let filter = try filter() else { return found }
            return found.filter(filter.accepts)
        }
        let layout = try BIDSLayout(root: root, derivatives: derivatives, space: space)
        if !skipValidation { try BIDSLayout.requireDataset(root) }
        var selected = layout.runs(subjects: subjects, sessions: sessions, tasks: task.map { [$0] }, runs: runs)
        if let filter = try filter() { selected = selected.filter(filter.accepts) }
        guard !selected.isEmpty else {
            var wanted = ["task \(task ?? "any")", "subjects \(subjects.isEmpty ? "all" : subjects.joined(separator: " "))"]
            if !sessions.isEmpty { wanted.append("sessions \(sessions.joined(separator: " "))") }
            if !runs.isEmpty { wanted.append("runs \(runs.joined(separator: " "))") }
            if filterFile != nil { wanted.append("`bidsFilterFile`") }
            throw PipelineError("\(root): no BOLD runs match (\(wanted.joined(separator: ", ")))")
        }
        return selected
    }
}
