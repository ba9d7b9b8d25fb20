import CLinearAlgebra

/// Principal component analysis: the mean, the leading unit axes and their variances of n
/// samples of d features. One type, three routes to the same axes, chosen by the data's shape:
///
/// - `init(rows:components:)`: SVD of the centred n x d matrix (dgesdd); for a few thousand
///   samples of a few hundred features (region timeseries). Axes keep LAPACK's signs.
/// - `init(gramOf:components:)`: the Gram route for d far above n (whole-brain voxels): the
///   eigenvectors u_k of G = X_c X_c^T (n x n, dsyrk + dsyev) give the axes
///   C_k = X_c^T u_k / sqrt(l_k) in one GEMM; the d x d covariance is never formed.
/// - `Incremental`: the incremental route for data that do not fit in memory at once (Ross,
///   Lim, Lin and Yang 2008; scikit-learn's `IncrementalPCA`), one block of samples at a time.
///
/// The Gram and incremental routes sign each axis so that its largest-magnitude loading is
/// positive (the results do not depend on LAPACK's sign choice). Variances use n - 1.
public struct PrincipalComponents: Sendable {
    /// Number of features d.
    public let features: Int
    /// [d] mean of the samples.
    public let mean: [Double]
    /// Row-major [k, d]: unit axes in decreasing variance.
    public let axes: [Double]
    /// [k] variance of the samples along each axis.
    public let explainedVariance: [Double]

    /// Number of axes k.
    public var count: Int { explainedVariance.count }

    init(features: Int, mean: [Double], axes: [Double], explainedVariance: [Double]) {
        self.features = features
        self.mean = mean
        self.axes = axes
        self.explainedVariance = explainedVariance
    }

    /// The SVD route: samples as rows (n x d), up to min(k, n, d) axes; none when the SVD fails.
    public init(rows x: [[Double]], components k: Int) {
        let n = x.count, d = x.first?.count ?? 0
        features = d
        mean = (0..<d).map { f in x.reduce(0) { $0 + $1[f] } / Double(n) }
        var a = [Double](repeating: 0, count: n * d)  // row-major n x d
        for i in 0..<n { for f in 0..<d { a[i * d + f] = x[i][f] - mean[f] } }
        let kept = min(k, n, d)
        guard kept > 0, let (_, s, vt) = try? DenseLinearAlgebra.svd(a, rows: n, columns: d) else {
            axes = []
            explainedVariance = []
            return
        }
        axes = Array(vt[0..<(kept * d)])
        explainedVariance = (0..<kept).map { s[$0] * s[$0] / Double(max(1, n - 1)) }
    }

    /// The Gram route over `blocks` of samples stacked in order: each block column-major
    /// (its rows x d, each feature's samples contiguous, as `SignalMatrix` stores a run).
    /// Needs 1 <= k < n; memory is n x d doubles for the centred data plus n x n for G.
    public init(gramOf blocks: [(values: [Double], rows: Int)], components k: Int) throws {
        let total = blocks.reduce(0) { $0 + $1.rows }
        let d = blocks.first.map { $0.rows > 0 ? $0.values.count / $0.rows : 0 } ?? 0
        precondition(k >= 1 && k < total, "PrincipalComponents: the Gram route needs 1 <= k < n")
        var mean = [Double](repeating: 0, count: d)
        for block in blocks {
            block.values.withUnsafeBufferPointer { values in
                for column in 0..<d {
                    var sum = 0.0
                    for t in 0..<block.rows { sum += values[column * block.rows + t] }
                    mean[column] += sum
                }
            }
        }
        for column in 0..<d { mean[column] /= Double(total) }
        // X_c as one column-major n x d buffer.
        var centred = [Double](repeating: 0, count: total * d)
        var offset = 0
        for block in blocks {
            block.values.withUnsafeBufferPointer { values in
                for column in 0..<d {
                    for t in 0..<block.rows { centred[column * total + offset + t] = values[column * block.rows + t] - mean[column] }
                }
            }
            offset += block.rows
        }
        var gram = [Double](repeating: 0, count: total * total)
        centred.withUnsafeBufferPointer { x in
            gram.withUnsafeMutableBufferPointer { g in
                guard let xb = x.baseAddress, let gb = g.baseAddress else { return }
                cblas_dsyrk(CblasColMajor, CblasUpper, CblasNoTrans, Int32(total), Int32(d), 1, xb, Int32(total), 0, gb, Int32(total))
            }
        }
        let eigenvalues = try DenseLinearAlgebra.symmetricEigen(&gram, n: total, layout: .columnMajor)
        // dsyev sorts ascending: the last k columns, largest first; C = diag(1 / sqrt(l)) U_k^T X_c.
        var variances: [Double] = [], leading = [Double](repeating: 0, count: total * k)
        for component in 0..<k {
            let column = total - 1 - component
            let lambda = max(eigenvalues[column], 0)
            variances.append(lambda / Double(max(1, total - 1)))
            let scale = lambda > 0 ? 1 / lambda.squareRoot() : 0
            for t in 0..<total { leading[component * total + t] = gram[column * total + t] * scale }
        }
        var product = [Double](repeating: 0, count: k * d)  // column-major k x d
        centred.withUnsafeBufferPointer { x in
            leading.withUnsafeBufferPointer { u in
                product.withUnsafeMutableBufferPointer { c in
                    guard let xb = x.baseAddress, let ub = u.baseAddress, let cb = c.baseAddress else { return }
                    cblas_dgemm(CblasColMajor, CblasTrans, CblasNoTrans, Int32(k), Int32(d), Int32(total), 1, ub, Int32(total), xb, Int32(total), 0, cb, Int32(k))
                }
            }
        }
        self.init(features: d, mean: mean, axes: Self.signedRows(product, rows: k, columns: d, scales: nil), explainedVariance: variances)
    }

    /// The rows of a column-major r x d matrix (the first `rows` of its r), each multiplied by
    /// its scale and signed so that its largest-magnitude entry is positive, as a row-major
    /// [rows, d] buffer.
    static func signedRows(_ matrix: [Double], rows: Int, columns d: Int, leading r: Int? = nil, scales: [Double]?) -> [Double] {
        let stride = r ?? rows
        var result = [Double](repeating: 0, count: rows * d)
        for row in 0..<rows {
            var largest = 0.0
            for column in 0..<d where abs(matrix[column * stride + row]) > abs(largest) { largest = matrix[column * stride + row] }
            let sign: Double = largest < 0 ? -1 : 1
            if let scale = scales?[row] {
                for column in 0..<d { result[row * d + column] = sign * scale * matrix[column * stride + row] }
            } else {
                for column in 0..<d { result[row * d + column] = sign * matrix[column * stride + row] }
            }
        }
        return result
    }

    /// Scores [samples x k] of samples given as rows.
    public func transform(_ x: [[Double]]) -> [[Double]] {
        let d = features
        return x.map { row in
            (0..<count).map { component in
                var sum = 0.0
                for f in 0..<d { sum += axes[component * d + f] * (row[f] - mean[f]) }
                return sum
            }
        }
    }
}
