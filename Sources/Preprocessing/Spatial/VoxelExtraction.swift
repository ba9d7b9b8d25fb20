import NIfTI

/// Voxel mode: the masked (volumes x voxels) matrix, streamed one volume at a time.
public enum VoxelExtraction {
    /// Columns follow `mask.columnOrder` (nilearn's voxel order).
    public static func extract(_ image: NIfTIImage, mask: BrainMask, smoothingFWHM: Double? = nil,
                               progress: ((Int, Int) -> Void)? = nil) throws -> SignalMatrix {
        let grid = Grid(image.header)
        guard grid.shape == mask.grid.shape else {
            throw AtlasError("\(image.path): the data grid \(grid.shape) differs from the mask grid \(mask.grid.shape)")
        }
        let indices = mask.columnOrder
        let volumes = image.header.volumeCount
        var result = SignalMatrix(timePoints: volumes, columns: indices.count)
        let stream = try image.volumeStream()
        var volume = [Float](repeating: 0, count: stream.voxelsPerVolume)
        let smoothing = smoothingFWHM.map { GaussianSmoothing(grid: grid, fwhm: $0) }
        try result.values.withUnsafeMutableBufferPointer { output in
            for t in 0..<volumes {
                _ = try volume.withUnsafeMutableBufferPointer { buffer in
                    let count = try stream.read(volumes: 1, into: buffer)
                    smoothing?.apply(buffer)
                    return count
                }
                volume.withUnsafeBufferPointer { values in
                    for (column, index) in indices.enumerated() { output[column * volumes + t] = Double(values[index]) }
                }
                progress?(t + 1, volumes)
            }
        }
        return result
    }
}
