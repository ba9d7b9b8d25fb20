import Core
import Dispatch
import Foundation

/// One row of `training_log.csv`.
public struct TrainingLogRow: Codable, Equatable, Sendable {
    public var epoch: Int
    public var step: Int
    /// ELBO per window (nats; higher is better), averaged over the epoch's training batches.
    public var trainELBO: Double
    public var reconstruction: Double
    public var kl: Double
    public var validationELBO: Double
    public var learningRate: Double
    public var seconds: Double
}

/// Where a (possibly interrupted) training run stands; saved in `checkpoint/state.json`.
struct TrainingState: Codable {
    var epoch = 0
    var nextBatch = 0
    var globalStep = 0
    var bestValidation = -Double.greatestFiniteMagnitude
    var badEpochs = 0
    var log: [TrainingLogRow] = []
    var finished = false
    var seconds = 0.0
    // Sums over the current epoch's batches so far (restored on resume).
    var epochLoss = 0.0
    var epochReconstruction = 0.0
    var epochKL = 0.0
    var epochBatches = 0
    /// What the run was trained on (`WindowDataset.fingerprint`); nil in states written before
    /// it was recorded.
    var inputs: String? = nil
}

/// The saved description of a model directory (`config.json`).
public struct ModelDescription: Codable, Equatable, Sendable {
    public var model: SVAEConfiguration
    public var training: TrainingConfiguration
    public var fmridynVersion: String
    public var split: String
    /// The observed features' names (regions) in decoder order, when the inputs named them;
    /// optional so that older model directories still load.
    public var featureNames: [String]?

    public init(model: SVAEConfiguration, training: TrainingConfiguration, fmridynVersion: String, split: String, featureNames: [String]? = nil) {
        self.model = model
        self.training = training
        self.fmridynVersion = fmridynVersion
        self.split = split
        self.featureNames = featureNames
    }
}

extension ModelDescription {
    /// Refuses runs whose named features are not the model's, in the model's order: a decoder
    /// column belongs to one region, so shuffled or different columns give silently wrong
    /// latents. Runs without names (or models fitted before names were recorded) pass.
    public func requireMatchingFeatures(_ runs: [RunData], modelDirectory: String) throws {
        guard let expected = featureNames, !expected.isEmpty else { return }
        for run in runs where run.featureNames.count == run.timeseries.columns && run.featureNames != expected {
            let names = run.featureNames
            if names.count == expected.count, Set(names) == Set(expected), let column = names.indices.first(where: { names[$0] != expected[$0] }) {
                throw TrainingError("\(run.source): its columns are the model's regions in another order (column \(column + 1) is \(names[column]), \(modelDirectory) expects \(expected[column])); write them in the order of \(modelDirectory)/config.json featureNames, or extract with the same atlas")
            }
            let missing = expected.filter { !Set(names).contains($0) }
            let extra = names.filter { !Set(expected).contains($0) }
            throw TrainingError("\(run.source): its columns are not the regions \(modelDirectory) was fitted on (\(missing.count) missing, e.g. \(missing.prefix(3).joined(separator: ", ")); \(extra.count) unknown, e.g. \(extra.prefix(3).joined(separator: ", "))); extract them with the same atlas")
        }
    }
}

/// Fits an SVAE with Adam, KL warm-up, gradient clipping and early stopping on the
/// validation ELBO, checkpointing into the model directory so an interrupted run resumes
/// exactly: batch order and reparameterisation noise derive from (seed, epoch) and
/// (seed, step), and the optimiser state is saved with the parameters.
public struct Trainer {
    public let directory: String
    public let model: SVAEConfiguration
    public let training: TrainingConfiguration
    public var version = "0"
    /// Called with human-readable progress lines.
    public var progress: ((String) -> Void)?
    /// Stops with an error after this many optimiser steps, as a killed process would (tests
    /// of checkpoint recovery use it).
    public var interruptAfterStep: Int? = nil
    /// For tests: the gradients of these optimiser steps are multiplied by the given factor
    /// (NaN, as a diverging ODE rollout's backward pass makes them, or a huge finite factor).
    public var gradientFactorsAtSteps: [Int: Float] = [:]
    /// Consecutive steps with a non-finite gradient after which the fit stops with an error.
    public static let nonFiniteStepLimit = NonFiniteGradientGuard.limit
    /// Sparse training: masks applied to the initial model and kept by every update (masked
    /// weights stay zero), saved with each checkpoint and restored on resume.
    public var masks: ParameterMasks<Float>? = nil
    /// Rewrites the masks during training (SET/RigL, iterative pruning, GSP).
    public var maskSchedule: (any MaskSchedule)? = nil
    /// Fine-tuning: start from these parameters instead of a fresh initialisation.
    public var initialModel: SVAE<Float>? = nil
    /// Fine-tuning a subset: gradients are multiplied by these 0/1 masks before the update (and
    /// zeroed for parameters without a mask), so entries outside the subset never move (Adam's
    /// moments for them stay zero).
    public var trainableMasks: ParameterMasks<Float>? = nil
    /// The ranks training together (sharded training, `TrainingConfiguration.shards`): every
    /// rank holds the same model and takes the same steps; rank 0 alone writes the directory.
    public var communicator: any Communicator = LocalCommunicator()
    /// Collects the time of sharded steps and of their gradient exchange, when set.
    public var timings: StepTimings? = nil

    public init(directory: String, model: SVAEConfiguration, training: TrainingConfiguration) {
        self.directory = directory
        self.model = model
        self.training = training
    }

    var files: ModelDirectory { ModelDirectory(directory) }
    var checkpointDirectory: String { files.checkpoint }

    /// Trains (or, with `resume`, continues) and returns the log; the best model is in
    /// `directory/model.safetensors`.
    @discardableResult
    public func fit(_ data: WindowDataset, resume: Bool = false) throws -> [TrainingLogRow] {
        if let threads = training.threads { ComputeThreads.set(threads) }
        // Every product of a step is small; the cores go to the parts of each split batch.
        return try ComputeThreads.withSingleThreadedBLAS { try train(data, resume: resume) }
    }

    private func train(_ data: WindowDataset, resume: Bool) throws -> [TrainingLogRow] {
        // One writer per model directory (rank 0 of a group); what a killed writer left is
        // finished or removed before any rank reads it.
        let leader = communicator.isLeader
        let lock = try communicator.agree { () -> DirectoryLock? in
            guard leader else { return nil }
            let lock = try DirectoryLock.acquire(directory, purpose: "training")
            DirectoryLock.removeStaleTemporaries(in: directory)
            try CheckpointSet.recover(in: directory)
            return lock
        }
        defer { lock?.release() }
        let schedule = try training.shards.map { shards -> ShardSchedule in
            guard training.freeBits == 0 else { throw TrainingError("free bits act on the whole batch's KL and cannot be split into shards; train without free bits or without shards") }
            return ShardSchedule(data: data, shards: shards, batchSize: training.batchSize)
        }
        var svae = initialModel ?? SVAE<Float>(configuration: model)
        var adam = Adam<Float>(learningRate: training.learningRate)
        var masks = self.masks
        masks?.apply(to: &svae)
        var state = TrainingState()
        let statePath = files.trainingState
        if resume, FileManager.default.fileExists(atPath: statePath) {
            try CheckpointSet.verify(in: directory)
            state = try JSONDecoder().decode(TrainingState.self, from: Data(contentsOf: URL(fileURLWithPath: statePath)))
            let saved = try files.description()
            guard saved.model == model, saved.training.batchSize == training.batchSize, saved.training.shards == training.shards else {
                throw TrainingError("\(directory) was started with other model or batch settings; resume with the same options, or use a new `out`", reason: .settingsChanged)
            }
            if let recorded = state.inputs, recorded != data.fingerprint {
                throw TrainingError("\(directory) was trained on other inputs (runs, their lengths or the split differ); resume with the same runs, or use a new `out`", reason: .inputsChanged)
            }
            try Checkpoint.load(into: &svae, from: checkpointDirectory)
            if let optimizer: OptimizerState<Float> = try Checkpoint.loadOptimizerState(from: checkpointDirectory) { adam.state = optimizer }
            if masks != nil, let saved: ParameterMasks<Float> = try Checkpoint.loadMasks(from: checkpointDirectory) { masks = saved }
            if state.finished {
                // A finished run continues only when it ran out of epochs and more are asked for.
                let stoppedEarly = state.badEpochs >= training.patience
                guard !stoppedEarly, state.epoch < training.epochs else {
                    progress?(stoppedEarly ? "nothing to resume: the fit stopped early at epoch \(state.epoch) (no better validation ELBO for \(training.patience) epochs)"
                                           : "nothing to resume: the fit finished its \(state.epoch) epochs; ask for more with a larger epoch count")
                    return state.log
                }
                state.finished = false
                progress?("continuing the finished fit from epoch \(state.epoch) to \(training.epochs)")
            } else {
                progress?("resuming at epoch \(state.epoch + 1), step \(state.globalStep)")
            }
        } else {
            state.inputs = data.fingerprint
            let names = data.runs[0].featureNames
            let description = ModelDescription(model: model, training: training, fmridynVersion: version, split: data.splitDescription,
                                               featureNames: names.count == model.observations ? names : nil)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            if leader { try AtomicWrite.write(encoder.encode(description), to: files.configuration) }
            // The step-0 set marks the directory as a fit in progress from the start, so a fit
            // that dies before its first checkpoint (a full disk) is not read as a model.
            try saveCheckpoint(svae, adam.state, state, masks: masks)
        }

        let batchesPerEpoch = schedule?.batchesPerEpoch ?? (data.training.count + training.batchSize - 1) / training.batchSize
        let start = Date().addingTimeInterval(-state.seconds)
        var nonFinite = NonFiniteGradientGuard()
        while state.epoch < training.epochs {
            var order = data.training
            var shuffle = RandomSource(seed: model.seed &+ UInt64(state.epoch) &* 0x9E37_79B9_7F4A_7C15)
            order.shuffle(using: &shuffle)
            let shardOrder = schedule?.order(epoch: state.epoch, seed: model.seed)
            while state.nextBatch < batchesPerEpoch {
                state.globalStep += 1
                let progressFraction = Double(state.epoch * batchesPerEpoch + state.nextBatch + 1) / Double(max(1, training.klWarmupEpochs * batchesPerEpoch))
                let klWeight = training.beta * (training.klWarmupEpochs > 0 ? min(1, progressFraction) : 1)
                let stepSeed = model.seed ^ (UInt64(state.globalStep) &* 0xD1B5_4A32_D192_ED03)
                let step: SVAE<Float>.StepGradient
                if let schedule, let shardOrder {
                    let began = DispatchTime.now().uptimeNanoseconds
                    defer { timings?.add(step: DispatchTime.now().uptimeNanoseconds - began) }
                    step = try shardedStep(svae, parts: schedule.parts(of: shardOrder, batch: state.nextBatch), data: data, klWeight: klWeight,
                                           seed: stepSeed, schedule: schedule)
                } else {
                    let slice = Array(order[(state.nextBatch * training.batchSize)..<min(order.count, (state.nextBatch + 1) * training.batchSize)])
                    let x: Tensor<Float> = try data.batch(slice)
                    let u: Tensor<Float>? = model.inputCount > 0 ? data.inputBatch(slice) : nil
                    var noise = RandomSource(seed: stepSeed)
                    step = try svae.objectiveAndGradient(x, inputs: u, klWeight: klWeight, freeBits: training.freeBits, random: &noise,
                                                         parts: ComputeThreads.cores)
                }
                let value = step.loss
                var gradient = step.gradient
                guard value.isFinite, value < 1e12 else {
                    throw TrainingError("the loss became \(value) at step \(state.globalStep) (epoch \(state.epoch + 1)); training stopped. The last good checkpoint is in \(checkpointDirectory) (resume with `resume`); lower `learningRate`, raise `clipNorm` protection, or use `solver` rk4")
                }
                if let trainableMasks {
                    // Only the selected entries learn: parameters without a mask are frozen whole.
                    for (name, path) in gradient.parameters {
                        if let mask = trainableMasks.masks[name] {
                            gradient[keyPath: path] = (gradient[keyPath: path] * mask).detached
                        } else {
                            gradient[keyPath: path] = Tensor(zeros: gradient[keyPath: path].shape)
                        }
                    }
                }
                if let factor = gradientFactorsAtSteps[state.globalStep] {
                    for (_, path) in gradient.parameters { gradient[keyPath: path] = (gradient[keyPath: path] * factor).detached }
                }
                // A NaN or infinite entry skips the step (`NonFiniteGradientGuard`).
                if nonFinite.admit(&gradient, maxNorm: training.clipNorm) {
                    adam.update(&svae, along: gradient, masks: masks)
                    if let maskSchedule, var current = masks {
                        maskSchedule.update(step: state.globalStep, totalSteps: training.epochs * batchesPerEpoch, model: &svae, gradient: gradient,
                                            masks: &current, optimizer: &adam.state)
                        masks = current
                    }
                } else {
                    guard !nonFinite.exhausted else {
                        throw TrainingError("the gradient was not finite at \(nonFinite.inARow) steps in a row (up to step \(state.globalStep), epoch \(state.epoch + 1)); training stopped. The last good checkpoint is in \(checkpointDirectory) (resume with `resume`); lower `learningRate` or use `solver` rk4 with a smaller `solverStep`")
                    }
                    progress?("step \(state.globalStep): the gradient is not finite; the step is skipped (\(nonFinite.inARow) in a row)")
                }
                state.nextBatch += 1
                state.epochLoss += Double(value)
                state.epochReconstruction += Double(step.reconstruction)
                state.epochKL += Double(step.kl)
                state.epochBatches += 1
                state.seconds = Date().timeIntervalSince(start)
                if state.globalStep % training.checkpointEvery == 0 {
                    try saveCheckpoint(svae, adam.state, state, masks: masks)
                }
                if let interruptAfterStep, state.globalStep >= interruptAfterStep {
                    throw TrainingError("interrupted after step \(state.globalStep)")
                }
                if state.nextBatch == batchesPerEpoch || state.globalStep % 10 == 0 {
                    progress?(String(format: "epoch %d/%d step %d: loss %.3f (recon %.3f, kl %.3f)", state.epoch + 1, training.epochs,
                                     state.globalStep, value, step.reconstruction, step.kl))
                }
            }
            // End of epoch: validation, log, best model, early stopping.
            let validation = try validationELBO(svae, data, schedule: schedule)
            let batches = Double(max(1, state.epochBatches))
            let row = TrainingLogRow(epoch: state.epoch + 1, step: state.globalStep,
                                     trainELBO: -(state.epochReconstruction + state.epochKL) / batches,
                                     reconstruction: state.epochReconstruction / batches, kl: state.epochKL / batches,
                                     validationELBO: validation, learningRate: adam.learningRate, seconds: state.seconds)
            state.log.append(row)
            let elapsed = state.seconds
            let eta = elapsed / Double(state.epoch + 1) * Double(training.epochs - state.epoch - 1)
            progress?(String(format: "epoch %d/%d done: train ELBO %.3f, validation ELBO %.3f, %.1f s, ETA %.0f s", row.epoch,
                             training.epochs, row.trainELBO, validation, elapsed, eta))
            if validation > state.bestValidation {
                state.bestValidation = validation
                state.badEpochs = 0
                if leader { try Checkpoint.save(svae, masks: masks, to: directory) }
            } else {
                state.badEpochs += 1
            }
            state.epoch += 1
            state.nextBatch = 0
            state.epochLoss = 0; state.epochReconstruction = 0; state.epochKL = 0; state.epochBatches = 0
            if state.badEpochs >= training.patience {
                progress?("early stop: no better validation ELBO for \(training.patience) epochs")
                break
            }
            try writeLog(state.log)
            try saveCheckpoint(svae, adam.state, state, masks: masks)
        }
        state.finished = true
        try writeLog(state.log)
        try saveCheckpoint(svae, adam.state, state, masks: masks)
        return state.log
    }

    /// Mean ELBO per validation window (training windows when there are none), with fixed noise.
    func validationELBO(_ svae: SVAE<Float>, _ data: WindowDataset, schedule: ShardSchedule? = nil) throws -> Double {
        let windows = data.validation.isEmpty ? data.training : data.validation
        if let schedule { return try shardedMeanELBO(svae, data, windows: windows, schedule: schedule) }
        return try meanELBO(svae, data, windows: windows)
    }

    /// Mean ELBO per window over `windows` (nats per window), with fixed noise (`Evaluator`).
    public func meanELBO(_ svae: SVAE<Float>, _ data: WindowDataset, windows: [WindowDataset.Window]) throws -> Double {
        try Evaluator(model: model, batchSize: training.batchSize).meanELBO(svae, data, windows: windows)
    }

    /// Scores the best model on the held-out test windows and writes `evaluation.json`
    /// (`test_elbo`, `test_windows`, `best_validation_elbo`, `split`). Returns nil when the
    /// dataset has no test split.
    @discardableResult
    public func evaluateTest(_ data: WindowDataset) throws -> Double? {
        guard !data.test.isEmpty else { return nil }
        try communicator.barrier()  // rank 0 has written the best model
        let (best, _) = try Trainer.loadModel(from: directory)
        let schedule = training.shards.map { ShardSchedule(data: data, shards: $0, batchSize: training.batchSize) }
        let elbo = try schedule.map { try shardedMeanELBO(best, data, windows: data.test, schedule: $0) } ?? meanELBO(best, data, windows: data.test)
        let validation = try validationELBO(best, data, schedule: schedule)
        guard communicator.isLeader else { return elbo }
        try EvaluationReport(testELBO: elbo, testWindows: data.test.count, bestValidationELBO: validation, split: data.splitDescription)
            .write(to: files.evaluation)
        return elbo
    }

    /// Parameters, optimiser moments, masks and the training state of one step, as one set.
    func saveCheckpoint(_ svae: SVAE<Float>, _ optimizer: OptimizerState<Float>, _ state: TrainingState, masks: ParameterMasks<Float>? = nil) throws {
        guard communicator.isLeader else { return }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let stateData = try encoder.encode(state)
        try CheckpointSet.write(in: directory) { staging in
            try Checkpoint.save(svae, optimizer: optimizer, masks: masks, to: staging)
            try stateData.write(to: URL(fileURLWithPath: staging + "/state.json"))
        }
    }

    func writeLog(_ rows: [TrainingLogRow]) throws {
        guard communicator.isLeader else { return }
        var text = "epoch,step,train_elbo,recon,kl,val_elbo,lr,seconds\n"
        for row in rows {
            text += "\(row.epoch),\(row.step),\(row.trainELBO),\(row.reconstruction),\(row.kl),\(row.validationELBO),\(row.learningRate),\(String(format: "%.3f", row.seconds))\n"
        }
        try AtomicWrite.write(Data(text.utf8), to: files.trainingLog)
    }

    /// Loads the best model of a model directory (`ModelDirectory.load`): an unfinished fit is
    /// refused unless `allowUnfinished`.
    public static func loadModel(from directory: String, allowUnfinished: Bool = false) throws -> (SVAE<Float>, ModelDescription) {
        try ModelDirectory(directory).load(allowUnfinished: allowUnfinished)
    }
}
