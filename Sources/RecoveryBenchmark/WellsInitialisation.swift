import Core
import Dynamics
import Foundation
import LinearAlgebra
import Model

/// A starting model whose attractors sit where the data dwell (issue 16, "wells placed first"),
/// for a neural-level model with known task inputs (observation kernel, external inputs, linear
/// decoder, neural-ODE field). Random fields start flat, and every fit from them in
/// docs/recovery.md kept a flat field; `bench/wells_first.py` showed that a whole-run rollout fit
/// started from wells placed at the modes of a field-free path tracks the truth. Here, from the
/// training runs alone:
///
/// 1. the subspace: the K directions V [K x R] of the task GLM's fitted responses (`TaskGLM.axes`);
/// 2. the BOLD-level scores s_t = V x_t, each dimension standardised over all volumes;
/// 3. a field-free neural path per run: z = argmin |H z - s|^2 + lambda |D z|^2 with H the
///    model's own causal convolution by the observation kernel (steps before the run take its
///    first state) and D first differences (the MAP path of a random walk seen through the HRF);
/// 4. a Gaussian mixture of n components on those states; its means mu_j are the wells. Or, with
///    `restSettle`, the wells are read where the task has left the state to the field: mu_c is
///    the mean of the path over the rest volumes at least `restSettle` seconds after a block of
///    condition c ended (`settledRest`), one well per condition, with a shared covariance (the
///    path's states assigned to their nearest well, pooled within wells). Session 32's diagnostic
///    (`bench/wells_paths.py`) found that the mixture's means miss the wells even on the true path
///    (they average the states the task drives between wells), while these rest means lie within
///    0.07 of a well on the truth and on the deconvolved BOLD-level truth;
/// 5. the field class of the model pretrained (Adam, mean squared error) to the flow toward the
///    wells f0(x) = -alpha sum_j r_j(x) (x - mu_j) on the states and on a copy jittered by
///    `jitter` standard deviations (alpha = `rate` per second, times the TR per step; the
///    responsibilities r_j at `temperature`, raised if asked until the flow's expansion is
///    at most `expansionLimit`);
/// 6. the input map B by least squares of the increments the field leaves, z_{t+1} - phi(z_t)
///    (phi the field's one-TR step), on the inputs u_t;
/// 7. the decoder by least squares of the regions x_t on (H z)_t and an intercept, its log
///    variances the residuals' per region. The encoder keeps its random initialisation.
public struct WellsInitialisation {
    public struct Options: Sendable, Hashable {
        /// Mixture components n (candidate wells).
        public var components = 8
        /// alpha of the starting flow toward the wells, per second.
        public var rate = 1.0
        /// Jitter of the field's training points, in standard deviations of the path.
        public var jitter = 0.3
        /// lambda of the deconvolution's first-difference penalty (standardised units).
        public var smoothing = 1.0
        /// Adam iterations (full batch) of the field's pretraining.
        public var iterations = 2000
        public var learningRate = 5e-3
        /// Temperature T of the responsibilities in the starting flow (`GaussianMixture.responsibilities`):
        /// above 1 the flow turns more gently from one well to the next.
        public var temperature = 1.0
        /// Per second; nil keeps `temperature`. Otherwise the temperature is raised (x1, 1.5, 2,
        /// 3, 4, 6, 8, 12, 16 of `temperature`) until the starting flow's largest logarithmic
        /// norm over the path's states, the fastest rate at which it pulls neighbouring states
        /// apart, is at most this. Sharp boundaries between wells expand states many times
        /// faster than the flow contracts them, and a whole-run rollout through such a field has
        /// gradients that overflow (docs/recovery.md, seventh round).
        public var expansionLimit: Double? = nil
        /// Seconds; nil places the wells at the mixture's means. Otherwise the wells are the
        /// path's means at rest at least this long after each condition's blocks (step 4), and
        /// `components` is not used.
        public var restSettle: Double? = nil

        public init(components: Int = 8) { self.components = components }
    }

    /// Per training run [T][K]: the field-free neural path the wells were read from.
    public let paths: [[[Double]]]
    public let mixture: GaussianMixture
    /// R^2 of the pretrained field against the flow toward the wells on its training points.
    public let fieldFitR2: Double
    /// The responsibilities' temperature the starting flow used.
    public let temperature: Double
    /// The starting flow's largest logarithmic norm over the path's states, per second.
    public let largestExpansion: Double
    public let model: SVAE<Float>

    /// - Parameters:
    ///   - configuration: the model's; needs an observation kernel, external inputs, neural-ODE
    ///     dynamics and a linear decoder without covariates.
    ///   - regions: the training runs' standardised regions [run][T][R].
    ///   - labels: their conditions at the neural level per volume ("rest" between blocks).
    ///   - inputs: their external inputs [run][T][U] as the model receives them.
    public init(configuration c: SVAEConfiguration, regions: [[[Double]]], labels: [[String]], inputs: [[[Double]]], conditions: [String],
                repetitionTime: Double, options: Options, seed: UInt64) throws {
        guard let kernel = c.observationKernel, !kernel.isEmpty, c.inputCount > 0, c.dynamics == .node, c.decoder == .linear,
              c.covariateCount == 0 else {
            throw TrainingError("the wells initialisation needs a neural-level model (observation kernel) with external inputs, neural-ODE dynamics, a linear decoder and no covariates")
        }
        guard let r = regions.first?.first?.count, r == c.observations, regions.count == inputs.count, regions.count == labels.count else {
            throw TrainingError("the wells initialisation needs runs of \(c.observations) regions with their labels and inputs")
        }
        let k = c.latent, u = c.inputCount
        let glm = try TaskGLM(regions: regions, labels: labels, conditions: conditions, repetitionTime: repetitionTime, rank: k)

        // Scores on the task subspace, standardised per dimension over all volumes.
        let projected = regions.map { run in run.map { x in glm.axes.map { axis in zip(axis, x).reduce(0) { $0 + $1.0 * $1.1 } } } }
        let (scoreMean, scoreSD) = Self.moments(projected.flatMap { $0 }, dimension: k)
        let scores = projected.map { run in run.map { s in (0..<k).map { (s[$0] - scoreMean[$0]) / max(scoreSD[$0], 1e-12) } } }
        let paths = try scores.map { try Self.deconvolve($0, kernel: kernel, smoothing: options.smoothing) }
        let states = paths.flatMap { $0 }
        var random = RandomSource(seed: seed ^ 0x3E11_5F12)
        let mixture: GaussianMixture
        if let settle = options.restSettle {
            let rest = labels.map { Self.settledRest(labels: $0, conditions: conditions, repetitionTime: repetitionTime, settle: settle) }
            mixture = try Self.restWells(paths: paths, settled: rest, conditions: conditions.count)
        } else {
            mixture = try GaussianMixture(fitting: states, components: options.components, initialisations: 3, using: &random)
        }

        // The field: the model's class, pretrained to the flow toward the wells.
        let spread = Self.moments(states, dimension: k).sd
        let points = states + states.map { x in (0..<k).map { x[$0] + options.jitter * spread[$0] * random.normal() } }
        let alpha = options.rate * repetitionTime
        var temperature = options.temperature
        var expansion = try Self.largestExpansion(of: mixture, rate: alpha, temperature: temperature, at: states) / repetitionTime
        if let limit = options.expansionLimit {
            for factor in [1.5, 2, 3, 4, 6, 8, 12, 16] where expansion > limit {
                temperature = options.temperature * factor
                expansion = try Self.largestExpansion(of: mixture, rate: alpha, temperature: temperature, at: states) / repetitionTime
            }
        }
        let responsibilities = mixture.responsibilities(points, temperature: temperature)
        let targets = zip(points, responsibilities).map { x, weights in
            (0..<k).map { d in -alpha * (x[d] - zip(weights, mixture.means).reduce(0) { $0 + $1.0 * $1.1[d] }) }
        }
        var fieldRandom = RandomSource(seed: seed ^ 0xF1E1_D000)
        var field = MLPVectorField<Double>(dimension: k, hidden: [c.hidden, c.hidden], activation: .tanh, zeroLastLayer: true,
                                           leak: c.fieldLeak ?? 0, random: &fieldRandom)
        let x = Tensor<Double>(shape: [points.count, k], scalars: points.flatMap { $0 })
        let target = Tensor<Double>(shape: [points.count, k], scalars: targets.flatMap { $0 })
        var adam = Adam<Double>(learningRate: options.learningRate)
        let scale = 1 / Double(points.count)
        for _ in 0..<options.iterations {
            let (_, gradient) = valueAndGradient(of: field) { f in (f(0, x) - target).squared().sum() * scale }
            adam.update(&field, along: gradient, masks: nil)
        }
        let fitted = field(0, x).scalars, wanted = target.scalars
        var residual = 0.0, total = 0.0
        for index in wanted.indices {
            residual += (fitted[index] - wanted[index]) * (fitted[index] - wanted[index])
            total += wanted[index] * wanted[index]
        }

        // B: least squares of what one undriven step of the field leaves, on the inputs.
        let dynamics = NeuralODEDynamics(field: field, method: c.solver, options: ODEOptions(stepSize: c.solver.isAdaptive ? nil : c.solverStep),
                                         stepSize: 1)
        var gram = [Double](repeating: 0, count: u * u), cross = [Double](repeating: 0, count: u * k)
        for (run, path) in paths.enumerated() where path.count > 1 {
            let current = Tensor<Double>(shape: [path.count - 1, k], scalars: path.dropLast().flatMap { $0 })
            let stepped = try dynamics.step(current, memory: nil).0.scalars
            for t in 0..<(path.count - 1) {
                let drive = inputs[run][t]
                for a in 0..<u where drive[a] != 0 {
                    for b in 0..<u { gram[a * u + b] += drive[a] * drive[b] }
                    for d in 0..<k { cross[a * k + d] += drive[a] * (path[t + 1][d] - stepped[t * k + d]) }
                }
            }
        }
        for a in 0..<u { gram[a * u + a] += 1e-6 }
        try DenseLinearAlgebra.solve(&gram, &cross, n: u, rightHandSides: k)
        // Linear weights are [outputs, inputs]: B^T of the solution [U x K].
        let inputWeight = (0..<k).flatMap { d in (0..<u).map { a in cross[a * k + d] } }

        // The decoder: regions on the path through the kernel, with an intercept.
        let width = k + 1
        var decoderGram = [Double](repeating: 0, count: width * width), decoderCross = [Double](repeating: 0, count: width * r)
        var regressors: [[[Double]]] = []
        for (run, path) in paths.enumerated() {
            let convolved = Self.convolve(path, kernel: kernel).map { $0 + [1] }
            regressors.append(convolved)
            for (h, xt) in zip(convolved, regions[run]) {
                for a in 0..<width {
                    for b in 0..<width { decoderGram[a * width + b] += h[a] * h[b] }
                    for f in 0..<r { decoderCross[a * r + f] += h[a] * xt[f] }
                }
            }
        }
        for a in 0..<k { decoderGram[a * width + a] += 1e-6 }
        try DenseLinearAlgebra.solve(&decoderGram, &decoderCross, n: width, rightHandSides: r)
        var variance = [Double](repeating: 0, count: r)
        var count = 0.0
        for (run, rows) in regressors.enumerated() {
            for (h, xt) in zip(rows, regions[run]) {
                for f in 0..<r {
                    var predicted = 0.0
                    for a in 0..<width { predicted += h[a] * decoderCross[a * r + f] }
                    variance[f] += (xt[f] - predicted) * (xt[f] - predicted)
                }
                count += 1
            }
        }
        let decoderWeight = (0..<r).flatMap { f in (0..<k).map { a in Float(decoderCross[a * r + f]) } }
        let decoderBias = (0..<r).map { f in Float(decoderCross[k * r + f]) }

        var model = SVAE<Float>(configuration: c)
        model.dynamics.node?.field = field.converted()
        model.inputMap = Linear(weight: Tensor(shape: [k, u], scalars: inputWeight.map(Float.init)), bias: nil)
        model.decoder.linear = Linear(weight: Tensor(shape: [r, k], scalars: decoderWeight), bias: Tensor(shape: [r], scalars: decoderBias))
        model.decoder.logVariance = Tensor(shape: [r], scalars: variance.map { Float(Foundation.log(max($0 / max(count, 1), 1e-6))) })
        self.paths = paths
        self.mixture = mixture
        fieldFitR2 = total > 0 ? 1 - residual / total : .nan
        self.temperature = temperature
        largestExpansion = expansion
        self.model = model
    }

    /// The Jacobian [K x K, row-major] at x of the flow toward the wells
    /// f0(x) = -alpha (x - sum_j r_j(x) mu_j) with responsibilities at temperature T:
    /// J = -alpha I + (alpha / T) sum_j r_j mu_j (g_j - gbar)^T, g_j the gradient of component j's
    /// log density and gbar = sum_k r_k g_k (so dr_j/dx = r_j (g_j - gbar) / T).
    static func flowJacobian(of mixture: GaussianMixture, rate alpha: Double, temperature: Double, at x: [Double]) -> [Double] {
        let k = x.count
        let r = mixture.responsibilities([x], temperature: temperature)[0]
        let g = mixture.logDensityGradients(at: x)
        var mean = [Double](repeating: 0, count: k)
        for (weight, gradient) in zip(r, g) { for d in 0..<k { mean[d] += weight * gradient[d] } }
        var jacobian = [Double](repeating: 0, count: k * k)
        for a in 0..<k { jacobian[a * k + a] = -alpha }
        for j in r.indices where r[j] > 0 {
            let scale = alpha / temperature * r[j]
            for a in 0..<k {
                for b in 0..<k { jacobian[a * k + b] += scale * mixture.means[j][a] * (g[j][b] - mean[b]) }
            }
        }
        return jacobian
    }

    /// max over `states` of the logarithmic norm of the flow's Jacobian, the largest eigenvalue
    /// of (J + J^T) / 2: the fastest rate (per step) at which the flow separates two nearby
    /// states, |d(t)| <= exp(mu t) |d(0)|.
    static func largestExpansion(of mixture: GaussianMixture, rate alpha: Double, temperature: Double, at states: [[Double]]) throws -> Double {
        var largest = -Double.infinity
        for x in states {
            let j = flowJacobian(of: mixture, rate: alpha, temperature: temperature, at: x)
            let k = x.count
            var symmetric = (0..<(k * k)).map { index in 0.5 * (j[index] + j[(index % k) * k + index / k]) }
            let values = try DenseLinearAlgebra.symmetricEigen(&symmetric, n: k)
            largest = max(largest, values.last ?? -.infinity)
        }
        return largest
    }

    /// Per volume of one run's neural-level labels: the index in `conditions` of the last block
    /// when the volume is at rest (a label outside `conditions`) and at least `settle` seconds
    /// after that block's last volume, else nil (inside blocks, before the first block, and in
    /// the first `settle` seconds of each rest).
    static func settledRest(labels: [String], conditions: [String], repetitionTime: Double, settle: Double) -> [Int?] {
        var previous: Int?, lastActive = 0
        return labels.enumerated().map { t, label in
            if let condition = conditions.firstIndex(of: label) {
                previous = condition
                lastActive = t
                return nil
            }
            guard let previous, Double(t - lastActive) * repetitionTime >= settle - 1e-9 else { return nil }
            return previous
        }
    }

    /// The wells at rest: per condition with settled volumes, the mean of the paths [run][T][K]
    /// over them; weights the fractions of all states nearest to each well, and one covariance
    /// for all, the states' scatter about their nearest well (plus 1e-6 on the diagonal).
    static func restWells(paths: [[[Double]]], settled: [[Int?]], conditions: Int) throws -> GaussianMixture {
        guard let k = paths.first?.first?.count else { throw TrainingError("the wells at rest need paths") }
        var sums = [[Double]](repeating: [Double](repeating: 0, count: k), count: conditions)
        var counts = [Int](repeating: 0, count: conditions)
        for (path, marks) in zip(paths, settled) {
            for (x, mark) in zip(path, marks) {
                guard let c = mark else { continue }
                counts[c] += 1
                for d in 0..<k { sums[c][d] += x[d] }
            }
        }
        let means = (0..<conditions).filter { counts[$0] > 0 }.map { c in sums[c].map { $0 / Double(counts[c]) } }
        guard means.count >= 2 else {
            throw TrainingError("the wells at rest need rest after blocks of at least two conditions (found \(means.count)): lower the settling time, or place the wells by the mixture")
        }
        var basin = [Double](repeating: 0, count: means.count)
        var scatter = [Double](repeating: 0, count: k * k)
        var total = 0.0
        for x in paths.joined() {
            let distances = means.map { mean in zip(x, mean).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) } }
            let nearest = distances.indices.min { distances[$0] < distances[$1] } ?? 0
            basin[nearest] += 1
            total += 1
            for a in 0..<k { for b in 0..<k { scatter[a * k + b] += (x[a] - means[nearest][a]) * (x[b] - means[nearest][b]) } }
        }
        var covariance = scatter.map { $0 / max(total, 1) }
        for a in 0..<k { covariance[a * k + a] += 1e-6 }
        return try GaussianMixture(weights: basin.map { $0 + 1 }, means: means, covariances: Array(repeating: covariance, count: means.count))
    }

    /// Per-dimension mean and (population) standard deviation of points [N][K].
    static func moments(_ points: [[Double]], dimension k: Int) -> (mean: [Double], sd: [Double]) {
        let n = Double(max(points.count, 1))
        let mean = (0..<k).map { d in points.reduce(0) { $0 + $1[d] } / n }
        let sd = (0..<k).map { d in (points.reduce(0) { $0 + ($1[d] - mean[d]) * ($1[d] - mean[d]) } / n).squareRoot() }
        return (mean, sd)
    }

    /// (H z)_t = sum_j kernel_j z_{max(t - j, 0)}: the model's causal convolution of a path [T][K]
    /// (equal to `Tensor.causalConvolution` to rounding, tested). Kept as this loop because the
    /// recorded `node-wells` cells were computed with it. `causalConvolution` sums in another order,
    /// and whether the rounding-sensitive whole-run fits then reproduce has not been checked.
    static func convolve(_ path: [[Double]], kernel: [Double]) -> [[Double]] {
        path.indices.map { t in
            var value = [Double](repeating: 0, count: path[t].count)
            for (j, weight) in kernel.enumerated() {
                let source = path[max(t - j, 0)]
                for d in value.indices { value[d] += weight * source[d] }
            }
            return value
        }
    }

    /// argmin_z |H z - s|^2 + lambda |D z|^2 per dimension for scores s [T][K] (H as `convolve`,
    /// D first differences), by the normal equations.
    static func deconvolve(_ scores: [[Double]], kernel: [Double], smoothing lambda: Double) throws -> [[Double]] {
        let n = scores.count
        guard n > 1, let k = scores.first?.count else { return scores }
        var h = [Double](repeating: 0, count: n * n)
        for t in 0..<n { for (j, weight) in kernel.enumerated() { h[t * n + max(t - j, 0)] += weight } }
        var normal = [Double](repeating: 0, count: n * n), right = [Double](repeating: 0, count: n * k)
        for t in 0..<n {
            for a in 0..<n where h[t * n + a] != 0 {
                let value = h[t * n + a]
                for b in 0..<n where h[t * n + b] != 0 { normal[a * n + b] += value * h[t * n + b] }
                for d in 0..<k { right[a * k + d] += value * scores[t][d] }
            }
        }
        for t in 0..<(n - 1) {
            normal[t * n + t] += lambda
            normal[(t + 1) * n + (t + 1)] += lambda
            normal[t * n + t + 1] -= lambda
            normal[(t + 1) * n + t] -= lambda
        }
        for t in 0..<n { normal[t * n + t] += 1e-9 }
        try DenseLinearAlgebra.solve(&normal, &right, n: n, rightHandSides: k)
        return (0..<n).map { t in Array(right[(t * k)..<((t + 1) * k)]) }
    }
}
