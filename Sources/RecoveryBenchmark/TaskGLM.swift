import Foundation
import LinearAlgebra
import Model

/// The baseline for models that are given the task: a general linear model of the regions on
/// the task's lagged boxcars (a finite-impulse-response design, lags 0 to `span` seconds), its
/// fitted part reduced to `rank` dimensions.
///
/// With design rows a_t = [u_t, u_{t-1}, ..., u_{t-L+1}] (u the one-hot condition, rest zeros,
/// volumes before a run's start zero), ridge coefficients W = (A'A + lambda I)^-1 A'X over all
/// runs, and V_r the top right singular vectors of the centred fitted values A W, the states are
/// s_t = a_t W V_r. They are what the events alone say about the regions, through whatever
/// response each condition has, so an input-driven latent model that scores below them has not
/// used its inputs. Unsupervised with respect to the true latents, like PCA; fitted on all runs.
public struct TaskGLM: Sendable {
    public let conditions: [String]
    /// L: lags in volumes (0 ..< L).
    public let lags: Int
    public let rank: Int
    /// W V_r, [(C L) x rank] row-major: design row to state.
    let stateMap: [Double]
    /// V_r: the rank orthonormal directions [rank][R] in region space that the task's fitted
    /// responses span, strongest first (the subspace a task-driven latent model's decoder maps into).
    public let axes: [[Double]]

    /// - Parameters:
    ///   - regions: per run [T][R] (standardised).
    ///   - labels: per run and volume, the condition at the neural level ("rest" between blocks).
    public init(regions: [[[Double]]], labels: [[String]], conditions: [String], repetitionTime: Double, span: Double = 22,
                rank: Int, ridge: Double = 1) throws {
        let lags = Int((span / repetitionTime).rounded()) + 1
        let width = conditions.count * lags
        guard let r = regions.first?.first?.count, width > 0, rank >= 1, rank <= r else {
            throw TrainingError("the task GLM needs runs with regions, at least one condition and a rank from 1 to the region count")
        }
        var gram = [Double](repeating: 0, count: width * width), cross = [Double](repeating: 0, count: width * r)
        var designs: [[[Double]]] = []
        for (run, rows) in regions.enumerated() {
            let design = Self.design(labels: labels[run], conditions: conditions, lags: lags)
            for (a, x) in zip(design, rows) {
                for i in 0..<width where a[i] != 0 {
                    for j in 0..<width { gram[i * width + j] += a[i] * a[j] }
                    for f in 0..<r { cross[i * r + f] += a[i] * x[f] }
                }
            }
            designs.append(design)
        }
        for i in 0..<width { gram[i * width + i] += ridge }
        try DenseLinearAlgebra.solve(&gram, &cross, n: width, rightHandSides: r)
        let coefficients = cross
        // Fitted values of every volume, centred, and their top right singular vectors.
        var fitted: [Double] = []
        for design in designs {
            for a in design {
                var row = [Double](repeating: 0, count: r)
                for i in 0..<width where a[i] != 0 { for f in 0..<r { row[f] += a[i] * coefficients[i * r + f] } }
                fitted += row
            }
        }
        let n = fitted.count / r
        for f in 0..<r {
            var mean = 0.0
            for t in 0..<n { mean += fitted[t * r + f] }
            mean /= Double(n)
            for t in 0..<n { fitted[t * r + f] -= mean }
        }
        let (_, _, vt) = try DenseLinearAlgebra.svd(fitted, rows: n, columns: r)
        var map = [Double](repeating: 0, count: width * rank)
        for i in 0..<width {
            for c in 0..<rank {
                var sum = 0.0
                for f in 0..<r { sum += coefficients[i * r + f] * vt[c * r + f] }
                map[i * rank + c] = sum
            }
        }
        self.conditions = conditions
        self.lags = lags
        self.rank = rank
        stateMap = map
        axes = (0..<rank).map { c in Array(vt[(c * r)..<((c + 1) * r)]) }
    }

    /// Design rows [T][C L] of one run's labels: block l holds the one-hot condition l volumes back.
    static func design(labels: [String], conditions: [String], lags: Int) -> [[Double]] {
        let c = conditions.count
        let onehot = labels.map { label in conditions.map { $0 == label ? 1.0 : 0.0 } }
        return labels.indices.map { t in
            var row = [Double](repeating: 0, count: c * lags)
            for l in 0..<lags where t - l >= 0 { for j in 0..<c { row[l * c + j] = onehot[t - l][j] } }
            return row
        }
    }

    /// The states [T][rank] of one run's labels.
    public func states(labels: [String]) -> [[Double]] {
        let width = conditions.count * lags
        return Self.design(labels: labels, conditions: conditions, lags: lags).map { a in
            var s = [Double](repeating: 0, count: rank)
            for i in 0..<width where a[i] != 0 { for c in 0..<rank { s[c] += a[i] * stateMap[i * rank + c] } }
            return s
        }
    }
}
