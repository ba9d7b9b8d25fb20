import Dynamics

/// Everything that defines an SVAE's architecture and training; saved as `config.json`.
public struct SVAEConfiguration: Codable, Equatable, Sendable {
    /// The neural ODE's integrator (`Dynamics.ODEMethod`), named here so that callers that
    /// configure a model need not depend on the solver module.
    public typealias Solver = ODEMethod

    public enum Inference: String, Codable, Sendable, CaseIterable {
        /// State-space VAE: per-step posterior q(z_t | z_{t-1}, x) (default).
        case sequential
        /// Latent-ODE style: q(z_0 | x), then z_t by integrating the dynamics.
        case initial
    }

    public enum DynamicsKind: String, Codable, Sendable, CaseIterable {
        case node, rnn
    }

    public enum DecoderKind: String, Codable, Sendable, CaseIterable {
        case linear, mlp
    }

    public var format = "fmridyn-svae-1"
    public var observations: Int
    public var latent: Int = 8
    /// Hidden units of the bidirectional GRU encoder (per direction) and of the dynamics.
    public var hidden: Int = 64
    public var inference: Inference = .sequential
    public var dynamics: DynamicsKind = .node
    public var solver: Solver = .rk4
    /// Integration step, in TRs.
    public var solverStep: Double = 1
    public var adjoint = false
    public var decoder: DecoderKind = .linear
    /// Initial standard deviation of the sequential prior's transition noise (then learned).
    public var transitionScale: Double = 0.5
    public var window: Int = 32
    public var stride: Int = 8
    public var seed: UInt64 = 1
    /// Known external inputs u(t) driving the dynamics (dz/dt = f(z) + B u): their names (task
    /// regressors); nil or empty for an autonomous model. Decoding analyses need models without.
    public var externalInputs: [String]? = nil
    /// HRF-aware observation model: the latents live at the neural level and the decoder sees
    /// them convolved along time with this kernel (the haemodynamic response sampled at the TR,
    /// lag 0 first, unit sum; steps before a window take its first state). Nil: the decoder
    /// reads each volume's latent directly (BOLD-level latents).
    public var observationKernel: [Double]? = nil
    /// The encoder reads the data this many volumes ahead (x_{t + lead}, the last volume
    /// repeated at a window's end), so that with an observation kernel the state at t is
    /// inferred where its response peaks (nil or 0: no lead).
    public var encoderLead: Int? = nil
    /// The first this many volumes of each training window condition the latents but are not
    /// scored by the likelihood (their response depends on states before the window); nil or 0
    /// scores every volume.
    public var burnIn: Int? = nil
    /// Nuisance covariates entering the decoder, x_t = decoder(z_t) + D c_t (fMRIPrep confounds:
    /// motion, global signal): their names; their values are the last columns of every run
    /// after the observed features, and the encoder reads them too. Nil or empty: none.
    public var covariates: [String]? = nil
    /// Sequential inference only: the posterior mean of z_t is the dynamics' prediction from
    /// z_{t-1} plus the encoder's correction (a filter's predict-then-update), instead of the
    /// encoder's estimate alone. The KL then charges only the correction, so the latent path
    /// follows the field wherever the data do not ask otherwise. Nil or false: the encoder's
    /// estimate (as fitted before this option; older config.json files have no key).
    public var predictivePosterior: Bool? = nil
    /// Predictive posterior only (multiple shooting): the encoder corrects the path only at
    /// every this-many-th step (t = 0, M, 2M, ... of a window or run); in between z_t is the
    /// dynamics' prediction from z_{t-1} exactly, so the generative model has transition noise
    /// only at those nodes and the field alone carries the state for M - 1 steps. Nil or 1:
    /// a correction at every step (as fitted before this option).
    public var shootingInterval: Int? = nil
    /// Neural ODE only: a fixed linear decay in the field, f(z) = MLP(z) - leak z, per TR, so
    /// that holding a state is learned as a fixed point rather than inherited from a zero
    /// field. Nil or 0: none (as fitted before this option).
    public var fieldLeak: Double? = nil
    /// How inputs are standardised before windowing (recorded so inference does the same).
    public var standardization = "per-run z-score of each feature (mean 0, sample std 1)"

    public init(observations: Int) { self.observations = observations }

    /// Number of nuisance covariates Q (columns after the R observed features).
    public var covariateCount: Int { covariates?.count ?? 0 }

    /// Number of external input channels U.
    public var inputCount: Int { externalInputs?.count ?? 0 }
}

/// Training settings (saved with the model for resuming).
public struct TrainingConfiguration: Codable, Equatable, Sendable {
    public var epochs = 50
    public var batchSize = 32
    public var learningRate = 1e-3
    public var clipNorm = 10.0
    /// KL weight after warm-up.
    public var beta = 1.0
    /// Epochs over which the KL weight rises linearly from 0 to beta.
    public var klWarmupEpochs = 5
    /// Minimum KL per latent dimension (nats per window; 0 disables).
    public var freeBits = 0.0
    /// Stop after this many epochs without a better validation ELBO.
    public var patience = 10
    /// Checkpoint every this many optimiser steps (and at every epoch end).
    public var checkpointEvery = 200
    public var validationFraction = 0.2
    /// Fraction of subjects (runs, windows) held out as a test set; nil or 0 keeps none.
    /// Optional so that model directories written before the test split still load.
    public var testFraction: Double? = nil
    public var threads: Int? = nil
    /// Sharded training (`WindowDataset.shards`): each step's batch is the union of one part per
    /// shard, each part differentiated on its own and the parts' gradients added in shard
    /// order, so the result does not depend on how many ranks share the shards. Nil: the batch
    /// is drawn from all training windows at once (the one-process default).
    public var shards: Int? = nil

    public init() {}
}
