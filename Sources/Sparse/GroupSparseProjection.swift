import Foundation

/// Hoyer sparsity and group sparse projection (GSP; Mohammadi et al.).
///
/// H(x) = (sqrt(n) - |x|_1 / |x|_2) / (sqrt(n) - 1): 0 for a constant vector, 1 for a one-hot one.
/// The projection finds one Lagrange multiplier mu such that the vectors
/// y_i = max(|x_i| - mu beta_i, 0), beta_i = 1 / (sqrt(n_i) - 1), rescaled by
/// <y_i, |x_i|> / |y_i|^2 and given back their signs, have an average Hoyer sparsity equal to
/// the target; vectors already sparser than the target are left unchanged.
public enum GroupSparseProjection {
    public static func hoyer(_ x: [Double]) -> Double {
        let n = Double(x.count)
        let l1 = x.reduce(0) { $0 + abs($1) }, l2 = x.reduce(0) { $0 + $1 * $1 }.squareRoot()
        guard x.count > 1, l2 > 0 else { return x.count == 1 ? 1 : 0 }
        return (n.squareRoot() - l1 / l2) / (n.squareRoot() - 1)
    }

    /// Projects `vectors` (of any lengths > 1) to average Hoyer sparsity `target` in [0, 1).
    /// `tolerance`: on the achieved average sparsity.
    public static func project(_ vectors: [[Double]], target: Double, tolerance: Double = 1e-6) -> [[Double]] {
        let active = vectors.indices.filter { hoyer(vectors[$0]) < target }
        guard !active.isEmpty else { return vectors }
        // The average is over every vector; the already-sparse ones keep their sparsity.
        let fixedSum = vectors.indices.filter { !active.contains($0) }.reduce(0) { $0 + hoyer(vectors[$1]) }
        let goal = target * Double(vectors.count) - fixedSum
        let magnitudes = active.map { vectors[$0].map(abs) }
        let betas = active.map { 1 / (Double(vectors[$0].count).squareRoot() - 1) }

        /// Soft-thresholded magnitudes; a vector the threshold would erase keeps its largest
        /// entry (one-hot, sparsity 1), so every mu gives a valid sparsity.
        func shrunk(_ mu: Double) -> [[Double]] {
            zip(magnitudes, betas).map { m, b in
                let y = m.map { max($0 - mu * b, 0) }
                guard y.allSatisfy({ $0 == 0 }), let top = m.indices.max(by: { m[$0] < m[$1] }) else { return y }
                return m.indices.map { $0 == top ? m[top] : 0 }
            }
        }
        /// Summed sparsity of the active vectors at mu minus the goal (increasing in mu).
        func excess(_ mu: Double) -> Double {
            shrunk(mu).reduce(0) { $0 + hoyer($1) } - goal
        }
        // Bracket: mu = 0 gives the original sparsity (< goal); past every vector's largest
        // entry / beta all are one-hot (sparsity 1 >= goal).
        var low = 0.0
        var high = zip(magnitudes, betas).map { m, b in (m.max() ?? 0) / b }.max() ?? 0
        // Bisection with secant steps (sparsity is monotone in mu).
        var mu = 0.5 * (low + high)
        for _ in 0..<200 {
            let value = excess(mu)
            if abs(value) <= tolerance * Double(vectors.count) { break }
            if value < 0 { low = mu } else { high = mu }
            let fLow = excess(low), fHigh = excess(high)
            var next = fHigh != fLow ? low - fLow * (high - low) / (fHigh - fLow) : 0.5 * (low + high)
            if !(next > low && next < high) { next = 0.5 * (low + high) }
            mu = next
            if high - low < 1e-15 * max(1, high) { break }
        }
        var result = vectors
        for (position, index) in active.enumerated() {
            let y = shrunk(mu)[position]
            let norm = y.reduce(0) { $0 + $1 * $1 }
            let scale = norm > 0 ? zip(y, magnitudes[position]).reduce(0) { $0 + $1.0 * $1.1 } / norm : 0
            result[index] = zip(y, vectors[index]).map { value, original in (original < 0 ? -1 : 1) * scale * value }
        }
        return result
    }
}
