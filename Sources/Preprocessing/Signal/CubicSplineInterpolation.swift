import LinearAlgebra
import CLinearAlgebra

/// Cubic-spline interpolation with not-a-knot ends (scipy.interpolate.CubicSpline's default,
/// extrapolating with the end pieces), as a linear map from known samples to unknown ones.
///
/// Censored volumes are filled this way before filtering. Since the spline is linear in the
/// data, one weight matrix W (unknown x known) serves every signal of a run: y_unknown = W y_known.
public struct CubicSplineWeights: Sendable {
    public let knownTimes: [Double]
    public let queryTimes: [Double]
    /// Row-major `queryTimes.count x knownTimes.count`.
    public let weights: [Double]

    /// - Precondition: `knownTimes` strictly increasing, at least one of them.
    public init(knownTimes: [Double], queryTimes: [Double]) {
        self.knownTimes = knownTimes
        self.queryTimes = queryTimes
        let n = knownTimes.count, q = queryTimes.count
        precondition(n >= 1, "a spline needs at least one sample")
        var weights = [Double](repeating: 0, count: q * n)
        // Second derivatives as a linear map of the samples: M = G y (n x n, row-major).
        let second = Self.secondDerivativeMap(knownTimes)
        for (row, t) in queryTimes.enumerated() {
            if n == 1 { weights[row] = 1; continue }
            // Interval [x_i, x_{i+1}] containing t, clamped to the end pieces for extrapolation.
            var i = 0
            var low = 0, high = n - 1
            while high - low > 1 {
                let middle = (low + high) / 2
                if knownTimes[middle] <= t { low = middle } else { high = middle }
            }
            i = low
            let x0 = knownTimes[i], x1 = knownTimes[i + 1], h = x1 - x0
            let a = x1 - t, b = t - x0
            // S(t) = M_i a^3/(6h) + M_{i+1} b^3/(6h) + (y_i/h - M_i h/6) a + (y_{i+1}/h - M_{i+1} h/6) b
            let cm0 = a * a * a / (6 * h) - h * a / 6
            let cm1 = b * b * b / (6 * h) - h * b / 6
            weights[row * n + i] += a / h
            weights[row * n + i + 1] += b / h
            for j in 0..<n {
                weights[row * n + j] += cm0 * second[i * n + j] + cm1 * second[(i + 1) * n + j]
            }
        }
        self.weights = weights
    }

    /// G with M = G y for the not-a-knot spline through (x, y).
    static func secondDerivativeMap(_ x: [Double]) -> [Double] {
        let n = x.count
        var g = [Double](repeating: 0, count: n * n)
        if n <= 2 { return g }  // constant or linear: no curvature
        let h = (0..<(n - 1)).map { x[$0 + 1] - x[$0] }
        if n == 3 {
            // Not-a-knot with three points is the parabola through them: M constant,
            // M = 2 * second divided difference.
            let c0 = 2 / (h[0] * (h[0] + h[1])), c1 = -2 / (h[0] * h[1]), c2 = 2 / (h[1] * (h[0] + h[1]))
            for row in 0..<3 { g[row * 3] = c0; g[row * 3 + 1] = c1; g[row * 3 + 2] = c2 }
            return g
        }
        // A M = B y, A and B row-major n x n.
        var a = [Double](repeating: 0, count: n * n)
        var b = [Double](repeating: 0, count: n * n)
        // Not-a-knot: third derivative continuous at x_1 and x_{n-2}.
        a[0] = h[1]; a[1] = -(h[0] + h[1]); a[2] = h[0]
        let last = (n - 1) * n
        a[last + n - 3] = h[n - 2]; a[last + n - 2] = -(h[n - 3] + h[n - 2]); a[last + n - 1] = h[n - 3]
        for i in 1..<(n - 1) {
            a[i * n + i - 1] = h[i - 1]
            a[i * n + i] = 2 * (h[i - 1] + h[i])
            a[i * n + i + 1] = h[i]
            b[i * n + i - 1] = 6 / h[i - 1]
            b[i * n + i] = -6 / h[i - 1] - 6 / h[i]
            b[i * n + i + 1] = 6 / h[i]
        }
        // The not-a-knot system is singular only for repeated sample times, which the caller excludes.
        precondition((try? DenseLinearAlgebra.solve(&a, &b, n: n, rightHandSides: n)) != nil, "the not-a-knot system is singular only for repeated sample times")
        g = b
        return g
    }

    /// Fills `signal[queryIndices]` from `signal[knownIndices]` for each column of a
    /// column-major block (`timePoints` rows), with one GEMM.
    public func fill(_ block: UnsafeMutableBufferPointer<Double>, timePoints: Int, columns: Int,
                     knownIndices: [Int], queryIndices: [Int]) {
        let n = knownIndices.count, q = queryIndices.count
        guard q > 0, columns > 0 else { return }
        var known = [Double](repeating: 0, count: n * columns)   // n x columns, column-major
        for c in 0..<columns {
            for (row, t) in knownIndices.enumerated() { known[c * n + row] = block[c * timePoints + t] }
        }
        var result = [Double](repeating: 0, count: q * columns)  // q x columns, column-major
        weights.withUnsafeBufferPointer { w in
            // result (q x c) = W (q x n, row-major = W^T column-major) * known (n x c)
            cblas_dgemm(CblasColMajor, CblasTrans, CblasNoTrans, Int32(q), Int32(columns), Int32(n),
                        1, w.baseAddress, Int32(n), known, Int32(n), 0, &result, Int32(q))
        }
        for c in 0..<columns {
            for (row, t) in queryIndices.enumerated() { block[c * timePoints + t] = result[c * q + row] }
        }
    }
}
