import Foundation
import LinearAlgebra

/// Observation noise of low rank plus diagonal, C = V L V^T + D [R, R], for the MAP read-outs:
/// a few spatially structured fluctuations (physiological noise, motion, the simulator's
/// nuisance) that a diagonal noise model would leave for the latents to explain. Fitted to one
/// run's residuals under a path, so that a subject's own nuisance maps are found. V [R, r] are
/// the top r principal directions of the residuals once the decoder's columns are projected out
/// (the noise model then cannot take over a direction the latents map to), L their variances
/// above the mean of the other directions' (probabilistic PCA's estimate, exact when the rest is
/// isotropic), and D the rest of each feature's residual variance, so diag C = each feature's
/// residual variance (times one factor when C is scaled to a given trace).
public struct StructuredNoise: Sendable, Hashable {
    /// R.
    public let features: Int
    /// r.
    public let rank: Int
    /// C^{-1}, row-major [R, R].
    public let precision: [Double]
    /// The residual variance the r directions carry, as a fraction of the total.
    public let explainedFraction: Double

    /// Fits the noise to `residuals` (row-major [T, R]) with the directions spanned by the columns
    /// of `excluded` (row-major [R, K], e.g. a linear decoder's weight; nil: none) left out of V.
    /// Each feature's variance is floored at 1e-3 of the mean, so C stays positive definite.
    /// `totalVariance`: C is scaled to this trace (e.g. the decoder's noise variances summed), so
    /// that only its shape comes from the residuals, whose size depends on how closely the path
    /// fits the run.
    public init(residuals: [Double], steps: Int, features: Int, rank: Int, excluded: [Double]? = nil, excludedColumns: Int = 0,
                totalVariance: Double? = nil) throws {
        guard steps >= 2, residuals.count == steps * features, rank >= 1, rank < features else {
            throw TrainingError("structured noise needs residuals [T, R] with T >= 2 and a rank in 1..<R (got T \(steps), R \(features), rank \(rank))")
        }
        var centred = residuals
        var variances = [Double](repeating: 0, count: features)
        for f in 0..<features {
            var mean = 0.0
            for t in 0..<steps { mean += residuals[t * features + f] }
            mean /= Double(steps)
            for t in 0..<steps {
                centred[t * features + f] -= mean
                variances[f] += centred[t * features + f] * centred[t * features + f]
            }
            variances[f] /= Double(steps)
        }
        // Project the excluded column space out: e <- e (I - Q Q^T), Q an orthonormal basis.
        var projected = centred
        var excludedRank = 0
        if let excluded, excludedColumns > 0 {
            precondition(excluded.count == features * excludedColumns, "StructuredNoise: excluded must be [R, K]")
            let columnMajor = (0..<excludedColumns).flatMap { j in (0..<features).map { excluded[$0 * excludedColumns + j] } }
            let (basis, rank) = try DenseLinearAlgebra.orthonormalColumnBasis(columnMajor, rows: features, columns: excludedColumns, tolerance: 1e-10)
            excludedRank = rank
            for t in 0..<steps {
                for q in 0..<rank {
                    var dot = 0.0
                    for f in 0..<features { dot += projected[t * features + f] * basis[q * features + f] }
                    for f in 0..<features { projected[t * features + f] -= dot * basis[q * features + f] }
                }
            }
        }
        var covariance = DenseLinearAlgebra.gram(projected, rows: steps, columns: features)
        for i in covariance.indices { covariance[i] /= Double(steps) }
        let eigenvalues = try DenseLinearAlgebra.symmetricEigen(&covariance, n: features)  // ascending; vectors as columns
        let top = ((features - rank)..<features).reversed()
        // Probabilistic PCA's estimate: each direction's variance above the mean of the rest
        // (the rest's share along it belongs to D, not to the low-rank part).
        let kept = features - rank - excludedRank
        let remainder = kept > 0 ? eigenvalues[0..<(features - rank)].reduce(0, +) / Double(kept) : 0
        let floor = 1e-3 * variances.reduce(0, +) / Double(features)
        var c = [Double](repeating: 0, count: features * features)
        for column in top {
            let value = max(eigenvalues[column] - remainder, 0)
            for i in 0..<features {
                let vi = covariance[i * features + column] * value
                if vi == 0 { continue }
                for j in 0..<features { c[i * features + j] += vi * covariance[j * features + column] }
            }
        }
        for i in 0..<features { c[i * features + i] = max(variances[i], c[i * features + i] + floor) }
        if let totalVariance {
            guard totalVariance > 0, totalVariance.isFinite else { throw TrainingError("structured noise: the total variance must be positive") }
            let trace = (0..<features).reduce(0.0) { $0 + c[$1 * features + $1] }
            for i in c.indices { c[i] *= totalVariance / trace }
        }
        var inverse = [Double](repeating: 0, count: features * features)
        for i in 0..<features { inverse[i * features + i] = 1 }
        try DenseLinearAlgebra.solve(&c, &inverse, n: features, rightHandSides: features)
        self.features = features
        self.rank = rank
        precision = inverse
        let total = variances.reduce(0, +)
        explainedFraction = total > 0 ? top.map { max(eigenvalues[$0] - remainder, 0) }.reduce(0, +) / total : 0
    }
}
