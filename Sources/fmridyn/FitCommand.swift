import Analysis
import ArgumentParser
import Federation
import Foundation
import Logging
import Model
import Pipeline
import Preprocessing

/// `fmridyn fit`: train the sequential VAE on region timeseries.
struct Fit: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Fit the sequential VAE with neural-ODE (or GRU) latent dynamics.",
        discussion: """
            Windows of --window volumes with stride --stride from every run are split by subject \
            into training and validation; each run's features are z-scored. The best model (by \
            validation ELBO) is written to OUT/model.safetensors with OUT/config.json; \
            OUT/checkpoint/ holds the latest state (--resume continues exactly), \
            OUT/training_log.csv the per-epoch log. Region runs are read one at a time into a \
            run cache under OUT (removed as soon as it is open), so many subjects do not have \
            to fit in memory. Each step splits its batch across --threads cores. \
            docs/model.md describes the model.

            Examples:
              fmridyn fit bids_dir --task motor --atlas power264 --confound-strategy motion24,wm_csf --high-pass 0.01 --out model
              fmridyn fit sub-*_timeseries.tsv --tr 0.72 --out model --epochs 30
              fmridyn fit runs.tsv --manifest --inference initial --dynamics rnn --out model-rnn
              fmridyn fit runs.tsv --manifest --out model --resume
              fmridyn fit runs.tsv --manifest --out models --seeds 1,2,3
              fmridyn fit sub-*_timeseries.tsv --tr 0.72 --out model-hrf --observation hrf --window 48 --burn-in 16 --latent-dim 12
              fmridyn fit bids_dir --out model-driven --observation hrf --window 48 --burn-in 16 --latent-dim 12 --external-inputs --predictive-posterior --transition-scale 0.1
              fmridyn fit bids_dir --out model-wells --observation hrf --external-inputs --inference initial --start wells --latent-dim 4 --hidden 32 --epochs 3000 --lr 3e-3 --kl-warmup 0 --patience 100
              fmridyn fit bids_dir --out model-shooting --observation hrf --window 64 --burn-in 32 --latent-dim 12 --external-inputs --predictive-posterior --shooting-interval 8 --transition-scale 0.1
              fmridyn fit HCP_dir --hcp --task MOTOR --grayordinates --voxel-pca 128 --out model-91k
              fmridyn fit runs.tsv --manifest --out sparse --sparsity 0.9 --prune snip --prune-scope global --sites subject
              mpirun -n 3 fmridyn fit runs.tsv --manifest --out model --shards 6    (the same model as without mpirun; docs/cluster.md)
            """
    )

    @OptionGroup var input: ModelInputOptions

    @Option(help: "Model directory.")
    var out: String

    @OptionGroup var options: FitOptions
    @OptionGroup var sparse: SparseFitOptions
    @Option(help: "Fit one model per seed into OUT/seed-N (same data split, from the first seed) and compare them: OUT/robustness.json, as fmridyn robustness.")
    var seeds: String?
    @Flag(help: "Model the task: the events drive the latents as known inputs, dz/dt = f(z) + B u(t) (HRF-convolved regressors; the boxcars themselves with --observation hrf, whose latents are at the neural level). Decoding analyses need models fitted without them.")
    var externalInputs = false
    @OptionGroup var wells: WellsStartOptions
    @Option(help: "Voxel mode (--voxels): principal components of the training runs' voxels the model sees.")
    var voxelPca = 128
    @Option(help: "With --seeds: orthogonal or affine alignment of the latent spaces.")
    var alignment: SeedRobustness.Alignment = .orthogonal
    @Flag(help: "Continue an interrupted run in --out.")
    var resume = false
    @Flag(help: "Replace the model already in --out (its weights, checkpoint, log, evaluation and maps are removed first).")
    var force = false
    @Option(help: "Sharded training: subjects are dealt to N shards, each step adds one part per shard in a fixed order, so the fit is bit-identical on any number of MPI ranks (at most N). Default under mpirun/srun: the number of ranks.")
    var shards: Int?
    @Option(help: "Where the run cache goes while it is written (default: --out); a scratch disk for large fits. Stale caches of dead fits are removed there.")
    var workDir: String?
    @Flag(help: "Start MPI even when no launcher (mpirun, srun) environment is detected.")
    var distributed = false
    @Flag(help: "Federated fit: each MPI rank is a site (--sites subject|session deals them) that sends parameters, never data; FedAvg, or SSFL/SalientGrads with --sparsity. Writes OUT/federated.json.")
    var federated = false
    @Option(help: "Federated: communication rounds (--epochs is not used).")
    var rounds = 10
    @Option(help: "Federated: epochs over a site's own windows per round.")
    var localEpochs = 1
    @Option(help: "Federated: what sites send: weights after the local epochs (FedAvg, SSFL) or a gradient every step (FedSGD, SalientGrads).")
    var exchange: FederatedConfiguration.Exchange = .weights
    @OptionGroup var diagnostics: DiagnosticOptions

    func validate() throws {
        try NumericOptions.count("--voxel-pca", voxelPca, 1...4096, why: "the voxel PCA holds voxels x components floats per run")
        if seeds != nil {
            guard let list = seedList, list.count >= 2, Set(list).count == list.count else {
                throw ValidationError("--seeds needs at least two distinct non-negative integers, comma-separated (e.g. 1,2,3).")
            }
        }
        if externalInputs && options.adjoint { throw ValidationError("--external-inputs needs the direct gradient; drop --adjoint.") }
        try wells.validate(options: options, externalInputs: externalInputs, sparse: sparse.sparsity > 0)
        if wells.start == .wells && (shards != nil || federated) { throw ValidationError("--start wells runs in one process; drop --shards and --federated.") }
        if wells.start == .wells && (input.bids.voxels || input.bids.grayordinates) {
            throw ValidationError("--start wells reads the wells from region timeseries; drop --voxels/--grayordinates (use --atlas).")
        }
        if force && resume { throw ValidationError("--force replaces the model in --out and --resume continues it; give one of them.") }
        if let shards {
            guard (1...4096).contains(shards) else { throw ValidationError("--shards must be between 1 and 4096 (got \(shards)).") }
        }
        if federated {
            guard (1...100_000).contains(rounds), (1...10_000).contains(localEpochs) else {
                throw ValidationError("--rounds must be 1 to 100000 and --local-epochs 1 to 10000.")
            }
            if shards != nil { throw ValidationError("--federated makes each rank one site; drop --shards.") }
            if sparse.sites == .run { throw ValidationError("--federated --sites takes subject or session.") }
            if sparse.sparsity > 0 && sparse.prune != .snip { throw ValidationError("--federated agrees its mask by SNIP saliency; use --prune snip (the default).") }
        }
    }

    /// One writer per --out, and no silent overwrite of another model.
    func claimOutput() throws -> OutputClaim {
        try OutputClaim.fit(out, models: seedList.map { $0.map { out + "/seed-\($0)" } } ?? [out], resume: resume, replace: force)
    }

    func run() throws {
        let group = try ProcessGroup.detect(force: distributed)
        guard group.isSingleProcess && shards == nil && !federated else { return try runSharded(group) }
        let lock = try claimOutput()
        defer { lock.release() }
        let logger = diagnostics.makeLogger()
        var fit = SingleProcessFit(directory: out)
        fit.workDir = workDir
        fit.seeds = seedList
        fit.seed = options.seed
        fit.testFraction = options.testFraction
        (fit.voxelComponents, fit.window, fit.stride) = (voxelPca, options.window, options.stride)
        fit.externalInputs = externalInputs
        fit.wellsStart = wells.wellsStart
        fit.resume = resume
        fit.sparsity = sparse.sparsity > 0 ? sparse.settings : nil
        fit.alignment = alignment
        fit.version = FMRIDyn.version
        let start = wells.start
        let table = try fit.run(source: input.source, configurations: { features, repetitionTime in
                                    var (model, training) = options.configurations(observations: features, repetitionTime: repetitionTime)
                                    // The benchmark's node-wells reads the data without a lead unless one is asked for.
                                    if start == .wells && options.encoderLead == nil { model.encoderLead = nil }
                                    return (model, training)
                                },
                                progress: diagnostics.progress, info: { logger.info("\($0)") })
        if let table { print(table, terminator: "") }
    }

    /// --work-dir, or --out.
    var cacheDirectory: String { workDir ?? out }

    /// The parsed --seeds.
    var seedList: [UInt64]? {
        guard let seeds else { return nil }
        let values = seeds.split(separator: ",").map { UInt64($0.trimmingCharacters(in: .whitespaces)) }
        return values.contains(nil) || values.isEmpty ? nil : values.compactMap { $0 }
    }
}
