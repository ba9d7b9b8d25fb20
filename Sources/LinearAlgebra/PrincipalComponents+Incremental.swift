import CLinearAlgebra

extension PrincipalComponents {
    /// The incremental route (Ross, Lim, Lin and Yang 2008; scikit-learn's `IncrementalPCA`),
    /// one block of samples at a time, so only one block is in memory. The state is the sample
    /// count n, the feature means and R scaled axes B = diag(s) C (R x d). A block X (m x d,
    /// block mean b) updates them through the stacked matrix
    ///
    ///     A = [ B ; X - b ; sqrt(n m / (n + m)) (mean - b) ]      ((R + m + 1) x d)
    ///
    /// whose leading right singular vectors are the new axes: A A^T = U L U^T (a small
    /// eigen-problem, built from blocks without forming A; B B^T = diag(s^2)), and
    /// B' = U_R^T A. The mean becomes (n mean + m b) / (n + m). The result equals the exact PCA
    /// of all blocks together when their rank is at most R; above that the axes beyond R are
    /// dropped after each block, which is why R keeps `oversampling` more axes than are asked for.
    public struct Incremental: Sendable {
        public let components: Int
        /// Axes kept between blocks (components + oversampling).
        public let retained: Int
        /// Samples n and features d seen so far.
        public private(set) var count = 0
        public private(set) var features = 0
        private var mean: [Double] = []
        /// Column-major r x d: the current scaled axes, r <= retained.
        private var scaledAxes: [Double] = []
        /// r, the axes held now.
        public private(set) var rows = 0
        /// Per-feature sums and squares over all samples, for the total variance.
        private var sums: [Double] = [], squares: [Double] = []

        public init(components: Int, oversampling: Int = 32) {
            self.components = components
            retained = components + max(0, oversampling)
        }

        /// Sum over features of the variance of all samples added (n - 1 normalisation).
        public var totalVariance: Double {
            guard count > 1 else { return 0 }
            var total = 0.0
            for feature in 0..<features { total += squares[feature] - sums[feature] * sums[feature] / Double(count) }
            return total / Double(count - 1)
        }

        /// Adds a block of m samples, column-major m x d (each feature's samples contiguous);
        /// every block must have the d features of the first.
        public mutating func add(_ values: [Double], rows m: Int) throws {
            guard m >= 1 else { return }
            let v = values.count / m
            if count == 0 {
                features = v
                mean = [Double](repeating: 0, count: v)
                sums = mean
                squares = mean
            }
            precondition(v == features, "PrincipalComponents.Incremental: every block needs the same features")
            // Centre the run on its own mean (column-major m x V, each feature contiguous).
            var centred = values
            var batchMean = [Double](repeating: 0, count: v)
            centred.withUnsafeMutableBufferPointer { x in
                for feature in 0..<v {
                    var sum = 0.0, square = 0.0
                    for t in 0..<m { let value = x[feature * m + t]; sum += value; square += value * value }
                    sums[feature] += sum
                    squares[feature] += square
                    let average = sum / Double(m)
                    batchMean[feature] = average
                    for t in 0..<m { x[feature * m + t] -= average }
                }
            }
            let (n, r) = (Double(count), rows)
            let weight = count == 0 ? 0 : (n * Double(m) / (n + Double(m))).squareRoot()
            let correction = (0..<v).map { weight * (mean[$0] - batchMean[$0]) }
            // Gram matrix of A, column-major size x size, blocks in the order B, X - b, correction.
            let size = r + m + 1
            var gram = [Double](repeating: 0, count: size * size)
            for i in 0..<r {
                var norm = 0.0
                scaledAxes.withUnsafeBufferPointer { b in for feature in 0..<v { norm += b[feature * r + i] * b[feature * r + i] } }
                gram[i * size + i] = norm
            }
            gram.withUnsafeMutableBufferPointer { g in
                centred.withUnsafeBufferPointer { x in
                    scaledAxes.withUnsafeBufferPointer { b in
                        correction.withUnsafeBufferPointer { c in
                            guard let gb = g.baseAddress, let xb = x.baseAddress, let cb = c.baseAddress else { return }
                            let ld = Int32(size)
                            // (X - b)(X - b)^T into rows/columns r..<r+m (upper triangle).
                            cblas_dsyrk(CblasColMajor, CblasUpper, CblasNoTrans, Int32(m), Int32(v), 1, xb, Int32(m), 0, gb + r * size + r, ld)
                            if r > 0, let bb = b.baseAddress {
                                // B (X - b)^T: rows 0..<r, columns r..<r+m.
                                cblas_dgemm(CblasColMajor, CblasNoTrans, CblasTrans, Int32(r), Int32(m), Int32(v), 1, bb, Int32(r), xb, Int32(m),
                                            0, gb + r * size, ld)
                                // B c^T: rows 0..<r, last column.
                                cblas_dgemv(CblasColMajor, CblasNoTrans, Int32(r), Int32(v), 1, bb, Int32(r), cb, 1, 0, gb + (size - 1) * size, 1)
                            }
                            // (X - b) c^T: rows r..<r+m, last column; c c^T.
                            cblas_dgemv(CblasColMajor, CblasNoTrans, Int32(m), Int32(v), 1, xb, Int32(m), cb, 1, 0, gb + (size - 1) * size + r, 1)
                            gb[(size - 1) * size + size - 1] = cblas_ddot(Int32(v), cb, 1, cb, 1)
                        }
                    }
                }
            }
            _ = try DenseLinearAlgebra.symmetricEigen(&gram, n: size, layout: .columnMajor)
            // The leading eigenvectors (dsyev sorts ascending), as the columns of U_R (size x R').
            let kept = min(retained, size, count + m)
            var leading = [Double](repeating: 0, count: size * kept)
            for j in 0..<kept { for i in 0..<size { leading[j * size + i] = gram[(size - 1 - j) * size + i] } }
            // B' = U_R^T A = U_B^T B + U_X^T (X - b) + u_c^T c, column-major R' x V.
            var next = [Double](repeating: 0, count: kept * v)
            next.withUnsafeMutableBufferPointer { out in
                leading.withUnsafeBufferPointer { u in
                    centred.withUnsafeBufferPointer { x in
                        scaledAxes.withUnsafeBufferPointer { b in
                            guard let ob = out.baseAddress, let ub = u.baseAddress, let xb = x.baseAddress else { return }
                            cblas_dgemm(CblasColMajor, CblasTrans, CblasNoTrans, Int32(kept), Int32(v), Int32(m), 1, ub + r, Int32(size), xb, Int32(m),
                                        0, ob, Int32(kept))
                            if r > 0, let bb = b.baseAddress {
                                cblas_dgemm(CblasColMajor, CblasTrans, CblasNoTrans, Int32(kept), Int32(v), Int32(r), 1, ub, Int32(size), bb, Int32(r),
                                            1, ob, Int32(kept))
                            }
                        }
                    }
                }
                if count > 0 {
                    for feature in 0..<v {
                        let c = correction[feature]
                        for j in 0..<kept { out[feature * kept + j] += leading[j * size + size - 1] * c }
                    }
                }
            }
            for feature in 0..<v { mean[feature] = (n * mean[feature] + Double(m) * batchMean[feature]) / (n + Double(m)) }
            scaledAxes = next
            rows = kept
            count += m
        }

        /// The leading `components` axes of all samples added (needs 1 <= components <= the
        /// axes held, and fewer components than samples).
        public func result() -> PrincipalComponents {
            precondition(count > 0 && components >= 1 && components < count && components <= rows, "PrincipalComponents.Incremental: too few samples")
            var variances: [Double] = [], scales: [Double] = []
            for component in 0..<components {
                var norm = 0.0
                for feature in 0..<features { norm += scaledAxes[feature * rows + component] * scaledAxes[feature * rows + component] }
                variances.append(norm / Double(max(1, count - 1)))
                scales.append(norm > 0 ? 1 / norm.squareRoot() : 0)
            }
            return PrincipalComponents(features: features, mean: mean,
                                       axes: PrincipalComponents.signedRows(scaledAxes, rows: components, columns: features, leading: rows, scales: scales),
                                       explainedVariance: variances)
        }
    }
}
