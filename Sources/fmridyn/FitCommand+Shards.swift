import ArgumentParser
import Federation
import Foundation
import Model
import Pipeline

extension Fit {
    /// `fit` with `--shards` or under an MPI launcher: every rank reads its subjects' runs and
    /// takes the same steps; rank 0 alone writes --out and prints progress.
    func runSharded(_ group: ProcessGroup) throws {
        var federation: FederatedConfiguration? = nil
        if federated {
            var settings = FederatedConfiguration()
            settings.rounds = rounds
            settings.localEpochs = localEpochs
            settings.exchange = exchange
            settings.sparsity = sparse.sparsity
            settings.scope = sparse.pruneScope.rawValue
            settings.pruneBatches = sparse.pruneBatches
            settings.sites = (sparse.sites ?? .subject).rawValue
            federation = settings
        }
        // A federated fit has one site per rank.
        var fit = ShardedFit(directory: out, cacheDirectory: cacheDirectory, shardCount: federated ? group.size : shards ?? group.size,
                             federation: federation)
        fit.sitesBySession = federated && sparse.sites == .session
        fit.resume = resume
        fit.splitSeed = seedList?.first ?? options.seed
        fit.testFraction = options.testFraction
        fit.version = FMRIDyn.version
        let logger = diagnostics.makeLogger()
        let show = diagnostics.progress
        let progress: ((String) -> Void)? = diagnostics.quiet ? nil : { line in show(line) }
        let reporting = ShardedFit.Reporting(
            info: { logger.info("\($0)") },
            progress: progress,
            report: { FMRIDyn.report($0) }, describe: { SettingFlags.rewrite("\($0)") })
        let outcome = try fit.run(on: group, source: input.source, preflight: {
            if seedList != nil { throw ValidationError("--seeds is not available with --shards or under mpirun yet; fit the seeds one after another") }
            if input.source.isColumnMode { throw ValidationError("--voxels and --grayordinates are not available with --shards or under mpirun yet (its PCA needs every rank's voxels)") }
            if externalInputs { throw ValidationError("--external-inputs is not available with --shards or under mpirun yet") }
            if sparse.sparsity > 0 && !federated { throw ValidationError("--sparsity is not available with --shards or under mpirun yet; see --federated for sparse masks across sites") }
        }, claim: claimOutput, configurations: { options.configurations(observations: $0, repetitionTime: $1) }, reporting: reporting)
        guard case .federated(let record, let sites) = outcome else { return }
        let sent = record.rounds.map { $0.bytesSent.reduce(0, +) }.reduce(0, +) / max(1, record.rounds.count * sites)
        print(String(format: "%@: %d sites, %d rounds; best validation ELBO %.3f (round %d); per rank and round %d bytes sent, %d in dense FedAvg (%.1fx fewer)",
                     record.method, sites, record.rounds.count, record.bestValidationElbo, record.bestRound, sent,
                     record.denseBytesPerRound, Double(record.denseBytesPerRound) / Double(max(1, sent))))
    }
}
