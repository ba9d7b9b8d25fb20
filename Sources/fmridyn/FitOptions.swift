import ArgumentParser
import Model
import Preprocessing

/// Model and training options shared by `fit` and `bids ... group`.
struct FitOptions: ParsableArguments {
    @Option(help: "Inference: sequential (q(z_t | z_{t-1}, x)) or initial (q(z_0 | x), then the dynamics).")
    var inference: SVAEConfiguration.Inference = .sequential
    @Option(help: "Dynamics: node (neural ODE) or rnn (GRU baseline).")
    var dynamics: SVAEConfiguration.DynamicsKind = .node
    @Option(help: "ODE solver.")
    var solver: SVAEConfiguration.Solver = .rk4
    @Option(help: "Solver step in TRs (fixed-step solvers).")
    var solverStep: Double = 1
    @Flag(help: "Adjoint gradients for the neural ODE.")
    var adjoint = false
    @Option(help: "Decoder: linear or mlp.")
    var decoder: SVAEConfiguration.DecoderKind = .linear
    @Option(name: .customLong("latent-dim"), help: "Latent dimension.")
    var latentDim = 8
    @Option(help: "Hidden units (encoder GRU per direction, dynamics).")
    var hidden = 64
    @Option(help: "Window length in volumes.")
    var window = 32
    @Option(help: "Window stride in volumes.")
    var stride = 8
    @Option var epochs = 50
    @Option var batchSize = 32
    @Option var lr = 1e-3
    @Option(help: "KL weight after warm-up.")
    var beta = 1.0
    @Option(help: "Epochs of linear KL warm-up.")
    var klWarmup = 5
    @Option(help: "Minimum KL per latent dimension (nats per window).")
    var freeBits = 0.0
    @Option(help: "Gradient clipping by global norm.")
    var clipNorm = 10.0
    @Option(help: "Fraction of subjects (runs when there is one subject) held out as a test set, scored once after training into OUT/evaluation.json.")
    var testFraction = 0.0
    @Option(help: "Early stopping patience in epochs.")
    var patience = 10
    @Option(help: "Checkpoint every N optimiser steps.")
    var checkpointEvery = 200
    @Option(help: "instantaneous (default: the decoder reads each volume's latents) or hrf (neural-level latents seen through the Glover HRF; docs/recovery.md).")
    var observation: ObservationModel = .instantaneous
    @Option(help: "The encoder reads the data this many volumes ahead (default: the HRF peak with --observation hrf, else 0).")
    var encoderLead: Int?
    @Option(help: "Volumes at the start of each window that condition the latents but are not scored (default 0).")
    var burnIn = 0
    @Flag(help: "Sequential inference: the posterior mean of z_t is the dynamics' prediction plus the encoder's correction (docs/recovery.md, node-hrf-driven).")
    var predictivePosterior = false
    @Option(help: "With --predictive-posterior: multiple shooting, the encoder corrects the path every this many volumes and the field carries it in between (default 1: every volume; docs/recovery.md, fifth round).")
    var shootingInterval = 1
    @Option(help: "Initial standard deviation of the sequential prior's transition noise (then learned).")
    var transitionScale = 0.5
    @Option(help: "Neural ODE: a fixed decay added to the field, f(z) = MLP(z) - leak z, per TR (default 0; docs/recovery.md, third round).")
    var fieldLeak = 0.0
    @Option var seed: UInt64 = 1
    @Option(name: [.customLong("threads"), .customLong("nthreads"), .customLong("n-cpus")], help: "Cores to use (default: all; --nthreads and --n-cpus are fMRIPrep's spellings).")
    var threads: Int?

    func validate() throws {
        for (name, value) in [("--latent-dim", latentDim), ("--hidden", hidden), ("--window", window), ("--stride", stride),
                              ("--epochs", epochs), ("--batch-size", batchSize), ("--checkpoint-every", checkpointEvery)] where value < 1 {
            throw ValidationError("\(name) must be at least 1.")
        }
        if window < 2 { throw ValidationError("--window must be at least 2 volumes.") }
        if let encoderLead, encoderLead < 0 || encoderLead >= window { throw ValidationError("--encoder-lead must be in 0..<--window (\(window)).") }
        if burnIn < 0 || burnIn >= window { throw ValidationError("--burn-in must be in 0..<--window (\(window)).") }
        try NumericOptions.positive("--lr", lr)
        try NumericOptions.nonNegative("--beta", beta)
        try NumericOptions.nonNegative("--free-bits", freeBits, unit: "nats")
        try NumericOptions.positive("--clip-norm", clipNorm)
        try NumericOptions.positive("--solver-step", solverStep, unit: "TRs")
        try NumericOptions.positive("--transition-scale", transitionScale)
        try NumericOptions.within("--field-leak", fieldLeak, 0...100, unit: "per TR")
        if fieldLeak > 0 && dynamics != .node { throw ValidationError("--field-leak applies to --dynamics node (the GRU baseline has no vector field).") }
        if predictivePosterior && inference != .sequential { throw ValidationError("--predictive-posterior applies to --inference sequential.") }
        if shootingInterval < 1 { throw ValidationError("--shooting-interval must be at least 1 volume.") }
        if shootingInterval > 1 && !predictivePosterior { throw ValidationError("--shooting-interval applies with --predictive-posterior (the field's prediction carries the path between corrections).") }
        if klWarmup < 0 || patience < 0 { throw ValidationError("--kl-warmup and --patience must be 0 or more.") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1.") }
        let sizes = Self.networkBytes(hidden: hidden, latent: latentDim, window: window, batch: batchSize)
        if sizes > Self.memoryBudget {
            throw ValidationError("--hidden \(hidden), --latent-dim \(latentDim), --window \(window) and --batch-size \(batchSize) need about \(String(format: "%.1f", sizes / Double(1 << 30))) GiB before any region is counted (budget \(Int(Self.memoryBudget / Double(1 << 30))) GiB); use smaller sizes.")
        }
        let tape = Self.integrationTapeBytes(window: window, solverStep: solverStep, solver: solver,
                                             batch: batchSize, hidden: hidden, latent: latentDim)
        if dynamics == .node && !adjoint && tape > Self.memoryBudget {
            let gib = Double(1 << 30)
            throw ValidationError("--solver-step \(solverStep) with --window \(window) and --batch-size \(batchSize) needs about \(String(format: "%.1f", tape / gib)) GiB for the gradient of one batch's integration (budget \(Int(Self.memoryBudget / gib)) GiB); use a step of at least \(String(format: "%.3g", solverStep * tape / Self.memoryBudget)) TRs, a shorter --window or --adjoint.")
        }
        if !(testFraction >= 0 && testFraction < 0.8) { throw ValidationError("--test-fraction must be in [0, 0.8).") }
    }

    /// What one batch's differentiable integration, or the networks' size-dependent parts, may
    /// hold in memory before `fit` refuses.
    static let memoryBudget = 8.0 * Double(1 << 30)

    /// Estimated bytes of the recorded integration for one batch (direct gradient): solver
    /// steps per window x stages per step x batch x the field's activations (two hidden layers
    /// and the state, values and gradients, Float32), with a factor 2 for the tape's own
    /// bookkeeping. The default settings come to about 9 MB.
    static func integrationTapeBytes(window: Int, solverStep: Double, solver: SVAEConfiguration.Solver, batch: Int, hidden: Int, latent: Int) -> Double {
        let stages: Double
        switch solver {
        case .euler: stages = 1
        case .midpoint: stages = 2
        case .rk4: stages = 4
        case .dopri5: stages = 7
        }
        let steps = Double(max(1, window - 1)) / solverStep
        return steps * stages * Double(batch) * Double(2 * hidden + 2 * latent) * 4 * 2 * 2
    }

    /// Estimated bytes of the networks' parts that do not depend on the number of regions: the
    /// encoder's two GRUs and the dynamics' hidden layers (about 7 H^2 + 4 H K weights, each
    /// with its gradient and two Adam moments, Float32) and one batch's recorded recurrent
    /// activations (window x batch x 12 H values and gradients per direction). The defaults
    /// come to about 13 MB.
    static func networkBytes(hidden: Int, latent: Int, window: Int, batch: Int) -> Double {
        let (h, k) = (Double(hidden), Double(latent))
        let weights = 7 * h * h + 4 * h * k
        let activations = Double(window) * Double(batch) * 2 * 12 * h
        return weights * 4 * 4 + activations * 4 * 2
    }

    /// The model and training settings for `observations` features sampled every
    /// `repetitionTime` seconds (the HRF observation kernel is sampled at it).
    func configurations(observations: Int, repetitionTime: Double) -> (SVAEConfiguration, TrainingConfiguration) {
        var model = SVAEConfiguration(observations: observations)
        model.latent = latentDim
        model.hidden = hidden
        model.inference = inference
        model.dynamics = dynamics
        model.solver = solver
        model.solverStep = solverStep
        model.adjoint = adjoint
        model.decoder = decoder
        model.window = window
        model.stride = stride
        model.seed = seed
        if observation == .hrf {
            model.observationKernel = HemodynamicResponse.glover.kernel(repetitionTime: repetitionTime, oversampling: 1)
            model.encoderLead = encoderLead ?? Int((HemodynamicResponse.glover.peakTime(repetitionTime: repetitionTime) / repetitionTime).rounded())
        } else if let encoderLead, encoderLead > 0 {
            model.encoderLead = encoderLead
        }
        if burnIn > 0 { model.burnIn = burnIn }
        if predictivePosterior { model.predictivePosterior = true }
        if shootingInterval > 1 { model.shootingInterval = shootingInterval }
        model.transitionScale = transitionScale
        if fieldLeak > 0 { model.fieldLeak = fieldLeak }
        var training = TrainingConfiguration()
        training.epochs = epochs
        training.batchSize = batchSize
        training.learningRate = lr
        training.beta = beta
        training.klWarmupEpochs = klWarmup
        training.freeBits = freeBits
        training.clipNorm = clipNorm
        training.patience = patience
        training.checkpointEvery = checkpointEvery
        training.threads = threads
        training.testFraction = testFraction > 0 ? testFraction : nil
        return (model, training)
    }
}
