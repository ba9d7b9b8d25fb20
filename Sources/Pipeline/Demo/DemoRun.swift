import Analysis
import Core
import Foundation
import Model
import Preprocessing
import RecoveryBenchmark
import Simulation

/// `fmridyn demo`: the whole method on simulated data. Simulates a motor-task study (BIDS,
/// with fMRIPrep-style confounds and the true latents), extracts Power-264 spheres (detrend,
/// 0.01 Hz high-pass, motion6 + global signal, z-score), fits the sequential SVAE with
/// neural-ODE dynamics, reads out latents, fixed points, decoding and maps, scores recovery
/// against the truth and writes `summary.json` and `report.html` under `out`.
public struct DemoRun: Sendable {
    public var out: String
    /// The smaller run (3 subjects x 160 volumes, 100 epochs) instead of 4 x 240, 300.
    public var quick = false
    public var seed: UInt64 = 1
    /// Overrides of the simulated subjects, volumes per run and training epochs.
    public var subjects: Int?
    public var volumes: Int?
    public var epochs: Int?

    public init(out: String) { self.out = out }

    /// What the demo found, for the summary it prints.
    public struct Outcome: Sendable {
        public var runs: Int
        public var regions: Int
        public var log: [TrainingLogRow]
        public var readouts: Readouts
        public var recovery: DemoRecovery
        /// The model's dynamics name (`node`), its key in the decoding report.
        public var modelKind: String
        public var seconds: Double

        public var bestValidationELBO: Double { log.map(\.validationELBO).max() ?? .nan }
        public func fixedPointCount(_ classification: String) -> Int { readouts.fixedPoints.filter { $0.classification == classification }.count }
        public func decoding(_ kind: String) -> DecodingReport.Method? { readouts.decoding?.methods.first { $0.kind == kind } }
    }

    /// Runs the four steps; `say` receives the progress lines.
    public func run(say: @escaping (String) -> Void) throws -> Outcome {
        let start = Date()
        var options = SimulationOptions()
        options.subjects = subjects ?? (quick ? 3 : 4)
        options.runs = 2
        options.volumes = volumes ?? (quick ? 160 : 240)
        options.grid = 4
        options.seed = seed
        let dataset = out + "/sim"
        say("1/4 simulating \(options.subjects) subjects x \(options.runs) runs into \(dataset)")
        var simulator = Simulator(options: options)
        simulator.progress = say
        _ = try simulator.run(into: dataset)

        say("2/4 extracting Power-264 region timeseries")
        let layout = try BIDSLayout(root: dataset)
        let timeseriesDirectory = out + "/timeseries"
        try OutputDirectory.create(timeseriesDirectory)
        var runs: [RunData] = []
        var dataRows: [ReportSections.DataRow] = []
        for bidsRun in layout.runs {
            var request = ExtractionRequest(bold: bidsRun.bold, regions: .coordinates("power264", radius: 6, allowOverlap: true))
            request.cleaning = CleaningOptions(detrend: true, filter: .butterworth, highPass: 0.01, standardize: .zscore)
            request.confounds = bidsRun.confounds
            request.confoundPresets = [.motion6, .global]
            let result = try request.run()
            let name = (bidsRun.bold as NSString).lastPathComponent.replacingOccurrences(of: "_bold.nii.gz", with: "_timeseries.tsv")
            try OutputFiles.writeTSV(result.signals, columns: result.names, to: timeseriesDirectory + "/" + name)
            var data = try RunData.read(timeseries: timeseriesDirectory + "/" + name, repetitionTime: options.repetitionTime, events: bidsRun.events)
            data.volumes = result.keptVolumes
            runs.append(data)
            dataRows.append(ReportSections.DataRow(run: name, repetitionTime: options.repetitionTime, kept: result.keptVolumes.count,
                                           total: options.volumes, confounds: result.confoundColumns))
        }

        say("3/4 fitting the sequential SVAE (neural ODE, rk4)")
        var model = SVAEConfiguration(observations: runs[0].timeseries.columns)
        model.latent = options.latentDimension
        model.hidden = 32
        model.window = 32
        model.stride = 8
        model.seed = seed
        var training = TrainingConfiguration()
        training.epochs = epochs ?? (quick ? 100 : 300)
        training.batchSize = 16
        training.learningRate = 5e-3
        training.klWarmupEpochs = 3
        training.patience = 20
        training.validationFraction = 0.25
        let plan = FitPlan(model: model, training: training)
        let log = try plan.train(on: try plan.dataset(runs: runs), into: ModelDirectory(out + "/model")) { line in
            if line.contains("done") { say("   " + line) }
        }.log

        say("4/4 latents, fixed points, decoding and ground-truth recovery")
        // Task capture: the condition of each task volume (labels delayed by the HRF peak, rest
        // excluded) decoded from the latents and from PCA, FastICA and all regions.
        let labels = try zip(runs, layout.runs).map { run, bidsRun -> [String]? in
            let events = try Event.read(contentsOf: bidsRun.events ?? "")
            let all = ConditionLabels.labels(events: events, volumes: options.volumes, repetitionTime: options.repetitionTime, shiftByHRFPeak: .glover)
            return run.volumes.map { all[$0] }
        }
        var readoutPlan = ReadoutPlan(model: ModelDirectory(out + "/model"), directory: out)
        readoutPlan.fixedPointStarts = 512
        readoutPlan.seed = seed
        readoutPlan.mapsAtlas = "power264"
        readoutPlan.mapsRadius = 6
        readoutPlan.modelName = "NODE latents"
        let readouts = try Readouts.compute(readoutPlan, runs: runs, labels: labels)
        let fixed = readouts.fixedPoints
        let truthFiles = layout.runs.map { dataset + "/ground_truth/" + ($0.bold as NSString).lastPathComponent.replacingOccurrences(of: "_bold.nii.gz", with: "_latents.tsv") }
        let recovery = try DemoRecovery(truthFiles: truthFiles, runs: runs, trajectories: readouts.trajectories, fixedPoints: fixed,
                                        system: LatentSystem(dimension: options.latentDimension, seed: seed))
        func count(_ kind: String) -> Int { fixed.filter { $0.classification == kind }.count }
        func decoding(_ kind: String) -> DecodingReport.Method? { readouts.decoding?.methods.first { $0.kind == kind } }
        let (nodeDecoding, pcaDecoding, icaDecoding, rawDecoding) = (decoding(model.dynamics.rawValue), decoding("pca"), decoding("ica"), decoding("raw"))
        let chance = readouts.decoding?.chance ?? .nan, decodingFolds = readouts.decoding?.folds ?? 0
        let best = log.map(\.validationELBO).max() ?? .nan
        let summary: [(String, JSONValue)] = [
            ("elbo", .number(best)),
            ("decoding", .object([("node", .number(nodeDecoding?.balancedAccuracyMean ?? .nan)), ("pca", .number(pcaDecoding?.balancedAccuracyMean ?? .nan)),
                                  ("ica", .number(icaDecoding?.balancedAccuracyMean ?? .nan)), ("ica_sd", .number(icaDecoding?.balancedAccuracySD ?? .nan)),
                                  ("raw", .number(rawDecoding?.balancedAccuracyMean ?? .nan)), ("raw_sd", .number(rawDecoding?.balancedAccuracySD ?? .nan)),
                                  ("chance", .number(chance)), ("node_sd", .number(nodeDecoding?.balancedAccuracySD ?? .nan)),
                                  ("pca_sd", .number(pcaDecoding?.balancedAccuracySD ?? .nan)), ("folds", .integer(decodingFolds))])),
            ("fixed_points", .object([("count", .integer(fixed.count)), ("stable", .integer(count("stable"))),
                                      ("unstable", .integer(count("unstable"))), ("saddle", .integer(count("saddle"))),
                                      ("true_stable", .integer(recovery.trueStable))])),
            ("recovery", .object([("latent_r2", .number(recovery.latentR2)), ("fixed_point_error", .number(recovery.fixedPointError)),
                                  ("state_r2_neural", .number(recovery.model.neural)), ("state_r2_bold", .number(recovery.model.bold)),
                                  ("pca_state_r2_neural", .number(recovery.pca.neural)), ("pca_state_r2_bold", .number(recovery.pca.bold)),
                                  ("raw_state_r2_neural", .number(recovery.regions.neural)), ("raw_state_r2_bold", .number(recovery.regions.bold)),
                                  ("fixed_point_recall", recovery.fixedPoints.recall.map { .number($0) } ?? .null),
                                  ("fixed_point_precision", recovery.fixedPoints.precision.map { .number($0) } ?? .null)])),
            ("epochs", .integer(log.count)),
            ("seconds", .number(Date().timeIntervalSince(start))),
            ("outputs", .object([("dataset", .string(dataset)), ("timeseries", .string(timeseriesDirectory)), ("model", .string(out + "/model")),
                                 ("latents", .string(out + "/latents.csv")), ("report", .string(out + "/report.html")), ("fixed_points", .string(out + "/fixed_points.json")), ("training_log", .string(out + "/model/training_log.csv"))])),
        ]
        try OutputFiles.write(Data((JSONValue.object(summary).rendered() + "\n").utf8), to: out + "/summary.json")
        let report = try readouts.report(readoutPlan, data: ReportSections.dataSummary(dataRows, settings: [
            ("Atlas", "power264 (spheres of 6 mm, overlap allowed)"), ("Detrend", "linear"), ("Filter", "Butterworth high-pass 0.01 Hz"),
            ("Confounds", "motion6, global (fMRIPrep-style derivatives of the simulator)"), ("Standardize", "z-score per run"),
            ("Simulation", "\(options.subjects) subjects x \(options.runs) runs x \(options.volumes) volumes, 4 mm grid, TR \(options.repetitionTime) s, seed \(seed)"),
        ]), methods: nil)
        try OutputFiles.write(Data(report.rendered().utf8), to: out + "/report.html")
        return Outcome(runs: runs.count, regions: model.observations, log: log, readouts: readouts, recovery: recovery,
                       modelKind: model.dynamics.rawValue, seconds: Date().timeIntervalSince(start))
    }
}
