import Foundation

/// The Human Connectome Project's released layout: `HCP_DIR/SUBJECT/MNINonLinear/Results/
/// tfMRI_TASK_{LR,RL}/` holding `tfMRI_TASK_LR.nii.gz` (volume, MNI space) and
/// `tfMRI_TASK_LR_Atlas.dtseries.nii` (CIFTI grayordinates), with the task's FSL three-column
/// EV files in `EVs/` (`lf.txt`, `rh.txt`, ... : onset, duration, amplitude).
///
/// Each run is described as a BIDS run (`sub-SUBJECT_task-TASK_dir-LR_bold`), the phase-encoding
/// direction as the `dir` entity, so the rest of the pipeline treats both layouts alike; the
/// repetition time comes from the image (NIfTI pixdim[4] or the CIFTI series step).
public enum HCPLayout {
    /// The runs of `task` (case as in the folder names, e.g. MOTOR) for `subjects` (all
    /// folders with a MNINonLinear/Results when empty); `grayordinates` picks the
    /// `_Atlas.dtseries.nii` files instead of the volumes.
    public static func runs(root: String, task: String, subjects: [String] = [], grayordinates: Bool = false) throws -> [BIDSRun] {
        let manager = FileManager.default
        var isDirectory: ObjCBool = false
        guard manager.fileExists(atPath: root, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw BIDSError("\(root): no such HCP directory")
        }
        let wanted = Set(subjects.map { $0.hasPrefix("sub-") ? String($0.dropFirst(4)) : $0 })
        let candidates = ((try? manager.contentsOfDirectory(atPath: root)) ?? []).sorted()
            .filter { manager.fileExists(atPath: root + "/" + $0 + "/MNINonLinear/Results") }
        guard !candidates.isEmpty else {
            throw BIDSError("\(root) holds no HCP subject (no SUBJECT/MNINonLinear/Results); point `hcp` at the folder of subject folders")
        }
        var runs: [BIDSRun] = []
        for subject in candidates where wanted.isEmpty || wanted.contains(subject) {
            let results = root + "/" + subject + "/MNINonLinear/Results"
            for direction in ["LR", "RL"] {
                let folder = results + "/tfMRI_\(task)_\(direction)"
                guard manager.fileExists(atPath: folder) else { continue }
                let stem = folder + "/tfMRI_\(task)_\(direction)"
                let image = grayordinates ? stem + "_Atlas.dtseries.nii" : [stem + ".nii.gz", stem + ".nii"].first { manager.fileExists(atPath: $0) } ?? stem + ".nii.gz"
                guard manager.fileExists(atPath: image) else {
                    throw BIDSError("\(folder): \((image as NSString).lastPathComponent) is missing\(grayordinates ? " (grayordinates were asked for by a .dlabel.nii atlas)" : "")")
                }
                let label = subject.filter { $0.isLetter || $0.isNumber }
                let taskLabel = task.filter { $0.isLetter || $0.isNumber }.lowercased()
                guard let name = BIDSName("sub-\(label)_task-\(taskLabel)_dir-\(direction)_bold.nii.gz") else { continue }
                var run = BIDSRun(bold: image, name: name, events: nil, sidecars: [], repetitionTime: nil)
                if manager.fileExists(atPath: folder + "/EVs") { run.eventFolder = folder + "/EVs" }
                runs.append(run)
            }
        }
        guard !runs.isEmpty else {
            throw BIDSError("\(root): no tfMRI_\(task)_LR or _RL folder for \(wanted.isEmpty ? "any subject" : "subjects " + wanted.sorted().joined(separator: ", ")); check `task` (HCP spells tasks in capitals: MOTOR, WM, RELATIONAL)")
        }
        return runs
    }
}

extension Event {
    /// The events of an FSL EV folder: every `NAME.txt` three-column file (onset, duration,
    /// amplitude in seconds; whitespace-separated) is condition NAME. HCP's `Sync.txt` (scanner
    /// synchronisation, not a condition) is skipped.
    public static func readFSL(folder: String, runDuration: Double? = nil) throws -> [Event] {
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { $0.hasSuffix(".txt") && $0 != "Sync.txt" }.sorted()
        guard !files.isEmpty else { throw TableError(path: folder, "has no FSL EV files (NAME.txt with onset, duration, amplitude)") }
        var events: [Event] = []
        for file in files {
            let path = folder + "/" + file
            let condition = String(file.dropLast(4))
            let text = try String(contentsOfFile: path, encoding: .utf8)
            for (index, line) in text.split(whereSeparator: \.isNewline).enumerated() {
                let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
                if fields.isEmpty { continue }
                guard fields.count >= 2, let onset = Double(fields[0]), let duration = Double(fields[1]), onset.isFinite, duration.isFinite, duration >= 0 else {
                    throw TableError(path: path, row: index + 1, "\"\(line)\" is not an FSL three-column row (onset duration amplitude, in seconds)")
                }
                let amplitude = fields.count >= 3 ? Double(fields[2]) ?? .nan : 1
                guard amplitude.isFinite else { throw TableError(path: path, row: index + 1, "the amplitude \"\(fields[2])\" is not a number") }
                events.append(Event(onset: onset, duration: duration, condition: condition, modulation: amplitude))
            }
        }
        events.sort { ($0.onset, $0.condition) < ($1.onset, $1.condition) }
        if let runDuration, !events.isEmpty, events.allSatisfy({ $0.onset >= runDuration }) {
            throw TableError(path: folder, "every event starts after the run ends (\(runDuration) s); these EVs belong to another run")
        }
        return events
    }
}
