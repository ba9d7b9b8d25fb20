import ArgumentParser
import Foundation
import Model
import Pipeline
import Preprocessing
import RecoveryBenchmark
import Simulation

/// `fmridyn demo`: the whole method on simulated data, end to end.
struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Simulate a motor-task dataset, extract, fit the NODE SVAE, export latents, score recovery.",
        discussion: """
            Steps: fmridyn simulate (4 subjects x 2 runs, 4 mm grid) -> extract Power-264 spheres \
            (detrend, 0.01 Hz high-pass, motion6 and global-signal confounds, z-score) -> fit the sequential SVAE with \
            neural-ODE dynamics -> latents.csv -> fixed points of the learned field -> ground-truth \
            recovery (affine R^2 of the latents against the true HRF-convolved latents; distance of \
            the aligned fixed points to the true stable points) -> task decoding (balanced accuracy of \
            the latents vs PCA and FastICA of the same regions vs chance). Writes \
            OUT/summary.json.

            Examples:
              fmridyn demo --out demo-out
              fmridyn demo --quick --out /tmp/demo
            """
    )

    @Option(help: "Output directory.")
    var out = "demo-out"
    @Flag(help: "A smaller, faster run (under a minute).")
    var quick = false
    @Option var seed: UInt64 = 1
    @Option(help: "Override the number of simulated subjects.")
    var subjects: Int?
    @Option(help: "Override the volumes per run.")
    var volumes: Int?
    @Option(help: "Override the training epochs.")
    var epochs: Int?
    @Flag(help: "Exit with status 1 when the latents recover the true HRF-convolved state worse than PCA does.")
    var check = false
    @OptionGroup var diagnostics: DiagnosticOptions

    func validate() throws {
        if let subjects, subjects < 1 { throw ValidationError("--subjects must be at least 1.") }
        if let volumes, volumes < 40 { throw ValidationError("--volumes must be at least 40 (two windows of 32 need the room).") }
        if let epochs, epochs < 1 { throw ValidationError("--epochs must be at least 1.") }
    }

    func run() throws {
        let logger = diagnostics.makeLogger()
        let say = { (line: String) in if !diagnostics.quiet { FileHandle.standardError.write(Data((line + "\n").utf8)) } }
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
        try FileManager.default.createDirectory(atPath: timeseriesDirectory, withIntermediateDirectories: true)
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
        print(String(format: """
            fmridyn demo (%@)
              runs                %d (%d regions each)
              validation ELBO     %.1f nats per window (best of %d epochs)
              latent recovery R2  %.3f (affine fit to the true HRF-convolved latents)
              fixed points        %d (%d stable, %d saddle, %d unstable); truth has %d stable
              fixed-point error   %.3f (mean distance to the nearest true stable point, aligned)
              state R2 (by subj.) neural %.3f, BOLD %.3f; PCA %.3f, %.3f; all regions %.3f, %.3f
              stable points       recall %@, precision %@ (true stable points within 0.25, aligned)
              decoding            NODE %.3f, PCA %.3f, ICA %.3f, all regions %.3f, chance %.3f (balanced accuracy, %d-fold by subject)
              outputs             %@/summary.json, report.html, latents.csv, model/, sim/ (BIDS), timeseries/
              time                %.1f s
            """, quick ? "quick" : "default", runs.count, model.observations, best, log.count, recovery.latentR2,
            fixed.count, count("stable"), count("saddle"), count("unstable"), recovery.trueStable, recovery.fixedPointError,
            recovery.model.neural, recovery.model.bold, recovery.pca.neural, recovery.pca.bold, recovery.regions.neural, recovery.regions.bold,
            recovery.fixedPoints.recall.map { String(format: "%.2f", $0) } ?? "n/a", recovery.fixedPoints.precision.map { String(format: "%.2f", $0) } ?? "n/a (no stable point)",
            nodeDecoding?.balancedAccuracyMean ?? .nan, pcaDecoding?.balancedAccuracyMean ?? .nan, icaDecoding?.balancedAccuracyMean ?? .nan,
            rawDecoding?.balancedAccuracyMean ?? .nan, chance, decodingFolds, out, Date().timeIntervalSince(start)))
        logger.debug("done")
        if check, !(recovery.model.bold >= recovery.pca.bold) {
            FileHandle.standardError.write(Data(String(format: "fmridyn demo --check: the latents recover the HRF-convolved state worse than PCA (R2 %.3f < %.3f, leave-one-subject-out)\n",
                                                       recovery.model.bold, recovery.pca.bold).utf8))
            throw ExitCode(1)
        }
    }
}
