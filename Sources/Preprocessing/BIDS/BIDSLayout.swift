import Foundation

/// A BIDS file name parsed into entities (`sub-01_task-motor_run-1_bold.nii.gz` ->
/// sub=01, task=motor, run=1; suffix bold; extension .nii.gz).
public struct BIDSName: Equatable, Sendable {
    /// Entities in file-name order.
    public let entities: [(key: String, value: String)]
    public let suffix: String
    public let fileExtension: String

    public init?(_ fileName: String) {
        let dot = fileName.firstIndex(of: ".") ?? fileName.endIndex
        let stem = fileName[..<dot]
        fileExtension = String(fileName[dot...])
        var parts = stem.split(separator: "_").map(String.init)
        guard let last = parts.popLast(), !last.contains("-") else { return nil }
        suffix = last
        var entities: [(String, String)] = []
        for part in parts {
            let pieces = part.split(separator: "-", maxSplits: 1).map(String.init)
            guard pieces.count == 2, !pieces[0].isEmpty, !pieces[1].isEmpty else { return nil }
            entities.append((pieces[0], pieces[1]))
        }
        self.entities = entities.map { (key: $0.0, value: $0.1) }
    }

    public subscript(key: String) -> String? { entities.first { $0.key == key }?.value }

    public static func == (lhs: BIDSName, rhs: BIDSName) -> Bool {
        lhs.suffix == rhs.suffix && lhs.fileExtension == rhs.fileExtension
            && lhs.entities.map(\.key) == rhs.entities.map(\.key) && lhs.entities.map(\.value) == rhs.entities.map(\.value)
    }
}

/// One functional run of a BIDS dataset with everything fmridyn needs about it.
public struct BIDSRun: Sendable {
    public let bold: String
    public let name: BIDSName
    /// The `_events.tsv` that applies (inheritance principle), if any.
    public let events: String?
    /// `_bold.json` sidecars that apply, least specific first.
    public let sidecars: [String]
    /// RepetitionTime from the sidecars (most specific wins), if given.
    public let repetitionTime: Double?
    /// fMRIPrep outputs for this run, when a derivatives folder holds them.
    public var preprocessedBold: String?
    public var confounds: String?
    public var brainMask: String?
    /// A folder of FSL three-column EV files (HCP's `EVs/`), the run's events when there is no
    /// `_events.tsv`.
    public var eventFolder: String?

    public var subject: String { name["sub"] ?? "" }
    public var session: String? { name["ses"] }
    public var task: String? { name["task"] }
    public var run: String? { name["run"] }
}

/// Problems with a BIDS dataset.
public struct BIDSError: Error, CustomStringConvertible, Equatable, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Discovers the functional runs of a BIDS dataset:
/// `sub-*/[ses-*/]func/*_task-*[_run-*]_bold.nii[.gz]`, their events and sidecars (with the
/// inheritance principle: a file higher up, or with fewer entities, applies to every run whose
/// entities include its own), and fMRIPrep derivatives (`desc-preproc_bold`,
/// `desc-confounds_timeseries.tsv`, `desc-brain_mask`).
public struct BIDSLayout: Sendable {
    public let root: String
    public let runs: [BIDSRun]

    /// - Parameters:
    ///   - derivatives: folders to search for fMRIPrep outputs; by default every folder under
    ///     `root/derivatives`.
    ///   - space: the fMRIPrep output space to use (`space-` entity), e.g. MNI152NLin2009cAsym;
    ///     nil takes the first in name order.
    public init(root: String, derivatives: [String]? = nil, space: String? = nil) throws {
        let fileManager = FileManager.default
        var isDirectory: ObjCBool = false
        guard fileManager.fileExists(atPath: root, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw BIDSError("\(root): no such BIDS directory")
        }
        self.root = root
        let derivativeRoots = derivatives ?? ((try? fileManager.contentsOfDirectory(atPath: root + "/derivatives"))?
            .sorted().map { root + "/derivatives/" + $0 }.filter { Self.isDirectory($0) } ?? [])

        var runs: [BIDSRun] = []
        for subject in Self.children(root, prefix: "sub-") {
            let subjectPath = root + "/" + subject
            let sessions = Self.children(subjectPath, prefix: "ses-")
            let funcFolders = sessions.isEmpty ? [subjectPath + "/func"] : sessions.map { subjectPath + "/" + $0 + "/func" }
            for folder in funcFolders where Self.isDirectory(folder) {
                for file in ((try? fileManager.contentsOfDirectory(atPath: folder)) ?? []).sorted() {
                    guard let name = BIDSName(file), name.suffix == "bold", name.fileExtension == ".nii" || name.fileExtension == ".nii.gz",
                          name["sub"] != nil, name["task"] != nil else { continue }
                    let bold = folder + "/" + file
                    let inherited = Self.inherited(for: name, boldFolder: folder, root: root)
                    let events = inherited.filter { $0.1.suffix == "events" && $0.1.fileExtension == ".tsv" }.last?.0
                    let sidecars = inherited.filter { $0.1.suffix == "bold" && $0.1.fileExtension == ".json" }.map(\.0)
                    var tr: Double? = nil
                    for sidecar in sidecars {
                        if let data = fileManager.contents(atPath: sidecar),
                           let value = (try? JSONDecoder().decode(BOLDSidecar.self, from: data))?.repetitionTime {
                            tr = value
                        }
                    }
                    var run = BIDSRun(bold: bold, name: name, events: events, sidecars: sidecars, repetitionTime: tr)
                    Self.attachDerivatives(&run, roots: derivativeRoots, space: space)
                    runs.append(run)
                }
            }
        }
        self.runs = runs
    }

    /// Runs matching the filters (nil or empty: no filter). Subject labels with or without `sub-`.
    public func runs(subjects: [String]? = nil, sessions: [String]? = nil, tasks: [String]? = nil, runs runLabels: [String]? = nil) -> [BIDSRun] {
        func strip(_ label: String, _ prefix: String) -> String { label.hasPrefix(prefix) ? String(label.dropFirst(prefix.count)) : label }
        let subjectSet = subjects.map { Set($0.map { strip($0, "sub-") }) }
        let sessionSet = sessions.map { Set($0.map { strip($0, "ses-") }) }
        return runs.filter { run in
            (subjectSet?.isEmpty ?? true || subjectSet?.contains(run.subject) == true)
                && (sessionSet?.isEmpty ?? true || run.session.map { sessionSet?.contains($0) == true } == true)
                && (tasks?.isEmpty ?? true || run.task.map { tasks?.contains($0) == true } == true)
                && (runLabels?.isEmpty ?? true || run.run.map { label in runLabels?.contains { Int($0) == Int(label) || $0 == label } == true } == true)
        }
    }

    static func isDirectory(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
    }

    static func children(_ path: String, prefix: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).filter { $0.hasPrefix(prefix) && isDirectory(path + "/" + $0) }.sorted()
    }

    /// Files that apply to a run by the inheritance principle, least specific first: from the
    /// dataset root down to the run's folder; within a folder, fewer entities first.
    static func inherited(for name: BIDSName, boldFolder: String, root: String) -> [(String, BIDSName)] {
        var folders = [root]
        var relative = boldFolder.hasPrefix(root + "/") ? String(boldFolder.dropFirst(root.count + 1)) : ""
        var current = root
        while !relative.isEmpty {
            let parts = relative.split(separator: "/", maxSplits: 1).map(String.init)
            current += "/" + parts[0]
            folders.append(current)
            relative = parts.count > 1 ? parts[1] : ""
        }
        let runEntities = Dictionary(name.entities.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first })
        var found: [(String, BIDSName)] = []
        for folder in folders {
            let candidates = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).compactMap { file -> (String, BIDSName)? in
                guard let candidate = BIDSName(file), candidate.suffix == "events" || (candidate.suffix == "bold" && candidate.fileExtension == ".json"),
                      candidate.entities.allSatisfy({ runEntities[$0.key] == $0.value }) else { return nil }
                return (folder + "/" + file, candidate)
            }
            found += candidates.sorted { $0.1.entities.count < $1.1.entities.count }
        }
        return found
    }

    /// fMRIPrep files whose entities contain the run's (sub, ses, task, acq, run, ...).
    static func attachDerivatives(_ run: inout BIDSRun, roots: [String], space: String?) {
        let core = run.name.entities.filter { $0.key != "echo" }
        for root in roots {
            var folder = root + "/sub-" + run.subject
            if let session = run.session { folder += "/ses-" + session }
            folder += "/func"
            let files = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).sorted()
            for file in files {
                guard let name = BIDSName(file), core.allSatisfy({ name[$0.key] == $0.value }) else { continue }
                if let space, let fileSpace = name["space"], fileSpace != space { continue }
                let path = folder + "/" + file
                switch (name["desc"], name.suffix, name.fileExtension) {
                case ("preproc", "bold", let ext) where ext.hasPrefix(".nii"): run.preprocessedBold = run.preprocessedBold ?? path
                case ("confounds", "timeseries", ".tsv"), ("confounds", "regressors", ".tsv"): run.confounds = run.confounds ?? path
                case ("brain", "mask", let ext) where ext.hasPrefix(".nii"): run.brainMask = run.brainMask ?? path
                default: break
                }
            }
        }
    }
}

/// The field of a BOLD sidecar the layout reads (a later sidecar of the inheritance chain wins).
private struct BOLDSidecar: Decodable {
    let repetitionTime: Double?

    enum CodingKeys: String, CodingKey { case repetitionTime = "RepetitionTime" }

    init(from decoder: Decoder) throws {
        repetitionTime = try? decoder.container(keyedBy: CodingKeys.self).decodeIfPresent(Double.self, forKey: .repetitionTime)
    }
}
