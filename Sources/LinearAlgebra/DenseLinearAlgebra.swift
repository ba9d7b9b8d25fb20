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

    /// Singular value decomposition of a row-major m x n matrix (dgesdd, divide and conquer):
    /// thin (U m x p, V^T p x n with p = min(m, n)) or full (U m x m, V^T n x n); singular
    /// values descending. U and V^T row-major.
    public static func svd(_ matrix: [Double], rows m: Int, columns n: Int, full: Bool = false) throws -> (u: [Double], s: [Double], vt: [Double]) {
        precondition(matrix.count == m * n, "svd: the matrix must be m x n")
        let p = min(m, n), uColumns = full ? m : p, vtRows = full ? n : p
        var a = matrix
        var s = [Double](repeating: 0, count: p), u = [Double](repeating: 0, count: m * uColumns), vt = [Double](repeating: 0, count: vtRows * n)
        try check("dgesdd", LAPACKE_dgesdd(LAPACK_ROW_MAJOR, Int8(UInt8(ascii: full ? "A" : "S")), Int32(m), Int32(n), &a, Int32(n), &s,
                                           &u, Int32(uColumns), &vt, Int32(n)))
        return (u, s, vt)
    }

    /// Minimum-norm least squares min |A X - B| for any rank (dgelsd, SVD with singular values
    /// below machine precision times the largest treated as zero, as scipy's lstsq). A is
    /// row-major m x n, B row-major m x r. Returns X (row-major n x r) and the effective rank.
    public static func leastSquaresSVD(_ a: [Double], _ b: [Double], rows m: Int, columns n: Int,
                                       rightHandSides r: Int) throws -> (solution: [Double], rank: Int) {
        precondition(a.count == m * n && b.count == m * r, "leastSquaresSVD: A must be m x n and B m x r")
        var a = a
        var work = [Double](repeating: 0, count: max(m, n) * r)
        for i in 0..<(m * r) { work[i] = b[i] }
        var singular = [Double](repeating: 0, count: min(m, n))
        var rank: Int32 = 0
        try check("dgelsd", LAPACKE_dgelsd(LAPACK_ROW_MAJOR, Int32(m), Int32(n), Int32(r), &a, Int32(n), &work, Int32(r), &singular, -1, &rank))
        return (Array(work[0..<(n * r)]), Int(rank))
    }

    /// The lower Cholesky factor L (A = L L^T, upper triangle zero) of a symmetric
    /// positive-definite n x n matrix, row-major (dpotrf); throws when A is not positive definite.
    public static func choleskyLower(_ a: [Double], n: Int) throws -> [Double] {
        precondition(a.count == n * n, "choleskyLower: the matrix must be n x n")
        var l = a
        try check("dpotrf", LAPACKE_dpotrf(LAPACK_ROW_MAJOR, Int8(UInt8(ascii: "L")), Int32(n), &l, Int32(n)))
        for i in 0..<n { for j in (i + 1)..<max(i + 1, n) { l[i * n + j] = 0 } }
        return l
    }

    /// A^T A of a row-major m x n matrix A (dsyrk), as a row-major n x n matrix with both
    /// triangles filled.
    public static func gram(_ a: [Double], rows m: Int, columns n: Int) -> [Double] {
        precondition(a.count == m * n, "gram: A must be m x n")
        var c = [Double](repeating: 0, count: n * n)
        guard m > 0, n > 0 else { return c }
        cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, Int32(n), Int32(m), 1, a, Int32(n), 0, &c, Int32(n))
        for i in 0..<n { for j in 0..<i { c[i * n + j] = c[j * n + i] } }
        return c
    }

    /// An orthonormal basis of the column space of a column-major m x n matrix by QR with
    /// column pivoting (dgeqp3, then dorgqr): the columns of Q whose |R_ii| exceeds `tolerance`
    /// (nilearn's rank rule for confounds), column-major m x rank.
    public static func orthonormalColumnBasis(_ matrix: [Double], rows m: Int, columns n: Int,
                                              tolerance: Double) throws -> (basis: [Double], rank: Int) {
        precondition(matrix.count == m * n, "orthonormalColumnBasis: the matrix must be m x n")
        guard m > 0, n > 0 else { return ([], 0) }
        var a = matrix
        var pivots = [Int32](repeating: 0, count: n)
        let k = min(m, n)
        var tau = [Double](repeating: 0, count: k)
        try check("dgeqp3", LAPACKE_dgeqp3(LAPACK_COL_MAJOR, Int32(m), Int32(n), &a, Int32(m), &pivots, &tau))
        // Read R's diagonal before Q overwrites it.
        let kept = (0..<k).filter { abs(a[$0 * m + $0]) > tolerance }
        try check("dorgqr", LAPACKE_dorgqr(LAPACK_COL_MAJOR, Int32(m), Int32(k), Int32(k), &a, Int32(m), tau))
        var basis: [Double] = []
        basis.reserveCapacity(m * kept.count)
        for index in kept { basis += a[(index * m)..<((index + 1) * m)] }
        return (basis, kept.count)
    }
}
