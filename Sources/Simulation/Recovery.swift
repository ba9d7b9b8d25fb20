import LinearAlgebra
import CLinearAlgebra

/// How well recovered latents explain the true ones: R^2 of the least-squares affine map from
/// recovered [T, K_r] (plus a constant) to true [T, K_t], pooled over the true dimensions:
/// 1 - sum of squared residuals / total sum of squares about each true dimension's mean.
public enum Recovery {
    /// The least-squares affine map from recovered to true latents: coefficients
    /// [(K_r + 1) x K_t] so that truth ~ [recovered, 1] W. Nil when the system is too small.
    public static func affineMap(recovered: [[Double]], truth: [[Double]]) -> [[Double]]? {
        let rows = recovered.count
        guard rows == truth.count, rows > 0 else { return nil }
        let kr = recovered[0].count + 1, kt = truth[0].count
        guard rows > kr else { return nil }
        var a = [Double](repeating: 0, count: rows * kr)
        var b = [Double](repeating: 0, count: rows * kt)
        for r in 0..<rows {
            for c in 0..<(kr - 1) { a[c * rows + r] = recovered[r][c] }
            a[(kr - 1) * rows + r] = 1
            for c in 0..<kt { b[c * rows + r] = truth[r][c] }
        }
        guard let fit = try? DenseLinearAlgebra.leastSquaresQR(a, b, rows: rows, columns: kr, rightHandSides: kt) else { return nil }
        return (0..<kr).map { i in (0..<kt).map { j in fit.solution[j * kr + i] } }
    }

    /// The calibration map from recovered to true latents, in `affineMap`'s layout
    /// [(K_r + 1) x K_t]. `affineMap` regresses the truth on the recovered states, the best
    /// predictor of a true state from a noisy estimate of it; with errors e in the estimates
    /// (z = M x + c + e) it shrinks every mapped point toward the mean by the states'
    /// reliability: its linear part is Sigma_x M^T (M Sigma_x M^T + Sigma_e)^{-1}, not M^{-1}
    /// (regression dilution). For points that
    /// are not noisy samples (a fitted field's fixed points, its velocities) that shrinkage is a
    /// bias. This map regresses the recovered states on the truth instead (least squares
    /// z ~ M x + c, the errors in the dependent variable, so M and c are unbiased) and inverts
    /// it by least squares: x = M^+ (z - c). Nil when K_r < K_t, the system is too small or
    /// M is rank deficient.
    public static func calibrationMap(recovered: [[Double]], truth: [[Double]]) -> [[Double]]? {
        guard let forward = affineMap(recovered: truth, truth: recovered) else { return nil }  // [(K_t + 1) x K_r]: z ~ [x, 1] G
        let kt = forward.count - 1, kr = forward[0].count
        guard kr >= kt, kt > 0 else { return nil }
        // M [K_r x K_t] column-major: M[i][j] = G[j][i]; c = G's last row.
        var m = [Double](repeating: 0, count: kr * kt)
        for j in 0..<kt { for i in 0..<kr { m[j * kr + i] = forward[j][i] } }
        let offset = forward[kt]
        var identity = [Double](repeating: 0, count: kr * kr)
        for i in 0..<kr { identity[i * kr + i] = 1 }
        guard let inverse = try? DenseLinearAlgebra.leastSquaresQR(m, identity, rows: kr, columns: kt, rightHandSides: kr),
              inverse.solution.allSatisfy(\.isFinite) else { return nil }
        // P = M^+ [K_t x K_r], column-major: P[j][i] = solution[i * kt + j].
        let p = { (j: Int, i: Int) in inverse.solution[i * kt + j] }
        var coefficients = (0..<kr).map { i in (0..<kt).map { j in p(j, i) } }
        coefficients.append((0..<kt).map { j in -(0..<kr).reduce(0) { $0 + p(j, $1) * offset[$1] } })
        return coefficients
    }

    /// Applies `affineMap`'s coefficients to one recovered state.
    public static func apply(_ coefficients: [[Double]], to z: [Double]) -> [Double] {
        let input = z + [1]
        return (0..<coefficients[0].count).map { j in zip(input, coefficients).reduce(0) { $0 + $1.0 * $1.1[j] } }
    }

    public static func affineR2(recovered: [[Double]], truth: [[Double]]) -> Double {
        let rows = recovered.count
        guard rows == truth.count, rows > 0 else { return .nan }
        let kr = recovered[0].count + 1, kt = truth[0].count
        guard rows > kr else { return .nan }
        // Column-major design [rows x kr] and right-hand sides [rows x kt].
        var a = [Double](repeating: 0, count: rows * kr)
        var b = [Double](repeating: 0, count: rows * kt)
        for r in 0..<rows {
            for c in 0..<(kr - 1) { a[c * rows + r] = recovered[r][c] }
            a[(kr - 1) * rows + r] = 1
            for c in 0..<kt { b[c * rows + r] = truth[r][c] }
        }
        guard let fit = try? DenseLinearAlgebra.leastSquaresQR(a, b, rows: rows, columns: kr, rightHandSides: kt) else { return .nan }
        let residual = fit.residualSumOfSquares.reduce(0, +)
        var total = 0.0
        for c in 0..<kt {
            let mean = truth.reduce(0) { $0 + $1[c] } / Double(rows)
            total += truth.reduce(0) { $0 + ($1[c] - mean) * ($1[c] - mean) }
        }
        return total > 0 ? 1 - residual / total : .nan
    }
}
