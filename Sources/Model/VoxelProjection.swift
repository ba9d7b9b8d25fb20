import LinearAlgebra
import CLinearAlgebra
import Core
import Foundation
import NIfTI
import Preprocessing

/// Voxel mode: a PCA projection of whole-brain voxel timeseries, learned on the training runs,
/// that the SVAE sees instead of the voxels; it maps decoder columns back to voxel maps.
///
/// Fitted through the Gram matrix of the concatenated training volumes (T x T with T the total
/// number of training volumes, far below the number of voxels): G = X_c X_c^T = U L U^T, the
/// principal axes are C_k = X_c^T u_k / sqrt(l_k) (unit norm in voxel space), and a volume x
/// projects to (x - mean) . C_k. Memory: the training runs' voxel matrices (8 bytes per voxel and
/// volume, as extracted) plus K x V x 4 bytes for the axes.
public struct VoxelProjection: Sendable {
    /// Number of components K and voxels V.
    public let components: Int, voxels: Int
    /// [V] mean of the training volumes.
    public let mean: [Float]
    /// [K, V] row-major principal axes.
    public let axes: [Float]
    /// Variance of the training volumes along each axis.
    public let explainedVariance: [Double]
    /// Where the voxels sit: the image grid and their flat NIfTI indices (column order).
    public let grid: Grid
    public let voxelIndices: [Int]
    /// Grayordinate models (CIFTI inputs): the brain-models element of the runs' CIFTI XML,
    /// whose grayordinates the columns are (then `grid` is a placeholder and the indices count
    /// columns); maps are written as dense scalar files over it. Nil for voxels of a volume.
    public var brainModels: String?

    public static let fileName = "voxel_projection.safetensors"

    /// - Parameter runs: the training runs' voxel matrices (volumes x voxels, same voxels).
    public init(fitting runs: [SignalMatrix], components k: Int, grid: Grid, voxelIndices: [Int]) throws {
        guard let first = runs.first else { throw TrainingError("voxel PCA needs at least one training run") }
        let v = first.columns
        guard runs.allSatisfy({ $0.columns == v }), voxelIndices.count == v else {
            throw TrainingError("every run needs the same \(v) voxels (use one `mask` for all runs)")
        }
        let total = runs.reduce(0) { $0 + $1.timePoints }
        guard k >= 1, k < total else {
            throw TrainingError("`voxelPCA` \(k) needs more training volumes than components (the training runs have \(total)); lower `voxelPCA`")
        }
        let fit: PrincipalComponents
        do {
            fit = try PrincipalComponents(gramOf: runs.map { ($0.values, $0.timePoints) }, components: k)
        } catch {
            throw TrainingError("voxel PCA: the eigen-decomposition failed (\(error))")
        }
        let (mean, axes, variances) = (fit.mean, fit.axes.map(Float.init), fit.explainedVariance)
        self.components = k
        self.voxels = v
        self.mean = mean.map(Float.init)
        self.axes = axes
        self.explainedVariance = variances
        self.grid = grid
        self.voxelIndices = voxelIndices
    }

    init(components: Int, voxels: Int, mean: [Float], axes: [Float], explainedVariance: [Double], grid: Grid, voxelIndices: [Int]) {
        self.components = components
        self.voxels = voxels
        self.mean = mean
        self.axes = axes
        self.explainedVariance = explainedVariance
        self.grid = grid
        self.voxelIndices = voxelIndices
    }

    /// A run's volumes [T, V] as component scores [T, K].
    public func project(_ run: SignalMatrix) throws -> SignalMatrix {
        guard run.columns == voxels else {
            throw TrainingError("the run has \(run.columns) voxels but the model's projection was learned on \(voxels); extract it with the same `mask`")
        }
        let t = run.timePoints
        var centred = [Float](repeating: 0, count: t * voxels)  // column-major T x V
        run.values.withUnsafeBufferPointer { values in
            for voxel in 0..<voxels { for s in 0..<t { centred[voxel * t + s] = Float(values[voxel * t + s]) - mean[voxel] } }
        }
        var scores = [Float](repeating: 0, count: t * components)  // column-major T x K
        centred.withUnsafeBufferPointer { x in
            axes.withUnsafeBufferPointer { a in
                scores.withUnsafeMutableBufferPointer { s in
                    guard let xb = x.baseAddress, let ab = a.baseAddress, let sb = s.baseAddress else { return }
                    // S (T x K) = X_c (T x V) A^T (V x K); A is K x V row-major = V x K column-major.
                    cblas_sgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, Int32(t), Int32(components), Int32(voxels), 1, xb, Int32(t),
                                ab, Int32(voxels), 0, sb, Int32(t))
                }
            }
        }
        return SignalMatrix(timePoints: t, columns: components, values: scores.map(Double.init))
    }

    /// A component-space vector (length K) as a voxel map (length V): sum_k w_k C_k.
    public func voxelMap(_ weights: [Double]) -> [Double] {
        var map = [Double](repeating: 0, count: voxels)
        for (k, w) in weights.enumerated() where w != 0 {
            for voxel in 0..<voxels { map[voxel] += w * Double(axes[k * voxels + voxel]) }
        }
        return map
    }

    /// A voxel map as a 3-D image on the projection's grid (zeros outside the mask).
    public func image(_ map: [Double]) -> [Float] {
        var volume = [Float](repeating: 0, count: grid.voxelCount)
        for (value, index) in zip(map, voxelIndices) { volume[index] = Float(value) }
        return volume
    }

    public func save(to directory: String) throws {
        let payloads: [(name: String, shape: [Int], payload: SafeTensors.Payload)] = [
            ("mean", [voxels], .float32(mean)), ("axes", [components, voxels], .float32(axes)),
            ("explained_variance", [components], .float64(explainedVariance)), ("voxel_indices", [voxels], .int64(voxelIndices.map(Int64.init))),
        ]
        var metadata = ["format": "fmridyn-voxel-projection", "grid_shape": grid.shape.map(String.init).joined(separator: ","),
                        "grid_affine": grid.affine.elements.map { String($0) }.joined(separator: ",")]
        if let brainModels { metadata["cifti_brain_models"] = brainModels }
        try SafeTensors.write(payloads: payloads, metadata: metadata, to: directory + "/" + Self.fileName)
    }

    /// The projection of a model directory, or nil when the model works on regions.
    public static func load(from directory: String) throws -> VoxelProjection? {
        let path = directory + "/" + fileName
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        let (tensors, metadata) = try SafeTensors.read(path)
        guard let mean = tensors["mean"], let axes = tensors["axes"], let variance = tensors["explained_variance"], let indices = tensors["voxel_indices"],
              let shapeText = metadata["grid_shape"], let affineText = metadata["grid_affine"], axes.shape.count == 2 else {
            throw CheckpointError("\(path) is not a complete voxel projection (mean, axes, explained_variance, voxel_indices, grid metadata)")
        }
        let affine = affineText.split(separator: ",").compactMap { Double($0) }
        guard affine.count == 16 else { throw CheckpointError("\(path): grid_affine needs 16 numbers") }
        let grid = Grid(shape: shapeText.split(separator: ",").compactMap { Int($0) }, affine: Affine(elements: affine))
        var projection = VoxelProjection(components: axes.shape[0], voxels: axes.shape[1], mean: mean.values.map(Float.init), axes: axes.values.map(Float.init),
                                         explainedVariance: variance.values, grid: grid, voxelIndices: indices.values.map { Int($0) })
        projection.brainModels = metadata["cifti_brain_models"]
        return projection
    }
}
