import CLinearAlgebra

/// Removes the span of a set of confounds from signals: x <- x - Q Q^T x, with Q an
/// orthonormal basis of the confounds from a column-pivoted QR (LAPACK dgeqp3), keeping the
/// columns whose |R_ii| exceeds 100 machine epsilons (so collinear confounds cost nothing),
/// as nilearn's `signal.clean` does.
public struct ConfoundProjection: Sendable {
    /// Column-major `timePoints x rank`.
    public let basis: [Double]
    public let timePoints: Int
    public let rank: Int

    /// - Parameter confounds: already standardised (see `SignalCleaner`).
    public init(confounds: SignalMatrix) {
        let m = confounds.timePoints, n = confounds.columns
        timePoints = m
        guard m > 0, n > 0 else { basis = []; rank = 0; return }
        var a = confounds.values
        var pivots = [Int32](repeating: 0, count: n)
        let k = min(m, n)
        var tau = [Double](repeating: 0, count: k)
        _ = LAPACKE_dgeqp3(LAPACK_COL_MAJOR, Int32(m), Int32(n), &a, Int32(m), &pivots, &tau)
        // nilearn keeps Q[:, |diag R| > 100 eps]; read the diagonal before Q overwrites R.
        let kept = (0..<k).filter { abs(a[$0 * m + $0]) > Double.ulpOfOne * 100 }
        _ = LAPACKE_dorgqr(LAPACK_COL_MAJOR, Int32(m), Int32(k), Int32(k), &a, Int32(m), tau)
        var selected: [Double] = []
        selected.reserveCapacity(m * kept.count)
        for index in kept { selected += a[(index * m)..<((index + 1) * m)] }
        basis = selected
        rank = kept.count
    }

    /// Projects the confounds out of a column-major block (`timePoints x columns`) in place.
    public func apply(_ block: UnsafeMutableBufferPointer<Double>, columns: Int) {
        guard rank > 0, columns > 0, let base = block.baseAddress else { return }
        var coefficients = [Double](repeating: 0, count: rank * columns)
        basis.withUnsafeBufferPointer { q in
            // C = Q^T X (rank x columns); X -= Q C
            cblas_dgemm(CblasColMajor, CblasTrans, CblasNoTrans, Int32(rank), Int32(columns), Int32(timePoints),
                        1, q.baseAddress, Int32(timePoints), base, Int32(timePoints), 0, &coefficients, Int32(rank))
            cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, Int32(timePoints), Int32(columns), Int32(rank),
                        -1, q.baseAddress, Int32(timePoints), coefficients, Int32(rank), 1, base, Int32(timePoints))
        }
    }
}
