import CLinearAlgebra

/// How a dense matrix is stored in a flat buffer.
public enum MatrixLayout: Sendable {
    /// Element (i, j) of an m x n matrix at i * n + j.
    case rowMajor
    /// Element (i, j) at j * m + i (LAPACK's and Fortran's order).
    case columnMajor

    var lapack: Int32 { self == .rowMajor ? LAPACK_ROW_MAJOR : LAPACK_COL_MAJOR }
}

/// A LAPACK routine that reported a failure (`info` != 0: an illegal argument when negative,
/// no convergence or a singular factor when positive).
public struct LinearAlgebraError: Error, CustomStringConvertible, Equatable, Sendable {
    public let routine: String
    public let info: Int32
    public var description: String {
        info < 0 ? "LAPACK \(routine): argument \(-info) is invalid" : "LAPACK \(routine) failed (info \(info): singular or not converged)"
    }
}

/// The dense decompositions the pipeline needs, over LAPACKE (OpenBLAS): one place for the
/// calls, their layouts and their error codes. Buffers are Double, in the layout given; the
/// in-place forms overwrite their inputs as LAPACK does, so large matrices are not copied.
public enum DenseLinearAlgebra {
    private static func check(_ routine: String, _ info: Int32) throws {
        guard info == 0 else { throw LinearAlgebraError(routine: routine, info: info) }
    }

    /// Solves A X = B by LU with partial pivoting (dgesv). A is n x n, B n x r; on return `b`
    /// holds X and `a` the LU factors.
    public static func solve(_ a: inout [Double], _ b: inout [Double], n: Int, rightHandSides r: Int = 1,
                             layout: MatrixLayout = .rowMajor) throws {
        precondition(a.count == n * n && b.count == n * r, "solve: A must be n x n and B n x r")
        var pivots = [Int32](repeating: 0, count: n)
        let ldb = layout == .rowMajor ? r : n
        try check("dgesv", LAPACKE_dgesv(layout.lapack, Int32(n), Int32(r), &a, Int32(n), &pivots, &b, Int32(ldb)))
    }

    /// Eigenvalues (real, imaginary) of a general n x n matrix (dgeev, no vectors), in LAPACK's order.
    public static func eigenvalues(_ matrix: [Double], n: Int, layout: MatrixLayout = .rowMajor) throws -> [(Double, Double)] {
        precondition(matrix.count == n * n, "eigenvalues: the matrix must be n x n")
        var a = matrix
        var real = [Double](repeating: 0, count: n), imaginary = [Double](repeating: 0, count: n)
        var left = [Double](repeating: 0, count: 1), right = [Double](repeating: 0, count: 1)
        try check("dgeev", LAPACKE_dgeev(layout.lapack, Int8(UInt8(ascii: "N")), Int8(UInt8(ascii: "N")), Int32(n), &a, Int32(n),
                                         &real, &imaginary, &left, 1, &right, 1))
        return Array(zip(real, imaginary))
    }

    /// Eigen-decomposition of a symmetric n x n matrix from its upper triangle (dsyev):
    /// returns the eigenvalues in ascending order and leaves the orthonormal eigenvectors in
    /// `a`, as columns of the matrix in `layout` (vector j at (i, j)).
    public static func symmetricEigen(_ a: inout [Double], n: Int, layout: MatrixLayout = .rowMajor) throws -> [Double] {
        precondition(a.count == n * n, "symmetricEigen: the matrix must be n x n")
        var values = [Double](repeating: 0, count: n)
        try check("dsyev", LAPACKE_dsyev(layout.lapack, Int8(UInt8(ascii: "V")), Int8(UInt8(ascii: "U")), Int32(n), &a, Int32(n), &values))
        return values
    }

    /// min |A X - B|_F for a full-rank A (m x n, m >= n) by QR (dgels). A is column-major
    /// m x n, B column-major m x r. Returns X (column-major n x r) and each column's residual
    /// sum of squares.
    public static func leastSquaresQR(_ a: [Double], _ b: [Double], rows m: Int, columns n: Int,
                                      rightHandSides r: Int) throws -> (solution: [Double], residualSumOfSquares: [Double]) {
        precondition(m >= n && a.count == m * n && b.count == m * r, "leastSquaresQR: A must be m x n (m >= n) and B m x r")
        var a = a, b = b
        try check("dgels", LAPACKE_dgels(LAPACK_COL_MAJOR, Int8(UInt8(ascii: "N")), Int32(m), Int32(n), Int32(r), &a, Int32(m), &b, Int32(m)))
        var solution = [Double](repeating: 0, count: n * r), residual = [Double](repeating: 0, count: r)
        for j in 0..<r {
            for i in 0..<n { solution[j * n + i] = b[j * m + i] }
            // dgels leaves the residual of column j in rows n..<m of B.
            for i in n..<m { residual[j] += b[j * m + i] * b[j * m + i] }
        }
        return (solution, residual)
    }
}
