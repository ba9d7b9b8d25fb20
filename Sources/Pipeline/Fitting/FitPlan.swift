import Core
import Foundation
import Model
import Preprocessing

/// One model fit as `fit`, `demo` and the BIDS App's group level make it: the model and
/// training settings, the data split, and the sparse-training choice. `train` runs the trainer
/// (resuming a checkpoint when asked), scores the test split and records the sparsity.
public struct FitPlan: Sendable {
    public var model: SVAEConfiguration
    public var training: TrainingConfiguration
    /// Fraction of subjects (or runs) held out as the test split (0: none).
    public var testFraction: Double
    /// Seed of the train/validation/test split (`fit --seeds` shares the first seed's split).
    public var splitSeed: UInt64
    /// nil trains dense.
    public var sparsity: SparsitySettings?
    /// Recorded in the checkpoints and `config.json`.
    public var version = FMRIDynVersion.current

    public init(model: SVAEConfiguration, training: TrainingConfiguration, testFraction: Double = 0, splitSeed: UInt64? = nil,
                sparsity: SparsitySettings? = nil) {
        self.model = model
        self.training = training
        self.testFraction = testFraction
        self.splitSeed = splitSeed ?? model.seed
        self.sparsity = sparsity
    }

    /// The windows of `runs` split by subject (from a run cache when `store` holds the runs' values).
    public func dataset(runs: [RunData], store: RunStore? = nil) throws -> WindowDataset {
        if let store {
            return try WindowDataset(runs: runs, store: store, window: model.window, stride: model.stride,
                                     validationFraction: training.validationFraction, testFraction: testFraction, seed: splitSeed)
        }
        return try WindowDataset(runs: runs, window: model.window, stride: model.stride, validationFraction: training.validationFraction,
                                 testFraction: testFraction, seed: splitSeed)
    }

    /// What a fit left.
    public struct Outcome: Sendable {
        public var log: [TrainingLogRow]
        /// Mean test ELBO per window (nil without a test split).
        public var testELBO: Double?
        public var bestValidationELBO: Double? { log.map(\.validationELBO).max() }
    }

    /// Fits into `directory` (continuing its checkpoint with `resume`), writes `evaluation.json`
    /// when there is a test split and `sparsity.json` with the compact export for a sparse fit.
    /// `progress` receives the trainer's lines (and the sparse set-up's). Training starts from
    /// `initialModel` (nil: a random model of `model`); a checkpoint being resumed takes precedence.
    public func train(on data: WindowDataset, into directory: ModelDirectory, resume: Bool = false, initialModel: SVAE<Float>? = nil,
                      progress: ((String) -> Void)? = nil) throws -> Outcome {
        var trainer = Trainer(directory: directory.path, model: model, training: training)
        let sparsePlan = try sparsity.flatMap { settings in
            try SparseTrainingSetup.plan(settings, model: model, data: data, batchSize: training.batchSize) { progress?($0) }
        }
        trainer.masks = sparsePlan?.masks
        trainer.maskSchedule = sparsePlan?.schedule
        trainer.version = version
        trainer.progress = progress
        trainer.initialModel = initialModel
        let log = try trainer.fit(data, resume: resume)
        let test = try trainer.evaluateTest(data)
        if let sparsePlan { try SparseTrainingSetup.writeRecord(sparsePlan, directory: directory.path) }
        return Outcome(log: log, testELBO: test)
    }
}

extension FitPlan {
    /// What a finished fit into `directory` reports: the best validation ELBO and, with a test
    /// split, the test ELBO written to `evaluation.json`.
    public static func summaryLines(directory: String, log: [TrainingLogRow], testELBO: Double?, testWindows: Int) -> [String] {
        var lines: [String] = []
        if let best = log.map(\.validationELBO).max() {
            lines.append("\(directory): best validation ELBO \(String(format: "%.3f", best)) nats per window after \(log.count) epochs")
        }
        if let testELBO {
            lines.append("\(directory)/evaluation.json: test ELBO \(String(format: "%.3f", testELBO)) nats per window on \(testWindows) held-out windows")
        }
        return lines
    }
}
