import LinearAlgebra
import Foundation
import NIfTI
import Preprocessing

extension VoxelProjection {
    /// A voxel PCA learned one run at a time, so that only one run's voxels are in memory:
    /// `PrincipalComponents.Incremental` over the runs' volumes, with the voxel checks and
    /// the projection's metadata.
    public struct IncrementalFit {
        private var fit: PrincipalComponents.Incremental
        public var components: Int { fit.components }
        /// Axes kept between runs (components + oversampling).
        public var retained: Int { fit.retained }
        public var count: Int { fit.count }
        public var voxels: Int { fit.features }

        public init(components: Int, oversampling: Int = 32) {
            fit = PrincipalComponents.Incremental(components: components, oversampling: oversampling)
        }

        /// Sum over voxels of the variance of all volumes added (n - 1 normalisation).
        public var totalVariance: Double { fit.totalVariance }

        /// Adds one run's volumes (m x V).
        public mutating func add(_ run: SignalMatrix) throws {
            guard run.timePoints >= 1 else { return }
            guard fit.count == 0 || run.columns == fit.features else {
                throw TrainingError("every run needs the same \(fit.features) voxels (use one `mask` for all runs); this one has \(run.columns)")
            }
            do {
                try fit.add(run.values, rows: run.timePoints)
            } catch {
                throw TrainingError("voxel PCA: the eigen-decomposition failed (\(error))")
            }
        }

        /// The projection onto the leading `components` axes.
        public func projection(grid: Grid, voxelIndices: [Int]) throws -> VoxelProjection {
            guard count > 0 else { throw TrainingError("voxel PCA needs at least one training run") }
            guard voxelIndices.count == voxels else { throw TrainingError("voxel PCA: \(voxelIndices.count) voxel indices for \(voxels) voxels") }
            guard components >= 1, components < count, components <= fit.rows else {
                throw TrainingError("`voxelPCA` \(components) needs more training volumes than components (the training runs have \(count)); lower `voxelPCA`")
            }
            let result = fit.result()
            return VoxelProjection(components: components, voxels: voxels, mean: result.mean.map(Float.init), axes: result.axes.map(Float.init),
                                   explainedVariance: result.explainedVariance, grid: grid, voxelIndices: voxelIndices)
        }
    }
}
