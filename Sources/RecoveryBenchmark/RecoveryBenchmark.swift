import Analysis
import Core
import Dynamics
import Foundation
import Model
import Preprocessing
import Simulation

/// One method's scores in one cell (nil where a score does not apply or could not be computed).
public struct MethodScores: Codable, Sendable {
    /// Leave-one-subject-out affine R^2 against the neural-level and the HRF-convolved truth.
    public var stateR2Neural: Double?
    public var stateR2Bold: Double?
    /// R^2 of the held-out subject's standardised regions 1 and 5 volumes ahead, predicted from
    /// the state at t (inferred from the 32 volumes up to t, or PCA scores at t).
    public var forecastR2Step1: Double?
    public var forecastR2Step5: Double?
    /// Normalised error of the model's vector field on its aligned states.
    public var vectorFieldError: Double?
    public var fixedPoints: RecoveryMetrics.FixedPointScores?
    /// The field error and fixed points again under the calibration alignment
    /// (`Recovery.calibrationMap`: the states regressed on the truth and inverted), which does
    /// not shrink the field's points and velocities toward the mean as the primary alignment
    /// (the truth regressed on the states) does when the states are noisy.
    public var vectorFieldErrorCalibrated: Double?
    public var fixedPointsCalibrated: RecoveryMetrics.FixedPointScores?
    public var cycle: RecoveryMetrics.CycleScores?
    /// Cross-validated balanced accuracy of the five conditions (task volumes, folds by subject).
    public var decoding: Double?
    /// Balanced accuracy on the models' test subject(s) of a classifier fitted on the other
    /// subjects' task volumes: the one split in which no model has seen the scored volumes.
    public var decodingHeldOut: Double?
    /// The level the model's states are aligned at for fixed points and fields: "bold" or "neural".
    public var level: String?
    public var epochs: Int?
    /// The fitted model's best validation ELBO (nats per window; the one early stopping kept),
    /// for choosing among fits by the data alone.
    public var bestValidationELBO: Double?

    public init() {}

    /// Decodes with a snake-case key strategy; also reads `state_r2bold`, the key of the first
    /// cells written (before the property was renamed).
    public init(from decoder: any Swift.Decoder) throws {
        let container = try decoder.container(keyedBy: NamedKey.self)
        func value<T: Decodable>(_ names: String...) throws -> T? {
            for name in names { if let found = try container.decodeIfPresent(T.self, forKey: NamedKey(name)) { return found } }
            return nil
        }
        stateR2Neural = try value("stateR2Neural")
        stateR2Bold = try value("stateR2Bold", "stateR2bold")
        forecastR2Step1 = try value("forecastR2Step1")
        forecastR2Step5 = try value("forecastR2Step5")
        vectorFieldError = try value("vectorFieldError")
        fixedPoints = try value("fixedPoints")
        vectorFieldErrorCalibrated = try value("vectorFieldErrorCalibrated")
        fixedPointsCalibrated = try value("fixedPointsCalibrated")
        cycle = try value("cycle")
        decoding = try value("decoding")
        decodingHeldOut = try value("decodingHeldOut")
        level = try value("level")
        epochs = try value("epochs")
        bestValidationELBO = try value("bestValidationELBO")
    }

    struct NamedKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ name: String) { stringValue = name }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }
}

/// Everything measured in one cell.
public struct CellResult: Codable, Sendable {
    public var cell: RecoveryCell
    public var methods: [String: MethodScores]
    public var testSubjects: [String]
    public var seconds: Double
    /// Methods that failed in this cell, with their errors (the other methods are scored).
    public var errors: [String: String]? = nil
}

/// Runs the recovery benchmark's cells: simulate, extract, fit every model variant, score them
/// and the PCA / FastICA / raw-region baselines against the ground truth.
public struct RecoveryBenchmark {
    public var variants: [ModelVariant]
    public var epochs = 300
    /// Fixed points within this distance (aligned units) of a true one count as found.
    public var radius = 0.25
    public var workDirectory: String
    public var progress: ((String) -> Void)?
    /// The simulated study's size (the grid's cells use 4 subjects x 2 runs x 240 volumes).
    public var subjects = 4
    public var volumes = 240
    /// Keep each cell's simulated dataset and fitted models (for inspection).
    public var keepWork = false
    /// The rollout fits to score, each under its method name (`rollout-wells[+settings]`).
    public var rolloutFits: [(name: String, options: RolloutFit.Options)] = []

    public init(variants: [ModelVariant], workDirectory: String) {
        self.variants = variants
        self.workDirectory = workDirectory
    }

    /// The cell's file-name stem.
    public static func name(_ cell: RecoveryCell) -> String {
        "\(cell.heldOut ? "heldout" : "tuning")_\(cell.system.rawValue)\(cell.latentDimension)_noise\(cell.noise)_nuisance\(cell.nuisance)_seed\(cell.seed)"
    }

    /// The file name of a cell's cached result for `variants` fitted `epochs` epochs: the
    /// variants' names joined by `+`, or, when that would pass 120 characters (file systems
    /// stop at 255), its first 60 and the FNV-1a 64 hash of the whole (`CheckpointSet.hash`),
    /// so long ablation lists still get one file per list.
    public static func cacheFileName(variants: [String], epochs: Int, cell: RecoveryCell) -> String {
        var key = variants.joined(separator: "+")
        if key.utf8.count > 120 { key = String(key.prefix(60)) + "-" + CheckpointSet.hash(Data(key.utf8)) }
        return "\(key)_epochs\(epochs)_" + name(cell) + ".json"
    }

    static func rowsToTensor(_ rows: ArraySlice<[Double]>) -> [Float] { rows.flatMap { $0.map(Float.init) } }

    public func run(_ cell: RecoveryCell) throws -> CellResult {
        let started = Date()
        let directory = workDirectory + "/" + Self.name(cell)
        try? FileManager.default.removeItem(atPath: directory)
        try OutputDirectory.create(directory)
        defer { if !keepWork { try? FileManager.default.removeItem(atPath: directory) } }
        progress?("\(cell.setting) seed \(cell.seed): simulating and extracting")
        let study = try SimulatedStudy.make(cell, directory: directory + "/sim", subjects: subjects, volumes: volumes)
        let k = study.system.dimension
        let rows = study.standardizedRows
        let groups = study.runs.map(\.subject)
        let folds = Set(groups).count

        // The models' split: the same for every variant (it depends on the seed only).
        let split = try WindowDataset(runs: study.runs, window: 32, stride: 8, validationFraction: 0.25, testFraction: 0.25, seed: cell.seed)
        let testRuns = Set(split.test.map(\.run)).sorted()
        let trainingRuns = study.runs.indices.filter { !testRuns.contains($0) }
        var methods: [String: MethodScores] = [:]

        let testSubjects = Set(testRuns.map { groups[$0] })
        /// Folds by subject, and the split that scores the models' test subject(s) only.
        func taskDecoding(_ features: [[[Double]]], labels: [[String]]) -> (folds: Double?, heldOut: Double?) {
            var x: [[Double]] = [], y: [String] = [], g: [String] = []
            for run in features.indices {
                for t in features[run].indices where labels[run][t] != "rest" {
                    x.append(features[run][t]); y.append(labels[run][t]); g.append(groups[run])
                }
            }
            guard Set(y).count >= 2 else { return (nil, nil) }
            return (finite(Decoding.crossValidate(features: x, labels: y, groups: g, folds: folds).mean),
                    Decoding.heldOutAccuracy(features: x, labels: y, groups: g, testGroups: testSubjects).flatMap(finite))
        }
        /// State R^2 of `features` against the neural truth and of `boldLevel` (the same states,
        /// or a neural-level model's through its kernel) against the HRF-convolved truth;
        /// decoding of `features` with the labels of their level.
        /// `decode: false` for models given the task as inputs (decoding them would be circular).
        func stateScores(_ features: [[[Double]]], boldLevel: [[[Double]]]? = nil, labels: [[String]]? = nil, decode: Bool = true) -> MethodScores {
            var scores = MethodScores()
            scores.stateR2Neural = finite(RecoveryMetrics.crossValidatedR2(features: features, truth: study.neural, groups: groups))
            scores.stateR2Bold = finite(RecoveryMetrics.crossValidatedR2(features: boldLevel ?? features, truth: study.bold, groups: groups))
            if decode { (scores.decoding, scores.decodingHeldOut) = taskDecoding(features, labels: labels ?? study.boldLabels) }
            return scores
        }

        // Baselines at the true dimension: PCA and FastICA of all volumes, and all regions.
        progress?("\(cell.setting) seed \(cell.seed): baselines")
        let allRows = rows.flatMap { $0 }
        let pca = PCA(fitting: allRows, components: k)
        var errors: [String: String] = [:]
        var pcaScores = stateScores(rows.map { pca.transform($0) })
        (pcaScores.forecastR2Step1, pcaScores.forecastR2Step5) = pcaForecast(rows: rows, training: trainingRuns, test: testRuns, k: k)
        methods["pca"] = pcaScores
        do {
            let ica = try FastICA(fitting: allRows, components: k, seed: cell.seed)
            methods["ica"] = stateScores(rows.map { ica.transform($0) })
        } catch {
            errors["ica"] = "\(error)"
        }
        methods["raw"] = stateScores(rows)
        // The true neural-level latents, decoded only: what a perfect state read-out could reach.
        var truthScores = MethodScores()
        (truthScores.decoding, truthScores.decodingHeldOut) = taskDecoding(study.neural, labels: study.neuralLabels)
        methods["truth"] = truthScores
        // The baseline of the input-driven models: what the events alone say about the regions,
        // at the true dimension and at the input-driven variants' (K + 8). Not decoded (it is the task).
        for (name, rank) in [("glm", k), ("glm+8", k + 8)] {
            do {
                let glm = try TaskGLM(regions: rows, labels: study.neuralLabels, conditions: LatentSystem.motorConditions,
                                      repetitionTime: study.repetitionTime, rank: rank)
                methods[name] = stateScores(study.neuralLabels.map { glm.states(labels: $0) }, decode: false)
            } catch {
                errors[name] = "\(error)"
            }
        }

        for (name, options) in rolloutFits {
            do {
                progress?("\(cell.setting) seed \(cell.seed): fitting \(name)")
                methods[name] = try rolloutScores(study: study, rows: rows, options: options, seed: cell.seed) { features, bold in
                    stateScores(features, boldLevel: bold, labels: study.neuralLabels, decode: false)
                }
            } catch {
                progress?("\(cell.setting) seed \(cell.seed): \(name) failed: \(error)")
                errors[name] = "\(error)"
            }
        }

        for variant in variants {
            do {
                progress?("\(cell.setting) seed \(cell.seed): fitting \(variant.name)")
                var (modelConfiguration, training) = variant.configurations(observations: rows[0][0].count, latent: k, seed: cell.seed, epochs: epochs,
                                                                                      repetitionTime: study.repetitionTime)
                if variant.wells != nil, let shortest = study.runs.map(\.volumes.count).min() {
                    // One window per run (the whole-run rollout).
                    modelConfiguration.window = min(modelConfiguration.window, shortest)
                    modelConfiguration.stride = modelConfiguration.window
                }
                let covariates = modelConfiguration.covariateCount > 0
                var modelRuns = covariates ? study.runsWithConfounds : study.runs
                try ExternalInputs.attach(&modelRuns, for: modelConfiguration)
                let modelRows = covariates ? modelRuns.map { $0.standardized.rows } : rows
                let data = try WindowDataset(runs: modelRuns, window: modelConfiguration.window, stride: modelConfiguration.stride,
                                             validationFraction: 0.25, testFraction: 0.25, seed: cell.seed)
                var trainer = Trainer(directory: directory + "/" + variant.name, model: modelConfiguration, training: training)
                if let wells = variant.wells {
                    let fitted = Set(data.training.map(\.run)).sorted()
                    let inputs = fitted.map { modelRuns[$0].inputs?.rows ?? [] }
                    let start = try WellsInitialisation(configuration: modelConfiguration, regions: fitted.map { modelRows[$0] },
                                                        labels: fitted.map { study.neuralLabels[$0] }, inputs: inputs,
                                                        conditions: LatentSystem.motorConditions, repetitionTime: study.repetitionTime,
                                                        options: wells, seed: cell.seed)
                    let pathR2 = Recovery.affineR2(recovered: start.paths.flatMap { $0 }, truth: fitted.flatMap { study.neural[$0] })
                    progress?(String(format: "\(cell.setting) seed \(cell.seed): wells start: field-free path R^2 %.3f, field fit R^2 %.3f, temperature %.2g, largest expansion %.2f per s",
                                     pathR2, start.fieldFitR2, start.temperature, start.largestExpansion))
                    trainer.initialModel = start.model
                }
                let log = try trainer.fit(data)
                var (model, _) = try Trainer.loadModel(from: directory + "/" + variant.name)
                let km = model.configuration.latent
                let runTensors = modelRows.map { run in Tensor<Float>(shape: [run.count, run[0].count], scalars: Self.rowsToTensor(run[...])) }
                let means = try zip(runTensors, modelRuns).map { x, source in try model.posteriorMeans(x, inputs: source.inputs?.floatTensor) }
                func pathRows(_ path: Tensor<Float>) -> [[Double]] {
                    (0..<path.shape[0]).map { t in (0..<km).map { Double(path.scalars[t * km + $0]) } }
                }
                let latents = means.map(pathRows)
                if variant.refitsField { try Self.refitField(&model, latents: latents, runs: modelRuns, seed: cell.seed) }
                let forecasts = try modelForecast(model, rows: modelRows, test: testRuns)
                /// Every score of one latent path per run under the fitted model.
                /// `taskFree`: the paths were read out without the task, so they are decoded.
                func score(_ latents: [[[Double]]], taskFree: Bool = false) throws -> MethodScores {
                    let level = modelConfiguration.observationKernel == nil ? "bold" : "neural"
                    let takesTask = modelConfiguration.inputCount > 0 && !taskFree
                    var scores: MethodScores
                    if level == "neural" {
                        // The model's own BOLD-level states: its latents through its observation kernel.
                        let convolved = latents.map { run -> [[Double]] in
                            let z = Tensor<Double>(shape: [1, run.count, km], scalars: run.flatMap { $0 })
                            let scalars = model.haemodynamic(z).scalars
                            return (0..<run.count).map { t in Array(scalars[(t * km)..<((t + 1) * km)]) }
                        }
                        scores = stateScores(latents, boldLevel: convolved, labels: study.neuralLabels, decode: !takesTask)
                    } else {
                        scores = stateScores(latents, decode: !takesTask)
                    }
                    scores.epochs = log.count
                    scores.bestValidationELBO = log.map(\.validationELBO).filter(\.isFinite).max()
                    scores.level = level
                    let truth = level == "neural" ? study.neural : study.bold
                    let (function, system) = ModelFixedPoints.system(of: model)
                    try dynamicsScores(&scores, latents: latents, truth: truth, study: study, seed: cell.seed, velocities: { states in
                        let output = function(Tensor<Double>(shape: [states.count, km], scalars: states.flatMap { $0 })).scalars
                        return states.indices.map { i in (0..<km).map { j in output[i * km + j] - (system == .map ? states[i][j] : 0) } }
                    }, fixedPoints: { starts in ModelFixedPoints.find(model: model, starts: starts).fixed }, cycleRollout: { last in
                        let path = try model.dynamics.rollout(Tensor<Float>(shape: [1, km], scalars: last.map(Float.init)), steps: 600)
                        return path.map { state in state.scalars.map(Double.init) }
                    })
                    scores.forecastR2Step1 = forecasts.0
                    scores.forecastR2Step5 = forecasts.1
                    return scores
                }
                methods[variant.posteriorMethodName] = try score(latents)
                for q in variant.mapTransitionSDs {
                    // The same model, each run's path its MAP estimate with transition noise q
                    // (`SVAE.mapPath`), started from the posterior means.
                    let refined = try runTensors.indices.map { run in
                        pathRows(try model.mapPath(runTensors[run], inputs: modelRuns[run].inputs?.floatTensor, start: means[run], options: .init(transitionSD: q)))
                    }
                    methods[ModelVariant.mapMethodName(variant.name, transitionSD: q)] = try score(refined)
                }
                if !variant.freeTransitionSDs.isEmpty {
                    // The same model read out with the task withheld (`SVAE.taskFreePaths`): per run, one path per q.
                    let sds = variant.freeTransitionSDs
                    let free = try runTensors.map { try model.taskFreePaths($0, transitionSDs: sds, options: .init(transitionSD: sds[0])) }
                    for (index, q) in sds.enumerated() {
                        methods[ModelVariant.freeMethodName(variant.name, transitionSD: q)] = try score(free.map { pathRows($0[index]) }, taskFree: true)
                    }
                    // Each run's own nuisance: structured noise fitted to its residuals under the
                    // task-free path at q = 1 (the schedule's first stage, minimised once per run),
                    // then the paths again.
                    let firstStages = variant.lowRanks.isEmpty ? [] : try runTensors.map { try model.taskFreePath($0, options: .init(transitionSD: 1)) }
                    for rank in variant.lowRanks {
                        let structured = try runTensors.indices.map { run in
                            var options = SVAE<Float>.MAPPathOptions(transitionSD: sds[0])
                            options.noise = try model.structuredNoise(of: runTensors[run], path: firstStages[run], rank: rank)
                            return try model.taskFreePaths(runTensors[run], transitionSDs: sds, options: options)
                        }
                        for (index, q) in sds.enumerated() {
                            methods[ModelVariant.freeMethodName(variant.name, transitionSD: q, rank: rank)] =
                                try score(structured.map { pathRows($0[index]) }, taskFree: true)
                        }
                    }
                }
            } catch {
                progress?("\(cell.setting) seed \(cell.seed): \(variant.name) failed: \(error)")
                errors[variant.name] = "\(error)"
            }
        }
        return CellResult(cell: cell, methods: methods, testSubjects: testSubjects.sorted(), seconds: Date().timeIntervalSince(started),
                          errors: errors.isEmpty ? nil : errors)
    }

    /// `RolloutFit` on the models' training runs (the split of the wells variants: one window
    /// per run), its first observation from the task GLM of those runs; every run's path scored
    /// as a neural-level model given the task (state R^2 at both levels, field, fixed points,
    /// cycle; not decoded, no forecasts).
    func rolloutScores(study: SimulatedStudy, rows: [[[Double]]], options: RolloutFit.Options, seed: UInt64,
                       stateScores: ([[[Double]]], [[[Double]]]) -> MethodScores) throws -> MethodScores {
        let k = study.system.dimension, tr = study.repetitionTime
        let inputs: [[[Double]]]
        if options.gridInputs {
            inputs = try study.runs.map { run in
                guard let events = run.events else { throw TrainingError("\(run.source): the rollout fit needs the run's events") }
                return RolloutFit.gridInputs(events: events, conditions: LatentSystem.motorConditions, volumes: run.volumes.count,
                                             repetitionTime: tr, substeps: options.substeps)
            }
        } else {
            var runs = study.runs
            try ExternalInputs.attach(&runs, names: LatentSystem.motorConditions, convolved: false)
            inputs = runs.map { RolloutFit.heldInputs($0.inputs?.rows ?? [], substeps: options.substeps) }
        }
        // The split of the wells variants (one window per run): its training runs, or all but its test runs.
        let shortest = study.runs.map(\.volumes.count).min() ?? 1
        let data = try WindowDataset(runs: study.runs, window: shortest, stride: shortest, validationFraction: 0.25, testFraction: 0.25, seed: seed)
        let testRuns = Set(data.test.map(\.run))
        let fitted = options.fitsValidationRuns ? study.runs.indices.filter { !testRuns.contains($0) } : Set(data.training.map(\.run)).sorted()
        let glm = try TaskGLM(regions: fitted.map { rows[$0] }, labels: fitted.map { study.neuralLabels[$0] }, conditions: LatentSystem.motorConditions,
                              repetitionTime: tr, rank: k)
        let fit = try RolloutFit(regions: fitted.map { rows[$0] }, inputs: fitted.map { inputs[$0] },
                                 targets: fitted.map { glm.states(labels: study.neuralLabels[$0]) }, repetitionTime: tr, options: options,
                                 progress: { [progress] in progress?("   " + $0) }, seed: seed)
        let paths = try fit.runPaths(regions: rows, inputs: inputs)
        let latents = paths.map(\.neural)
        var scores = stateScores(latents, paths.map(\.bold))
        scores.level = "neural"
        let field = fit.field
        let quiet = [[Double]](repeating: [Double](repeating: 0, count: LatentSystem.motorConditions.count), count: 600)
        try dynamicsScores(&scores, latents: latents, truth: study.neural, study: study, seed: seed, velocities: { states in
            states.map { field.velocity($0).map { $0 * tr } }  // dz per TR
        }, fixedPoints: { starts in FixedPointFinder.find({ field($0) }, system: .flow, starts: starts).fixed }, cycleRollout: { last in
            fit.atRepetitionTimes(fit.rollout(from: last, inputs: quiet))
        })
        return scores
    }

    /// Field, fixed-point and cycle scores of one model's paths `latents` (per run [T][K]) under
    /// the affine alignment to `truth` (the paths' level) and under the calibration map.
    /// - Parameters:
    ///   - velocities: the model's dz per TR at states (the autonomous field).
    ///   - fixedPoints: the model's fixed points searched from starts.
    ///   - cycleRollout: the autonomous rollout from a state, one state per TR (600 TRs).
    func dynamicsScores(_ scores: inout MethodScores, latents: [[[Double]]], truth: [[[Double]]], study: SimulatedStudy, seed: UInt64,
                        velocities: ([[Double]]) -> [[Double]], fixedPoints: ([[Double]]) -> [FixedPoint],
                        cycleRollout: ([Double]) throws -> [[Double]]) throws {
        let pooled = latents.flatMap { $0 }, pooledTruth = truth.flatMap { $0 }
        guard let alignment = RecoveryMetrics.Alignment(Recovery.affineMap(recovered: pooled, truth: pooledTruth)), let k = pooled.first?.count else { return }
        let states = Array(pooled.enumerated().filter { $0.offset % 2 == 0 }.map(\.element))
        // The model's velocities at the scored states, once for both alignments.
        let velocity = velocities(states)
        scores.vectorFieldError = finite(RecoveryMetrics.vectorFieldError(states: states, velocities: velocity, alignment: alignment,
                                                                          system: study.system, repetitionTime: study.repetitionTime))
        let fixed = fixedPoints(ModelFixedPoints.starts(from: pooled, dimension: k, count: 512, seed: seed))
        // The visited wells are the neural-level truth's (where the system's state dwells).
        let trajectories = study.neural.flatMap { $0 }
        scores.fixedPoints = RecoveryMetrics.fixedPointScores(found: fixed, alignment: alignment, system: study.system, radius: radius,
                                                              trajectories: trajectories)
        if let calibration = RecoveryMetrics.Alignment(Recovery.calibrationMap(recovered: pooled, truth: pooledTruth)) {
            scores.vectorFieldErrorCalibrated = finite(RecoveryMetrics.vectorFieldError(states: states, velocities: velocity, alignment: calibration,
                                                                                        system: study.system, repetitionTime: study.repetitionTime))
            scores.fixedPointsCalibrated = RecoveryMetrics.fixedPointScores(found: fixed, alignment: calibration, system: study.system,
                                                                            radius: radius, trajectories: trajectories)
        }
        if study.system.cyclePeriod != nil, let last = latents.first?.last {
            let tail = Array(try cycleRollout(last).suffix(300))
            scores.cycle = RecoveryMetrics.cycleScores(rollout: tail, alignment: alignment, system: study.system, repetitionTime: study.repetitionTime)
        }
    }

    /// Replaces the model's field (and input map) by one refitted to its posterior-mean paths
    /// (`FieldOracle.fitField`: same field class, one-step prediction with the runs' inputs).
    static func refitField(_ model: inout SVAE<Float>, latents: [[[Double]]], runs: [RunData], seed: UInt64) throws {
        guard let node = model.dynamics.node else { return }
        let inputs: [[[Double]]]? = model.inputMap == nil ? nil : runs.map { run in
            guard let u = run.inputs else { return [] }
            return (0..<u.timePoints).map { t in (0..<u.columns).map { u[t, $0] } }
        }
        let consecutive = FieldOracle.consecutiveVolumes(runs)
        let (field, map, _) = try FieldOracle.fitField(paths: latents, inputs: inputs, consecutive: consecutive, hidden: model.configuration.hidden,
                                                       leak: node.field.leak, seed: seed)
        model.dynamics.node?.field = field.converted()
        if let map { model.inputMap = Linear<Float>(weight: map.weight.converted(), bias: nil) }
    }

    /// The times t of a run at which both forecasts are scored: a full window behind, five
    /// volumes ahead.
    static func forecastTimes(count: Int, window: Int) -> [Int] { count >= window + 5 ? Array((window - 1)...(count - 6)) : [] }

    /// Forecast R^2 of the held-out runs from the model's causal state estimates.
    func modelForecast(_ model: SVAE<Float>, rows: [[[Double]]], test: [Int]) throws -> (Double?, Double?) {
        let window = model.configuration.window
        let (features, q) = (model.configuration.observations, model.configuration.covariateCount)
        var predicted1: [[Double]] = [], predicted5: [[Double]] = [], target1: [[Double]] = [], target5: [[Double]] = []
        for run in test {
            let times = Self.forecastTimes(count: rows[run].count, window: window)
            guard !times.isEmpty else { continue }
            let width = rows[run][0].count
            var values: [Float] = [], future: [Float] = []
            values.reserveCapacity(times.count * window * width)
            for t in times {
                values += Self.rowsToTensor(rows[run][(t - window + 1)...t])
                if q > 0 { future += rows[run][(t + 1)...(t + 5)].flatMap { $0.suffix(q).map(Float.init) } }
            }
            let forecast = try model.forecast(Tensor(shape: [times.count, window, width], scalars: values), steps: 5,
                                              future: q > 0 ? Tensor(shape: [times.count, 5, q], scalars: future) : nil).scalars
            for (n, t) in times.enumerated() {
                let base = n * 5 * features
                predicted1.append((0..<features).map { Double(forecast[base + $0]) })
                predicted5.append((0..<features).map { Double(forecast[base + 4 * features + $0]) })
                target1.append(Array(rows[run][t + 1].prefix(features)))
                target5.append(Array(rows[run][t + 5].prefix(features)))
            }
        }
        return (Self.forecastR2(predicted1, target1), Self.forecastR2(predicted5, target5))
    }

    /// PCA's forecast: K components and a VAR(1) on their scores, both fitted on the training
    /// subjects' runs, iterated from the held-out scores at t and projected back.
    func pcaForecast(rows: [[[Double]]], training: [Int], test: [Int], k: Int) -> (Double?, Double?) {
        let pca = PCA(fitting: training.flatMap { rows[$0] }, components: k)
        let scores = rows.map { pca.transform($0) }
        guard let map = Recovery.affineMap(recovered: training.flatMap { scores[$0].dropLast() },
                                           truth: training.flatMap { scores[$0].dropFirst() }) else { return (nil, nil) }
        func reconstruct(_ s: [Double]) -> [Double] {
            var x = pca.mean
            for (c, component) in pca.components.enumerated() { for j in x.indices { x[j] += s[c] * component[j] } }
            return x
        }
        var predicted1: [[Double]] = [], predicted5: [[Double]] = [], target1: [[Double]] = [], target5: [[Double]] = []
        for run in test {
            for t in Self.forecastTimes(count: rows[run].count, window: 32) {
                var s = scores[run][t]
                for step in 1...5 {
                    s = Recovery.apply(map, to: s)
                    if step == 1 { predicted1.append(reconstruct(s)); target1.append(rows[run][t + 1]) }
                    if step == 5 { predicted5.append(reconstruct(s)); target5.append(rows[run][t + 5]) }
                }
            }
        }
        return (Self.forecastR2(predicted1, target1), Self.forecastR2(predicted5, target5))
    }
}

func finite(_ value: Double) -> Double? { value.isFinite ? value : nil }

extension RecoveryBenchmark {
    /// R^2 of forecasts against the volumes they forecast (nil when there are none).
    static func forecastR2(_ predicted: [[Double]], _ target: [[Double]]) -> Double? {
        target.isEmpty ? nil : finite(SeedRobustness.explainedVariance(predicted, target))
    }
}
