import Foundation
import Model
import NIfTI

/// Component-space maps of a voxel or grayordinate model through its PCA axes, written where
/// the inputs live: NIfTI volumes on the mask's grid, or CIFTI dense scalars over the
/// grayordinates of the runs' brain models.
enum ProjectedMaps {
    /// The file extension of the model's maps (".nii.gz" or ".dscalar.nii").
    static func fileExtension(_ projection: VoxelProjection) -> String { projection.brainModels == nil ? ".nii.gz" : ".dscalar.nii" }

    /// Writes `maps` (each of K component weights) to `path` (which ends in `fileExtension`):
    /// one 3-D volume, a 4-D image of one volume per map, or one named dense scalar map each.
    static func write(_ maps: [[Double]], names: [String], projection: VoxelProjection, to path: String) throws {
        let spatial = maps.map { projection.voxelMap($0) }
        if let brainModels = projection.brainModels {
            try CIFTIWriter.writeDenseScalars(spatial, names: names, brainModels: brainModels, to: path)
            return
        }
        let voxels = projection.grid.voxelCount
        var volume = [Float](repeating: 0, count: voxels * spatial.count)
        for (m, map) in spatial.enumerated() {
            let image = projection.image(map)
            for v in 0..<voxels { volume[m * voxels + v] = image[v] }
        }
        let fourD = spatial.count > 1
        let header = NIfTIHeader.make(shape: projection.grid.shape + (fourD ? [spatial.count] : []),
                                      zooms: projection.grid.voxelSizes + (fourD ? [1] : []), affine: projection.grid.affine, code: 4)
        try NIfTIWriter.write(volume, header: header, to: path)
    }
}
