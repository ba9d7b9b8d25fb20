import Analysis
import Core
import Dynamics
import Foundation
import Model
import Simulation

/// What the benchmark's fixed points can be at best with the models' own field class: the
/// neural ODE of `fit` (MLP K-H-H-K, tanh, zero last layer, RK4 over one TR, known inputs
/// dz/dt = f(z) + B u) fitted straight to the simulator's true neural latents and the task's
/// boxcars by one-step prediction, with no encoder, no HRF and no observation noise between.
///
/// If this oracle finds the visited wells and the SVAE does not, inference loses them; if the
/// oracle finds one stable point too, the trajectories themselves do not ask the field class
/// for basins, and no change of inference can recover them from such data.
public enum FieldOracle {
    /// An error added to the true path before the field is fitted, standing in for inference's
    /// error: AR(1) across volumes with lag-one correlation `correlation`, independent across
    /// dimensions and runs, with variance var(z_k) (1 - R^2) / R^2 in each dimension k, so that
    /// an affine read-out of the truth from the degraded path scores about `stateR2` (the
    /// benchmark's state R^2).
    public struct PathError: Codable, Sendable, Equatable {
        public var stateR2: Double
        public var correlation: Double

        public init(stateR2: Double, correlation: Double) {
            self.stateR2 = stateR2
            self.correlation = correlation
        }

        /// `paths` [run][t][K] with the error added (seeded by `seed`).
        func degrade(_ paths: [[[Double]]], seed: UInt64) -> [[[Double]]] {
            guard let k = paths.first?.first?.count, stateR2 < 1 else { return paths }
            let states = paths.flatMap { $0 }
            let scales = (0..<k).map { d -> Double in
                let mean = states.reduce(0) { $0 + $1[d] } / Double(states.count)
                let variance = states.reduce(0) { $0 + ($1[d] - mean) * ($1[d] - mean) } / Double(states.count)
                return (variance * (1 - stateR2) / stateR2).squareRoot()
            }
            var random = RandomSource(seed: seed ^ 0xE440_0A11)
            let innovation = (1 - correlation * correlation).squareRoot()
            return paths.map { run in
                var error = (0..<k).map { _ in random.normal() }
                return run.map { z in
                    defer { error = error.map { correlation * $0 + innovation * random.normal() } }
                    return (0..<k).map { z[$0] + scales[$0] * error[$0] }
                }
            }
        }
    }

    public struct Result: Codable, Sendable {
        public var system: String
        public var seed: UInt64
        public var leak: Double
        /// The error added to the true path (nil: the truth itself) and the affine R^2 of the
        /// truth from the path the field was fitted to.
        public var pathError: PathError?
        public var pathR2: Double?
        /// Whether the task's boxcars drove the field (false: the autonomous field alone has
        /// to explain the task's pushes too, as in a model without inputs).
        public var usesInputs: Bool
        /// R^2 of the predicted one-TR increments z_{t+1} - z_t (0: no better than holding).
        public var incrementR2: Double
        /// Fixed points in the true coordinates (no alignment needed).
        public var fixedPoints: RecoveryMetrics.FixedPointScores
        /// True stable points the latent path occupies (at least 1% of volumes within 0.25).
        public var visitedStable: Int
        /// Fraction of the visited stable points with a found stable point within 0.25.
        public var recallOfVisited: Double?
        /// `RecoveryMetrics`' normalised vector-field error at the true states.
        public var fieldError: Double
        /// Real parts (per TR) of the Jacobian's eigenvalues at the found stable points, the
        /// slowest first: a value near 0 is a nearly neutral direction.
        public var slowestStableEigenvalues: [Double]
    }

    /// The field and the input map, trained together.
    struct DrivenField: Module {
        typealias Scalar = Double
        var dynamics: NeuralODEDynamics<Double>
        var inputMap: Linear<Double>

        var parameters: [(name: String, path: WritableKeyPath<DrivenField, Tensor<Double>>)] {
            nested(\.dynamics, prefix: "dynamics") + nested(\.inputMap, prefix: "input_map")
        }
    }

    /// One-hot inputs [T][C] of per-volume conditions (rest: zeros), in `conditions`' order.
    static func inputs(_ labels: [String], conditions: [String]) -> [[Double]] {
        labels.map { label in conditions.map { $0 == label ? 1.0 : 0.0 } }
    }

    /// Fits the field class (and B, when `inputs` are given) to latent `paths` [run][t][K] by
    /// one-step prediction over consecutive volumes: full batch, Adam, mean squared error of
    /// z_{t+1}. Returns the trained pair and the R^2 of the predicted increments.
    public static func fitField(paths: [[[Double]]], inputs: [[[Double]]]?, consecutive: [[Bool]]? = nil, hidden: Int = 32,
                                iterations: Int = 3000, learningRate: Double = 5e-3, leak: Double = 0,
                                seed: UInt64) throws -> (field: MLPVectorField<Double>, inputMap: Linear<Double>?, incrementR2: Double) {
        guard let k = paths.first?.first?.count else { throw TrainingError("the field refit needs at least one latent path") }
        let channels = inputs?.first?.first?.count ?? 0
        var current: [Double] = [], next: [Double] = [], drive: [Double] = []
        for (run, states) in paths.enumerated() where states.count > 1 {
            for t in 0..<(states.count - 1) where consecutive?[run][t] ?? true {
                current += states[t]
                next += states[t + 1]
                if let inputs { drive += inputs[run][t] }
            }
        }
        let n = current.count / k
        guard n > 0 else { throw TrainingError("the field refit found no consecutive volumes") }
        let z = Tensor<Double>(shape: [n, k], scalars: current), target = Tensor<Double>(shape: [n, k], scalars: next)
        var random = RandomSource(seed: seed)
        let field = MLPVectorField<Double>(dimension: k, hidden: [hidden, hidden], activation: .tanh, zeroLastLayer: true, leak: leak, random: &random)
        let map = Linear<Double>(inputs: max(channels, 1), outputs: k, bias: false, random: &random)
        var model = DrivenField(dynamics: NeuralODEDynamics(field: field, method: .rk4, options: ODEOptions(stepSize: 1), stepSize: 1), inputMap: map)
        let u = channels > 0 ? Tensor<Double>(shape: [n, channels], scalars: drive) : nil
        func predict(_ m: DrivenField) throws -> Tensor<Double> {
            guard let u else { return try m.dynamics.step(z, memory: nil).0 }
            return try m.dynamics.step(z, drive: m.inputMap(u))
        }
        var adam = Adam<Double>(learningRate: learningRate)
        let scale = 1 / Double(n)
        for _ in 0..<iterations {
            let (_, gradient) = try valueAndGradient(of: model) { m in (try predict(m) - target).squared().sum() * scale }
            adam.update(&model, along: gradient, masks: nil)
        }
        let predicted = try predict(model).scalars
        var residual = 0.0, total = 0.0
        for index in 0..<(n * k) {
            residual += (predicted[index] - next[index]) * (predicted[index] - next[index])
            total += (next[index] - current[index]) * (next[index] - current[index])
        }
        return (model.dynamics.field, channels > 0 ? model.inputMap : nil, total > 0 ? 1 - residual / total : .nan)
    }

    /// Per run, per volume: whether the next kept volume directly follows it (censored
    /// volumes break a pair).
    static func consecutiveVolumes(_ runs: [RunData]) -> [[Bool]] {
        runs.map { run in (0..<run.volumes.count).map { t in t + 1 < run.volumes.count && run.volumes[t + 1] == run.volumes[t] + 1 } }
    }

    /// Fits the oracle on every run of `study` (the true neural latents; the task's boxcars as
    /// inputs unless `usesInputs` is false) and scores its fixed points.
    public static func fit(_ study: SimulatedStudy, hidden: Int = 32, iterations: Int = 3000, learningRate: Double = 5e-3,
                           leak: Double = 0, usesInputs: Bool = true, pathError: PathError? = nil, seed: UInt64) throws -> Result {
        let k = study.system.dimension
        let conditions = LatentSystem.motorConditions
        let boxcars = study.neuralLabels.map { inputs($0, conditions: conditions) }
        let consecutive = consecutiveVolumes(study.runs)
        let paths = pathError.map { $0.degrade(study.neural, seed: seed) } ?? study.neural
        let (trained, _, incrementR2) = try fitField(paths: paths, inputs: usesInputs ? boxcars : nil, consecutive: consecutive, hidden: hidden,
                                                     iterations: iterations, learningRate: learningRate, leak: leak, seed: seed)
        let pathR2 = pathError.map { _ in Recovery.affineR2(recovered: paths.flatMap { $0 }, truth: study.neural.flatMap { $0 }) }
        // Scored where the truth is (the field error at the true states, wells by the true path).
        let trajectories = study.neural.flatMap { $0 }
        let starts = ModelFixedPoints.starts(from: trajectories, dimension: k, count: 512, seed: seed)
        let (fixed, _) = FixedPointFinder.find({ trained(0, $0) }, system: .flow, starts: starts)
        let identity = (0..<k).map { i in (0..<k).map { $0 == i ? 1.0 : 0.0 } } + [[Double](repeating: 0, count: k)]
        guard let alignment = RecoveryMetrics.Alignment(identity) else { throw TrainingError("the oracle's identity alignment is empty (K = \(k))") }
        let radius = 0.25
        let scores = RecoveryMetrics.fixedPointScores(found: fixed, alignment: alignment, system: study.system, radius: radius,
                                                      trajectories: trajectories)
        let error = RecoveryMetrics.vectorFieldError(states: trajectories, velocity: { rows in
            let values = trained(0, Tensor(shape: [rows.count, k], scalars: rows.flatMap { $0 })).scalars
            return (0..<rows.count).map { Array(values[($0 * k)..<(($0 + 1) * k)]) }
        }, alignment: alignment, system: study.system, repetitionTime: study.repetitionTime)
        let slowest = fixed.filter { $0.classification == "stable" }.compactMap { $0.eigenvalues.map { $0.0 }.max() }.sorted(by: >)
        return Result(system: study.system.kind.rawValue, seed: seed, leak: leak, pathError: pathError, pathR2: pathR2, usesInputs: usesInputs,
                      incrementR2: incrementR2,
                      fixedPoints: scores, visitedStable: scores.visited ?? 0, recallOfVisited: scores.recallOfVisited, fieldError: error,
                      slowestStableEigenvalues: Array(slowest.prefix(8)))
    }

    /// One fit per seed of `system` at `noise` (each seed's study simulated in a scratch folder
    /// under `work`, removed afterwards); `progress` gets a line per seed.
    public static func run(system: SystemKind, noise: Double, seeds: [UInt64], iterations: Int, leak: Double, usesInputs: Bool,
                           pathErrors: [PathError?] = [nil], work: String, progress: (String) -> Void = { _ in }) throws -> [Result] {
        defer { try? FileManager.default.removeItem(atPath: work) }
        return try seeds.map { seed in
            progress("field oracle: \(system.rawValue) seed \(seed)")
            let directory = work + "/seed-\(seed)"
            let study = try SimulatedStudy.make(RecoveryCell(system: system, noise: noise, seed: seed), directory: directory)
            try? FileManager.default.removeItem(atPath: directory)
            return try pathErrors.map { pathError in
                if let pathError { progress(String(format: "  path error: state R^2 %.2f, correlation %.2f", pathError.stateR2, pathError.correlation)) }
                return try fit(study, iterations: iterations, leak: leak, usesInputs: usesInputs, pathError: pathError, seed: seed)
            }
        }.flatMap { $0 }
    }

    /// One tab-separated row per result under a header, as `fmridyn bench field-oracle` prints.
    public static func table(_ results: [Result]) -> String {
        var lines = ["seed\tpath_r2\terror_correlation\tincrement_r2\tstable_found\trecall\trecall_of_visited\tvisited\tfield_error\tslowest_stable_eigenvalues"]
        for r in results {
            let slow = r.slowestStableEigenvalues.map { String(format: "%.3f", $0) }.joined(separator: ",")
            lines.append(String(format: "%d\t%@\t%@\t%.3f\t%d\t%@\t%@\t%d\t%.3f\t%@", r.seed, r.pathR2.map { String(format: "%.3f", $0) } ?? "1",
                                r.pathError.map { String(format: "%.2f", $0.correlation) } ?? "-", r.incrementR2, r.fixedPoints.stable,
                                r.fixedPoints.recall.map { String(format: "%.2f", $0) } ?? "-", r.recallOfVisited.map { String(format: "%.2f", $0) } ?? "-",
                                r.visitedStable, r.fieldError, slow))
        }
        return lines.joined(separator: "\n")
    }
}
