import LinearAlgebra
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
        // nilearn keeps Q[:, |diag R| > 100 eps] of a pivoted QR. A failure (non-finite confounds,
        // which the cleaner refuses before this) leaves nothing to project out.
        let qr = (try? DenseLinearAlgebra.orthonormalColumnBasis(confounds.values, rows: m, columns: n, tolerance: Double.ulpOfOne * 100)) ?? (basis: [], rank: 0)
        basis = qr.basis
        rank = qr.rank
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
