import ArgumentParser
import Cluster
import Core
import Federation
import Foundation
import Model
import Pipeline

extension Fit {
    /// `fit` with `--shards` or under an MPI launcher: every rank reads its subjects' runs and
    /// takes the same steps; rank 0 alone writes --out and prints progress.
    func runSharded(_ communicator: any Communicator) throws {
        let leader = communicator.isLeader
        // A federated fit has one site per rank.
        let shardCount = federated ? communicator.size : shards ?? communicator.size
        do {
            try communicator.agree {
                if seedList != nil { throw ValidationError("--seeds is not available with --shards or under mpirun yet; fit the seeds one after another") }
                if input.bids.columnMode { throw ValidationError("--voxels and --grayordinates are not available with --shards or under mpirun yet (its PCA needs every rank's voxels)") }
                if externalInputs { throw ValidationError("--external-inputs is not available with --shards or under mpirun yet") }
                if sparse.sparsity > 0 && !federated { throw ValidationError("--sparsity is not available with --shards or under mpirun yet; see --federated for sparse masks across sites") }
                if shardCount < communicator.size {
                    throw ValidationError("--shards \(shardCount) is fewer than the \(communicator.size) ranks; give at least one shard per rank")
                }
            }
            let lock = try communicator.agree { leader ? try claimOutput() : nil }
            defer { lock?.release() }
            let logger = diagnostics.makeLogger()
            let quiet = diagnostics.quiet || !leader
            let say: (String) -> Void = { line in if !quiet { FileHandle.standardError.write(Data((line + "\n").utf8)) } }
            let bySession = federated && sparse.sites == .session
            // Run labels from the input list alone (nothing read yet): subjects, and sessions for session sites.
            let subjects = try communicator.agree { try input.runSubjects() }
            let labels = bySession ? try communicator.agree { try input.runEntities("ses") } : subjects
            if bySession && Set(labels).count < communicator.size {
                throw ValidationError("--sites session needs at least \(communicator.size) distinct sessions for \(communicator.size) ranks; the inputs have \(Set(labels).count)")
            }
            let shardOfRun = WindowDataset.shards(groups: labels, count: shardCount)
            let (runs, store) = try ShardedRuns.load(input, subjects: subjects, shardOfRun: shardOfRun, communicator: communicator,
                                                     cacheDirectory: cacheDirectory, say: say)
            guard let features = store.extents.first?.columns else { throw ValidationError("no runs were read from the inputs") }
            var (model, training) = options.configurations(observations: features, repetitionTime: runs.first?.repetitionTime ?? 1)
            training.shards = shardCount
            let data = try communicator.agree {
                try WindowDataset(runs: runs, store: store, window: model.window, stride: model.stride, validationFraction: training.validationFraction,
                                  testFraction: options.testFraction, seed: seedList?.first ?? options.seed)
            }
            if leader {
                logger.info("\(runs.count) runs, \(model.observations) features; \(data.training.count) training, \(data.validation.count) validation and \(data.test.count) test windows (\(data.splitDescription)); \(shardCount) shards on \(communicator.size) ranks")
            }
            if federated {
                try fitFederated(communicator, model: model, training: training, data: data, siteOfRun: shardOfRun, say: say)
                try communicator.barrier()
                if communicator is MPICommunicator { MPICommunicator.finalize() }
                return
            }
            var trainer = Trainer(directory: out, model: model, training: training)
            trainer.communicator = communicator
            trainer.version = FMRIDyn.version
            trainer.progress = quiet ? nil : say
            let timings = StepTimings()
            trainer.timings = timings
            let log = try trainer.fit(data, resume: resume)
            let test = try trainer.evaluateTest(data)
            if leader {
                if let best = log.map(\.validationELBO).max() {
                    logger.info("\(out): best validation ELBO \(String(format: "%.3f", best)) nats per window after \(log.count) epochs")
                }
                let time = timings.summary
                logger.info("\(time.steps) sharded steps on \(communicator.size) ranks: \(String(format: "%.2f", 1000 * time.secondsPerStep)) ms per step, waiting for the slowest rank \(String(format: "%.1f", 100 * time.waitShare))% of it, gradient exchange \(String(format: "%.1f", 100 * time.exchangeShare))%, \(Int(time.bytesPerStep)) bytes sent per step by rank 0")
                if let test { logger.info("\(out)/evaluation.json: test ELBO \(String(format: "%.3f", test)) nats per window on \(data.test.count) held-out windows") }
            }
            try communicator.barrier()
            if communicator is MPICommunicator { MPICommunicator.finalize() }
        } catch let failure as GroupFailure {
            // Every rank knows: the failing rank's own error is reported by rank 0 (once), and no
            // rank exits before it is written (mpirun ends the whole job at the first non-zero exit).
            var code: Int32 = 1
            if leader {
                if let underlying = failure.underlying { code = FMRIDyn.report(underlying) }
                else { FileHandle.standardError.write(Data("error: \(failure)\n".utf8)) }
            }
            try? communicator.barrier()
            MPICommunicator.finalize()
            Foundation.exit(code)
        } catch {
            guard communicator.size > 1 else {
                if communicator is MPICommunicator { MPICommunicator.finalize() }
                throw error
            }
            // Only this rank knows: report it and end every rank (no rank waits forever).
            FileHandle.standardError.write(Data("error (rank \(communicator.rank) of \(communicator.size)): \(SettingFlags.rewrite("\(error)"))\n".utf8))
            communicator.abort(code: 1)
        }
    }

    func fitFederated(_ communicator: any Communicator, model: SVAEConfiguration, training: TrainingConfiguration, data: WindowDataset,
                      siteOfRun: [Int], say: @escaping (String) -> Void) throws {
        var federation = FederatedConfiguration()
        federation.rounds = rounds
        federation.localEpochs = localEpochs
        federation.exchange = exchange
        federation.sparsity = sparse.sparsity
        federation.scope = sparse.pruneScope.rawValue
        federation.pruneBatches = sparse.pruneBatches
        federation.sites = (sparse.sites ?? .subject).rawValue
        var trainer = FederatedTrainer(directory: out, model: model, training: training, federation: federation, communicator: communicator)
        trainer.version = FMRIDyn.version
        trainer.progress = communicator.isLeader && !diagnostics.quiet ? say : nil
        let record = try trainer.fit(data, siteOfRun: siteOfRun)
        guard communicator.isLeader else { return }
        let sent = record.rounds.map { $0.bytesSent.reduce(0, +) }.reduce(0, +) / max(1, record.rounds.count * communicator.size)
        print(String(format: "%@: %d sites, %d rounds; best validation ELBO %.3f (round %d); per rank and round %d bytes sent, %d in dense FedAvg (%.1fx fewer)",
                     record.method, communicator.size, record.rounds.count, record.bestValidationElbo, record.bestRound, sent,
                     record.denseBytesPerRound, Double(record.denseBytesPerRound) / Double(max(1, sent))))
    }
}
