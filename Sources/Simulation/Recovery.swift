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
