import LinearAlgebra
import CLinearAlgebra
import Foundation
import NIfTI
import Preprocessing

extension VoxelProjection {
    /// A voxel PCA learned one run at a time, so that only one run's voxels are in memory.
    ///
    /// Incremental PCA (Ross, Lim, Lin and Yang 2008; scikit-learn's `IncrementalPCA`): the state
    /// is the volume count n, the voxel means and R scaled axes B = diag(s) C (R x V). A run X
    /// (m x V, batch mean b) updates them through the stacked matrix
    ///
    ///     A = [ B ; X - b ; sqrt(n m / (n + m)) (mean - b) ]      ((R + m + 1) x V)
    ///
    /// whose leading right singular vectors are the new axes: A A^T = U L U^T (a small
    /// eigen-problem, built from blocks without forming A; B B^T = diag(s^2)), and
    /// B' = U_R^T A. The mean becomes (n mean + m b) / (n + m). The result equals the exact PCA
    /// of all runs together when their rank is at most R; above that the axes beyond R are
    /// dropped after each run, which is why R keeps `oversampling` more axes than are asked for.
    public struct IncrementalFit {
        public let components: Int
        /// Axes kept between runs (components + oversampling).
        public let retained: Int
        public private(set) var count = 0
        public private(set) var voxels = 0
        private var mean: [Double] = []
        /// Column-major r x V: the current scaled axes, r <= retained.
        private var scaledAxes: [Double] = []
        private var rows = 0
        /// Per-voxel sums and squares over all volumes, for the total variance.
        private var sums: [Double] = [], squares: [Double] = []

        public init(components: Int, oversampling: Int = 32) {
            self.components = components
            retained = components + max(0, oversampling)
        }

        /// Sum over voxels of the variance of all volumes added (n - 1 normalisation).
        public var totalVariance: Double {
            guard count > 1 else { return 0 }
            var total = 0.0
            for voxel in 0..<voxels { total += squares[voxel] - sums[voxel] * sums[voxel] / Double(count) }
            return total / Double(count - 1)
        }

        /// Adds one run's volumes (m x V).
        public mutating func add(_ run: SignalMatrix) throws {
            let (m, v) = (run.timePoints, run.columns)
            guard m >= 1 else { return }
            if count == 0 {
                voxels = v
                mean = [Double](repeating: 0, count: v)
                sums = mean
                squares = mean
            }
            guard v == voxels else { throw TrainingError("every run needs the same \(voxels) voxels (use one `mask` for all runs); this one has \(v)") }
            // Centre the run on its own mean (column-major m x V, each voxel contiguous).
            var centred = run.values
            var batchMean = [Double](repeating: 0, count: v)
            centred.withUnsafeMutableBufferPointer { x in
                for voxel in 0..<v {
                    var sum = 0.0, square = 0.0
                    for t in 0..<m { let value = x[voxel * m + t]; sum += value; square += value * value }
                    sums[voxel] += sum
                    squares[voxel] += square
                    let average = sum / Double(m)
                    batchMean[voxel] = average
                    for t in 0..<m { x[voxel * m + t] -= average }
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
                scaledAxes.withUnsafeBufferPointer { b in for voxel in 0..<v { norm += b[voxel * r + i] * b[voxel * r + i] } }
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
            do {
                _ = try DenseLinearAlgebra.symmetricEigen(&gram, n: size, layout: .columnMajor)
            } catch {
                throw TrainingError("voxel PCA: the eigen-decomposition failed (\(error))")
            }
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
                    for voxel in 0..<v {
                        let c = correction[voxel]
                        for j in 0..<kept { out[voxel * kept + j] += leading[j * size + size - 1] * c }
                    }
                }
            }
            for voxel in 0..<v { mean[voxel] = (n * mean[voxel] + Double(m) * batchMean[voxel]) / (n + Double(m)) }
            scaledAxes = next
            rows = kept
            count += m
        }

        /// The projection onto the leading `components` axes.
        public func projection(grid: Grid, voxelIndices: [Int]) throws -> VoxelProjection {
            guard count > 0 else { throw TrainingError("voxel PCA needs at least one training run") }
            guard voxelIndices.count == voxels else { throw TrainingError("voxel PCA: \(voxelIndices.count) voxel indices for \(voxels) voxels") }
            guard components >= 1, components < count, components <= rows else {
                throw TrainingError("`voxelPCA` \(components) needs more training volumes than components (the training runs have \(count)); lower `voxelPCA`")
            }
            var axes = [Float](repeating: 0, count: components * voxels)
            var variances: [Double] = []
            for component in 0..<components {
                var norm = 0.0
                for voxel in 0..<voxels { norm += scaledAxes[voxel * rows + component] * scaledAxes[voxel * rows + component] }
                variances.append(norm / Double(max(1, count - 1)))
                let scale = norm > 0 ? 1 / norm.squareRoot() : 0
                // Signed so that the largest-magnitude loading is positive.
                var largest = 0.0
                for voxel in 0..<voxels where abs(scaledAxes[voxel * rows + component]) > abs(largest) { largest = scaledAxes[voxel * rows + component] }
                let sign: Double = largest < 0 ? -1 : 1
                for voxel in 0..<voxels { axes[component * voxels + voxel] = Float(sign * scale * scaledAxes[voxel * rows + component]) }
            }
            return VoxelProjection(components: components, voxels: voxels, mean: mean.map(Float.init), axes: axes, explainedVariance: variances,
                                   grid: grid, voxelIndices: voxelIndices)
        }
    }
}
