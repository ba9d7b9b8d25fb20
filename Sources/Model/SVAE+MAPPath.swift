import Core
import Foundation
import LinearAlgebra

extension SVAE {
    /// Settings of `mapPath`.
    public struct MAPPathOptions: Sendable, Hashable {
        /// q: the standard deviation of the transition noise, in latent units per step (one TR).
        public var transitionSD: Double
        /// L-BFGS iterations at most.
        public var iterations = 300
        /// Stop when the largest entry of the gradient is at most this.
        public var tolerance = 1e-3
        /// The observation noise of the likelihood term: nil, the decoder's diagonal Gaussian;
        /// otherwise this low-rank-plus-diagonal one (fitted by `structuredNoise(of:path:rank:)`).
        public var noise: StructuredNoise? = nil

        public init(transitionSD: Double) { self.transitionSD = transitionSD }
    }

    /// The most probable latent path of one run under the model with transition noise: the
    /// path z [T, K] that minimises
    ///
    ///     E(z) = -log p(x | z) + 1 / (2 q^2) sum_{t=1}^{T-1} |z_t - phi(z_{t-1}) - d_{t-1}|^2,
    ///
    /// with p(x | z) the decoder's Gaussian likelihood of the run's features x [T, R] (through
    /// the observation kernel, with the covariates of x when the model has them), phi the
    /// field's one-step map and d_t = B u_t the inputs' drive over that step. The deterministic
    /// rollout that `posteriorMeans` gives for `initial` inference is the q -> 0 limit; a finite
    /// q lets the data correct the path at every step while the field still carries it, the
    /// smoothing an inferred input gives (as LFADS's controller). Started from `start` [T, K]
    /// (usually `posteriorMeans`), minimised by L-BFGS in Float64. Neural-ODE dynamics only
    /// (the GRU baseline's step carries a memory the path does not hold).
    public func mapPath(_ run: Tensor<Scalar>, inputs: Tensor<Scalar>? = nil, start: Tensor<Scalar>, options: MAPPathOptions) throws -> Tensor<Scalar> {
        guard dynamics.node != nil else { throw TrainingError("the MAP path needs neural-ODE dynamics (the GRU baseline's step has a memory)") }
        let (steps, features) = (run.shape[0], run.shape[1])
        let k = configuration.latent
        guard start.shape == [steps, k], steps >= 2 else {
            throw TrainingError("the MAP path needs a start of shape [\(steps), \(k)] for a run of \(steps) volumes (at least 2)")
        }
        guard options.transitionSD > 0, options.transitionSD.isFinite else { throw TrainingError("the MAP path needs a positive transition SD") }
        let model: SVAE<Double> = converted()
        let x = run.converted(to: Double.self).reshaped([1, steps, features])
        let observed = model.features(x)
        let drive: Tensor<Double>? = try inputs.map { u in
            guard u.shape.count == 2, u.shape[0] == steps, let map = model.inputMap else {
                throw TrainingError("the MAP path's inputs must be [\(steps), \(configuration.inputCount)] for a model with inputs")
            }
            return map(u.converted(to: Double.self).slice(alongAxis: 0, 0..<(steps - 1)))
        }
        let weight = 0.5 / (options.transitionSD * options.transitionSD)
        let precision: Tensor<Double>? = try options.noise.map { noise in
            guard noise.features == observed.shape[2] else {
                throw TrainingError("the MAP path's structured noise has \(noise.features) features; the model observes \(observed.shape[2])")
            }
            return Tensor(shape: [noise.features, noise.features], scalars: noise.precision)
        }
        var failure: (any Error)? = nil
        let energy: ([Double]) -> (Double, [Double]) = { scalars in
            do {
                let (value, gradient) = try valueAndGradient(of: SingleTensor(value: Tensor<Double>(shape: [steps, k], scalars: scalars))) { path in
                    try model.mapEnergy(path.value, observed: observed, data: x, drive: drive, transitionWeight: weight, precision: precision)
                }
                return (value, Array(gradient.value.scalars))
            } catch {
                failure = failure ?? error
                return (.infinity, [Double](repeating: 0, count: scalars.count))
            }
        }
        let solution = LBFGS.minimize(energy, start: start.scalars.map { Double($0) }, tolerance: options.tolerance, maxIterations: options.iterations)
        if let failure { throw failure }
        return Tensor(shape: [steps, k], scalars: solution.map { Scalar($0) })
    }

    /// The MAP path of one run with the task withheld: `mapPath` without inputs (u = 0), so
    /// every kick the task gave must come from the data as transition noise. Started from the
    /// autonomous rollout of the inferred initial state and annealed: minimised first at
    /// q = 1 (the path then nearly a deconvolution of the data, one basin for a linear decoder),
    /// then at 0.3, 0.1, ... down to `options.transitionSD`, each from the last, so the field
    /// does not pin the path in the well its start sits in. Used to decode a model that was
    /// trained with the task as inputs without giving it the task at read-out.
    public func taskFreePath(_ run: Tensor<Scalar>, options: MAPPathOptions) throws -> Tensor<Scalar> {
        try taskFreePaths(run, transitionSDs: [options.transitionSD], options: options)[0]
    }

    /// `taskFreePath` at each of `transitionSDs` (in that order). Each path is the one
    /// `taskFreePath` gives; the stages their schedules share are minimised once (the path
    /// after a stage at q depends on q alone: every schedule reaches q through the same ladder).
    public func taskFreePaths(_ run: Tensor<Scalar>, transitionSDs: [Double], options: MAPPathOptions) throws -> [Tensor<Scalar>] {
        guard transitionSDs.allSatisfy({ $0 > 0 && $0.isFinite }) else { throw TrainingError("the MAP path needs a positive transition SD") }
        let start = try posteriorMeans(run)
        var reached: [Double: Tensor<Scalar>] = [:]
        return try transitionSDs.map { target in
            var path = start
            for q in Self.annealingSchedule(to: target) {
                if let known = reached[q] { path = known; continue }
                var stage = options
                stage.transitionSD = q
                path = try mapPath(run, inputs: nil, start: path, options: stage)
                reached[q] = path
            }
            return path
        }
    }

    /// The structured observation noise (`StructuredNoise`, rank `rank`) of one run [T, R] under
    /// a latent path [T, K]: fitted to the residuals features(x) - observe(path), with a linear
    /// decoder's columns left out of its low-rank directions, and scaled to the trace of the
    /// decoder's diagonal noise (the size of the noise stays the model's; its shape is the run's).
    public func structuredNoise(of run: Tensor<Scalar>, path: Tensor<Scalar>, rank: Int) throws -> StructuredNoise {
        let (steps, k) = (path.shape[0], path.shape[1])
        let model: SVAE<Double> = converted()
        let x = run.converted(to: Double.self).reshaped([1, steps, run.shape[1]])
        let residual = model.features(x) - model.observe(path.converted(to: Double.self).reshaped([1, steps, k]), data: x)
        let features = residual.shape[2]
        let weight = model.decoder.linear.map { Array($0.weight.scalars) }  // [R, K]
        return try StructuredNoise(residuals: Array(residual.scalars), steps: steps, features: features, rank: rank,
                                   excluded: weight, excludedColumns: weight == nil ? 0 : k,
                                   totalVariance: model.decoder.logVariance.scalars.reduce(0) { $0 + Foundation.exp($1) })
    }

    /// The transition SDs `taskFreePath` minimises at: 1, 0.3, 0.1, 0.03, ... while above
    /// `target`, then `target`.
    static func annealingSchedule(to target: Double) -> [Double] {
        var schedule: [Double] = []
        var q = 1.0
        while q > target * 1.0001 {
            schedule.append(q)
            q /= schedule.count % 2 == 1 ? 10.0 / 3.0 : 3.0
        }
        return schedule + [target]
    }

    /// E(z) of `mapPath` for z [T, K] (differentiable in z).
    /// `precision` [R, R]: the likelihood term is 1/2 sum_t e_t^T P e_t of the residuals e_t
    /// (structured noise, constants dropped) instead of the decoder's diagonal Gaussian.
    func mapEnergy(_ z: Tensor<Scalar>, observed: Tensor<Scalar>, data x: Tensor<Scalar>, drive: Tensor<Scalar>?, transitionWeight: Double,
                   precision: Tensor<Scalar>? = nil) throws -> Tensor<Scalar> {
        let steps = z.shape[0], k = z.shape[1]
        let mean = observe(z.reshaped([1, steps, k]), data: x)
        let likelihood: Tensor<Scalar>
        if let precision {
            let residual = (observed - mean).reshaped([steps, precision.shape[0]])
            likelihood = (residual.matmul(precision) * residual).sum() * Scalar(0.5)
        } else {
            likelihood = decoder.negativeLogLikelihood(observed, mean: mean)
        }
        let (next, _) = try dynamics.step(z.slice(alongAxis: 0, 0..<(steps - 1)), memory: nil, drive: drive)
        let residual = z.slice(alongAxis: 0, 1..<steps) - next
        return likelihood + residual.squared().sum() * Scalar(transitionWeight)
    }
}
