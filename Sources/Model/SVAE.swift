import Core
import Dynamics
import Foundation

/// The sequential variational autoencoder: encoder (bidirectional GRU + posterior heads),
/// latent dynamics (neural ODE or GRU baseline) and decoder, with the negative ELBO for both
/// inference schemes of `SVAEConfiguration.Inference`.
public struct SVAE<Scalar: TensorScalar>: Module {
    public let configuration: SVAEConfiguration
    public var encoder: Encoder<Scalar>
    public var dynamics: DynamicsChoice<Scalar>
    public var decoder: Decoder<Scalar>
    /// log sigma_p^2 per latent dimension of the sequential prior's transition noise (learned).
    public var transitionLogVariance: Tensor<Scalar>
    /// B of dz/dt = f(z) + B u: how the external inputs drive the latents (nil without inputs).
    public var inputMap: Linear<Scalar>?

    /// Built once per architecture: assembling the names and key paths costs 6% of a training
    /// step, and a step asks for them several times (differentiation, Adam, the batch split).
    public var parameters: [(name: String, path: WritableKeyPath<SVAE, Tensor<Scalar>>)] {
        let shape = ParameterListCache.Shape(configuration: configuration, scalar: ObjectIdentifier(Scalar.self), hasInputMap: inputMap != nil,
                                             hasNode: dynamics.node != nil, hasRNN: dynamics.rnn != nil,
                                             hasLinearDecoder: decoder.linear != nil, hasNetworkDecoder: decoder.network != nil)
        if let cached = ParameterListCache.shared.lookup(shape) as? [(name: String, path: WritableKeyPath<SVAE, Tensor<Scalar>>)] { return cached }
        let list = nested(\.encoder, prefix: "encoder") + nested(\.dynamics, prefix: "dynamics") + nested(\.decoder, prefix: "decoder")
            + [(name: "prior.transition_log_variance", path: \.transitionLogVariance)] + nested(optional: \.inputMap, prefix: "input_map")
        ParameterListCache.shared.store(list, for: shape)
        return list
    }

    public init(configuration c: SVAEConfiguration) {
        var random = RandomSource(seed: c.seed)
        configuration = c
        encoder = Encoder(observations: c.observations + c.covariateCount, hidden: c.hidden, latent: c.latent, random: &random)
        dynamics = DynamicsChoice(configuration: c, random: &random)
        decoder = Decoder(latent: c.latent, observations: c.observations, hidden: c.hidden, kind: c.decoder, random: &random)
        transitionLogVariance = Tensor(repeating: Scalar(Foundation.log(c.transitionScale * c.transitionScale)), shape: [c.latent])
        if c.covariateCount > 0 {
            // Starts at zero (no nuisance explained) and from its own stream, as the input map.
            var covariateRandom = RandomSource(seed: c.seed ^ 0xC0FA_4A7E)
            var map = Linear<Scalar>(inputs: c.covariateCount, outputs: c.observations, bias: false, random: &covariateRandom)
            map.weight = Tensor(zeros: map.weight.shape)
            decoder.covariateMap = map
        }
        if c.inputCount > 0 {
            // Its own random stream, so autonomous models initialise exactly as before.
            var inputRandom = RandomSource(seed: c.seed ^ 0x1A9D_7E11)
            inputMap = Linear(inputs: c.inputCount, outputs: c.latent, bias: false, random: &inputRandom)
        }
    }

    /// Drives B u_t for the steps t = 0..<steps of inputs u [B, W, U] (nil without inputs).
    func drives(_ inputs: Tensor<Scalar>?, steps: Int) -> [Tensor<Scalar>]? {
        guard let inputs, let inputMap else { return nil }
        let (batch, channels) = (inputs.shape[0], inputs.shape[2])
        return (0..<steps).map { t in inputMap(inputs.slice(alongAxis: 1, t..<(t + 1)).reshaped([batch, channels])) }
    }

    /// The terms of the objective, each averaged over the windows of the batch.
    public struct Objective {
        /// Negative ELBO with the KL weight applied (what is minimised).
        public var loss: Tensor<Scalar>
        /// Gaussian negative log-likelihood of the observations (nats per window).
        public var reconstruction: Scalar
        /// KL divergence (nats per window, before weighting and free bits).
        public var kl: Scalar
    }

    /// - Parameters:
    ///   - x: windows [B, W, R].
    ///   - klWeight: beta times the warm-up factor.
    ///   - freeBits: minimum KL per latent dimension (nats per window).
    ///   - random: the reparameterisation noise.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func objective(_ x: Tensor<Scalar>, inputs: Tensor<Scalar>? = nil, klWeight: Double, freeBits: Double = 0,
                          random: inout RandomSource) throws -> Objective {
        let batch = x.shape[0]
        let (latents, klPerDimension) = try sampleLatents(x, inputs: inputs, random: &random)
        var mean = observe(latents, data: x), observed = features(x)
        if let burnIn = configuration.burnIn, burnIn > 0, burnIn < x.shape[1] {
            mean = mean.slice(alongAxis: 1, burnIn..<x.shape[1])
            observed = observed.slice(alongAxis: 1, burnIn..<x.shape[1])
        }
        let reconstruction = decoder.negativeLogLikelihood(observed, mean: mean) / Scalar(batch)
        // Free bits: max(KL_d, lambda) = lambda + relu(KL_d - lambda) per latent dimension.
        let kl = klPerDimension.sum()
        let penalised = freeBits > 0 ? ((klPerDimension - Scalar(freeBits)).relu() + Scalar(freeBits)).sum() : kl
        let loss = reconstruction + penalised * Scalar(klWeight)
        return Objective(loss: loss, reconstruction: reconstruction.scalar, kl: kl.scalar)
    }

    /// Sampled latents [B, W, K] and the KL per latent dimension [K] (summed over time,
    /// averaged over the batch).
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    func sampleLatents(_ x: Tensor<Scalar>, inputs: Tensor<Scalar>? = nil, random: inout RandomSource) throws -> (Tensor<Scalar>, Tensor<Scalar>) {
        let (batch, window) = (x.shape[0], x.shape[1])
        let k = configuration.latent
        let states = encoderStates(x)
        // The step from t - 1 to t is driven by u_{t-1}.
        let drive = drives(inputs, steps: window - 1)
        switch configuration.inference {
        case .initial:
            let (mean, logVariance) = encoder.gaussian(summary(states), latent: k)
            let z0 = Tensor.reparameterized(mean: mean, logVariance: logVariance, using: &random)
            let path = try dynamics.path(z0, steps: window - 1, drives: drive)
            let kl = GaussianTerms.klPerDimension(mean: mean, logVariance: logVariance) / Scalar(batch)
            return (path, kl)
        case .sequential:
            var previous = Tensor<Scalar>(zeros: [batch, k])
            var memory: Tensor<Scalar>? = nil
            var path: [Tensor<Scalar>] = []
            var kl: Tensor<Scalar>? = nil
            for t in 0..<window {
                var priorMean: Tensor<Scalar>? = nil
                if t > 0 {
                    let (prediction, nextMemory) = try dynamics.step(previous, memory: memory, drive: drive?[t - 1])
                    memory = nextMemory
                    priorMean = prediction
                }
                if let priorMean, !isShootingNode(t) {
                    // Between shooting nodes the field carries the state with no noise (no KL).
                    path.append(priorMean)
                    previous = priorMean
                    continue
                }
                let (mean, logVariance) = posterior(states, step: t, previous: previous, prediction: priorMean)
                let z = Tensor.reparameterized(mean: mean, logVariance: logVariance, using: &random)
                let perDimension: Tensor<Scalar>
                if let priorMean {
                    // KL(N(m, s^2) || N(mu_p, sigma_p^2)), sigma_p learned per dimension.
                    perDimension = GaussianTerms.klPerDimension(mean: mean, logVariance: logVariance, priorMean: priorMean,
                                                                priorLogVariance: transitionLogVariance)
                } else {
                    perDimension = GaussianTerms.klPerDimension(mean: mean, logVariance: logVariance)
                }
                kl = kl.map { $0 + perDimension } ?? perDimension
                path.append(z)
                previous = z
            }
            return (stack(path), (kl ?? Tensor(zeros: [k])) / Scalar(batch))
        }
    }

    /// The noise-free path through every sub-network, differentiable: the decoded means of the
    /// posterior-mean latents [B, W, R] and the dynamics' predictions from them [B, W - 1, K]
    /// (for `initial` they are the rollout itself, so only the decoded means are returned).
    /// Data-free saliency (SynFlow) sums these outputs so that every weight has a score.
    public func meanPathOutputs(_ x: Tensor<Scalar>, inputs: Tensor<Scalar>? = nil) throws -> [Tensor<Scalar>] {
        let (batch, window) = (x.shape[0], x.shape[1])
        let k = configuration.latent
        let states = encoderStates(x)
        let drive = drives(inputs, steps: window - 1)
        switch configuration.inference {
        case .initial:
            let (mean, _) = encoder.gaussian(summary(states), latent: k)
            return [observe(try dynamics.path(mean, steps: window - 1, drives: drive), data: x)]
        case .sequential:
            var previous = Tensor<Scalar>(zeros: [batch, k])
            var memory: Tensor<Scalar>? = nil
            var path: [Tensor<Scalar>] = [], predictions: [Tensor<Scalar>] = []
            for t in 0..<window {
                var priorMean: Tensor<Scalar>? = nil
                if t > 0 {
                    let (prediction, nextMemory) = try dynamics.step(previous, memory: memory, drive: drive?[t - 1])
                    memory = nextMemory
                    predictions.append(prediction)
                    priorMean = prediction
                }
                if let priorMean, !isShootingNode(t) {
                    path.append(priorMean)
                    previous = priorMean
                    continue
                }
                let (mean, _) = posterior(states, step: t, previous: previous, prediction: priorMean)
                path.append(mean)
                previous = mean
            }
            return [observe(stack(path), data: x)] + (predictions.isEmpty ? [] : [stack(predictions)])
        }
    }

    /// The decoded means [B, W, R] of latent paths z [B, W, K]: through the observation kernel
    /// first when the model has one (neural-level latents), else volume by volume.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func observe(_ z: Tensor<Scalar>, data x: Tensor<Scalar>? = nil) -> Tensor<Scalar> {
        let mean = decoder(haemodynamic(z))
        guard let map = decoder.covariateMap, let x else { return mean }
        return mean + map(covariates(x))
    }

    /// The observed features [B, W, R] of windows that may carry covariates after them.
    public func features(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
        guard configuration.covariateCount > 0 else { return x }
        return x.slice(alongAxis: 2, 0..<configuration.observations)
    }

    /// The covariates [B, W, Q] of windows x [B, W, R + Q].
    public func covariates(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
        let r = configuration.observations
        return x.slice(alongAxis: 2, r..<(r + configuration.covariateCount))
    }

    /// z [B, W, K] convolved with the observation kernel (z itself without one): the latents
    /// at the BOLD level. Generic over z's scalar, so analyses can pass Float64 states.
    public func haemodynamic<Value: TensorScalar>(_ z: Tensor<Value>) -> Tensor<Value> {
        guard let kernel = configuration.observationKernel, !kernel.isEmpty else { return z }
        return z.causalConvolution(kernel: kernel.map { Value($0) })
    }

    /// The bidirectional encoder's states of windows x [B, W, R], time-major [W, B, 2H]: the one
    /// place the layout is chosen; `summary` and `posterior` read it, and a time step is a view.
    func encoderStates(_ x: Tensor<Scalar>) -> Tensor<Scalar> { encoder.recurrent(led(x), timeMajorOutput: true) }

    /// x [B, W, R] read `encoderLead` volumes ahead, the last volume repeated to fill the window.
    func led(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
        let window = x.shape[1]
        guard let lead = configuration.encoderLead, lead > 0 else { return x }
        let shift = min(lead, window - 1)
        let last = x.slice(alongAxis: 1, (window - 1)..<window)
        return Tensor.concatenate([x.slice(alongAxis: 1, shift..<window)] + Array(repeating: last, count: shift), alongAxis: 1)
    }

    /// The forward GRU's last state and the backward GRU's first: [B, 2H], from the encoder's
    /// time-major states [W, B, 2H].
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    func summary(_ states: Tensor<Scalar>) -> Tensor<Scalar> {
        let (window, batch, width) = (states.shape[0], states.shape[1], states.shape[2])
        let half = width / 2
        let forwardLast = states.slice(alongAxis: 0, (window - 1)..<window).reshaped([batch, width]).slice(alongAxis: 1, 0..<half)
        let backwardFirst = states.slice(alongAxis: 0, 0..<1).reshaped([batch, width]).slice(alongAxis: 1, half..<width)
        return Tensor.concatenate([forwardLast, backwardFirst], alongAxis: 1)
    }

    /// q(z_t | z_{t-1}, x): the combiner 0.5 (tanh(W z_{t-1} + b) + h_t), then the posterior head.
    /// With `predictivePosterior` the head's mean is a correction added to the dynamics'
    /// `prediction` of z_t from z_{t-1} (ignored otherwise, and absent at t = 0).
    /// `states` are the encoder's time-major [W, B, 2H], so h_t is a view.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    func posterior(_ states: Tensor<Scalar>, step t: Int, previous: Tensor<Scalar>, prediction: Tensor<Scalar>? = nil) -> (Tensor<Scalar>, Tensor<Scalar>) {
        let (batch, width) = (states.shape[1], states.shape[2])
        let h = states.slice(alongAxis: 0, t..<(t + 1)).reshaped([batch, width])
        let combined = (encoder.combiner(previous).tanh() + h) * Scalar(0.5)
        let (mean, logVariance) = encoder.gaussian(combined, latent: configuration.latent)
        guard configuration.predictivePosterior == true, let prediction else { return (mean, logVariance) }
        return (prediction + mean, logVariance)
    }

    /// Whether the encoder corrects step t (every step unless `shootingInterval` M > 1 with a
    /// predictive posterior; then t = 0, M, 2M, ...).
    func isShootingNode(_ t: Int) -> Bool {
        guard configuration.predictivePosterior == true, let interval = configuration.shootingInterval, interval > 1 else { return true }
        return t % interval == 0
    }

    /// States [B, K] of consecutive steps as [B, T, K].
    func stack(_ path: [Tensor<Scalar>]) -> Tensor<Scalar> { Tensor.stackedInTime(path) }

    /// Posterior-mean latents [T, K] of a whole run [T, R]. Sequential: filtering through the
    /// run with z_{t-1} set to the previous posterior mean. Initial: consecutive windows of W
    /// volumes, each encoded to the mean of q(z_0 | x) and integrated (the last window ends at
    /// the run's end and overlaps its predecessor; overlapping volumes keep the earlier window's
    /// values).
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func posteriorMeans(_ run: Tensor<Scalar>, inputs: Tensor<Scalar>? = nil) throws -> Tensor<Scalar> {
        let (steps, features) = (run.shape[0], run.shape[1])
        let k = configuration.latent
        switch configuration.inference {
        case .sequential:
            // The whole run is one window filtered from its first volume.
            let runInputs = inputs.map { $0.reshaped([1, steps, $0.shape[1]]) }
            return try filteredPath(run.reshaped([1, steps, features]), inputs: runInputs).reshaped([steps, k])
        case .initial:
            let window = min(configuration.window, steps)
            var starts = Array(stride(from: 0, to: steps - window + 1, by: window))
            if let last = starts.last, last + window < steps { starts.append(steps - window) }
            var result = [Scalar](repeating: 0, count: steps * k)
            var filled = [Bool](repeating: false, count: steps)
            for start in starts {
                let x = run.slice(alongAxis: 0, start..<(start + window)).reshaped([1, window, features])
                let (mean, _) = encoder.gaussian(summary(encoderStates(x)), latent: k)
                let windowInputs = inputs.map { $0.slice(alongAxis: 0, start..<(start + window)).reshaped([1, window, $0.shape[1]]) }
                let path = try dynamics.path(mean.detached, steps: window - 1, drives: drives(windowInputs, steps: window - 1)).scalars
                for offset in 0..<window where !filled[start + offset] {
                    for d in 0..<k { result[(start + offset) * k + d] = path[offset * k + d] }
                    filled[start + offset] = true
                }
            }
            return Tensor(shape: [steps, k], scalars: result)
        }
    }
}
