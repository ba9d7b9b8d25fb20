import Foundation
import Model
import Preprocessing

/// The BIDS App's group level: one model fitted to every selected participant-level output
/// (or an interrupted fit finished; a finished one reused while its settings, split and inputs
/// hold), then latents, fixed points, decoding, maps, the methods text and the report in
/// OUTPUT_DIR/group, and each run's latents beside its participant outputs. Both steps are
/// skipped when their outputs are newer than their inputs and were made with these settings.
public struct BIDSGroupLevel: Sendable {
    public var outputDir: String
    /// Where the model trains (its checkpoints stay there); nil trains in OUTPUT_DIR/models.
    public var workDir: String?
    /// The atlas's name (recorded in the settings, and the maps' regions).
    public var atlas: String
    public var mapsRadius: Double
    public var folds: Int
    /// Refit and redo every read-out.
    public var force = false

    public init(outputDir: String, workDir: String?, atlas: String, mapsRadius: Double, folds: Int) {
        self.outputDir = outputDir
        self.workDir = workDir
        self.atlas = atlas
        self.mapsRadius = mapsRadius
        self.folds = folds
    }

    /// What the group level did.
    public struct Outcome: Sendable {
        /// The read-outs were up to date and were not redone.
        public var upToDate: Bool
        /// The decoding comparison as a table for the terminal (nil without decoding).
        public var decodingTable: String?
        public var fixedPoints: Int
        public var decoding: Bool
    }

    /// Runs the group level on `derivatives` with this model; `say` receives progress lines and
    /// `warn` the decoding's warnings.
    public func run(_ derivatives: [BIDSDerivativeRun], model: SVAEConfiguration, training: TrainingConfiguration, testFraction: Double,
                    say: @escaping (String) -> Void, warn: (String) -> Void) throws -> Outcome {
        guard !derivatives.isEmpty else {
            throw PipelineError("\(outputDir): no participant-level outputs for this `atlas`; run the participant level first with the same `atlas`", kind: .input)
        }
        let runs = derivatives.map(\.data)
        let subjects = Set(runs.map(\.subject))
        say("group: \(runs.count) runs of \(subjects.count) subjects, \(runs[0].timeseries.columns) regions")
        let models = outputDir + "/models", group = outputDir + "/group"
        let groupLock = try OutputClaim.lock(group, purpose: "bids group")
        defer { groupLock.release() }

        // Fit (or finish an interrupted fit); --force starts over.
        if force {
            try? FileManager.default.removeItem(atPath: models)
            if let workDir { try? FileManager.default.removeItem(atPath: workDir + "/models") }
        }
        let plan = FitPlan(model: model, training: training, testFraction: testFraction)
        let data = try plan.dataset(runs: runs)
        let newestInput = derivatives.compactMap { (try? FileManager.default.attributesOfItem(atPath: $0.timeseries))?[.modificationDate] as? Date }.max()
        let modelFiles = ModelDirectory(models)
        let configPath = modelFiles.configuration
        if let made = (try? FileManager.default.attributesOfItem(atPath: configPath))?[.modificationDate] as? Date, let newestInput, newestInput > made {
            say("group: participant outputs changed since the model was fitted; refitting")
            try FileManager.default.removeItem(atPath: models)
            if let workDir { try? FileManager.default.removeItem(atPath: workDir + "/models") }
        }
        try fitModel(plan, data: data, published: modelFiles, say: say)

        // The read-outs are up to date when made with these settings after the model and the inputs.
        let readoutSettings: [(String, JSONValue)] = [("Atlas", .string(atlas)), ("Folds", .integer(folds)),
                                                      ("Runs", .array(derivatives.map { .string($0.timeseries) })),
                                                      ("Model", .string((try? String(contentsOfFile: configPath, encoding: .utf8)) ?? ""))]
        let readoutFiles = [group + "/latents.csv", group + "/fixed_points.json", group + "/report.html", group + "/methods.md", group + "/settings.json"]
        let readoutInputs = [modelFiles.weights, configPath] + derivatives.flatMap { [$0.timeseries, $0.stem + "_timeseries.json"] }
        if !force, BIDSParticipantLevel.isUpToDate(sidecar: group + "/settings.json", settings: readoutSettings, outputs: readoutFiles, inputs: readoutInputs) {
            say("group: latents, fixed points, decoding and report are up to date, skipped (`force` redoes them)")
            return Outcome(upToDate: true, decodingTable: nil, fixedPoints: 0, decoding: false)
        }

        var readoutPlan = ReadoutPlan(model: modelFiles, directory: group)
        readoutPlan.seed = model.seed
        readoutPlan.folds = folds
        readoutPlan.mapsAtlas = atlas
        readoutPlan.mapsRadius = mapsRadius
        let readouts = try Readouts.compute(readoutPlan, runs: runs, labels: derivatives.map(\.hrfConditions))
        if let skipped = readouts.decodingSkipped { warn("decoding skipped: \(skipped)") }
        for warning in readouts.decoding?.warnings ?? [] { warn("decoding: \(warning)") }

        // Per-run latents beside the participant outputs.
        for (derivative, trajectory) in zip(derivatives, readouts.trajectories) {
            try derivative.writeLatents(trajectory, latent: model.latent, dynamics: model.dynamics.rawValue, outputDir: outputDir)
        }

        let methods = MethodsText.render(description: try modelFiles.description(), settings: derivatives[0].sidecar.settings, runs: runs.count,
                                         subjects: subjects.count, atlas: atlas, repetitionTime: runs[0].repetitionTime, decoding: readouts.decoding != nil)
        let report = try readouts.report(readoutPlan, data: Self.dataSummary(derivatives), methods: methods)
        try OutputFiles.write(Data(report.rendered().utf8), to: group + "/report.html")
        try OutputFiles.write(Data(methods.utf8), to: group + "/methods.md")
        try OutputFiles.write(Data((JSONValue.object([("Settings", .object(readoutSettings))]).rendered() + "\n").utf8), to: group + "/settings.json")
        return Outcome(upToDate: false, decodingTable: readouts.decodingTable, fixedPoints: readouts.fixedPoints.count, decoding: readouts.decoding != nil)
    }

    /// Fits (or finishes) the group model. Without a work folder it trains in OUTPUT_DIR/models;
    /// with one, in WORK_DIR/models, and copies the finished model's files into OUTPUT_DIR/models
    /// (each atomically; no checkpoint there). A published model whose recorded settings and
    /// split match is reused when the work folder is gone (scratch disks are wiped).
    func fitModel(_ plan: FitPlan, data: WindowDataset, published: ModelDirectory, say: @escaping (String) -> Void) throws {
        let training = workDir.map { ModelDirectory($0 + "/models") } ?? published
        if workDir != nil, !training.holdsModel, let existing = try? published.description(),
           existing.model == plan.model, existing.training == plan.training, existing.split == data.splitDescription {
            say("group: \(published.path) holds a finished model with these settings and split; reused (`force` refits)")
            return
        }
        if let workDir { try WorkFolder.prepare(workDir) }
        do {
            _ = try plan.train(on: data, into: training, resume: training.holdsModel) { line in say("group: " + line) }
        } catch let error as TrainingError where error.reason == .settingsChanged || error.reason == .inputsChanged {
            throw TrainingError("\(training.path) was fitted with other settings or inputs; pass `force` to refit with these")
        }
        guard training != published else { return }
        try training.publish(to: published)
        say("group: the finished model is published in \(published.path) (checkpoints stay in \(training.path))")
    }

    /// Inputs, TR, volumes kept and censored, and the cleaning settings, from the sidecars.
    static func dataSummary(_ derivatives: [BIDSDerivativeRun]) -> String {
        let rows = derivatives.map { derivative in
            ReportSections.DataRow(run: (derivative.timeseries as NSString).lastPathComponent, repetitionTime: derivative.data.repetitionTime,
                                   kept: derivative.sidecar.keptVolumes.count, total: (derivative.sidecar.keptVolumes.last ?? -1) + 1,
                                   confounds: derivative.sidecar.confoundsRegressed)
        }
        return ReportSections.dataSummary(rows, settings: derivatives.last?.sidecar.displayedSettings ?? [])
    }
}
