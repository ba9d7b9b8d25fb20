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
        let perVolume = stream.voxelsPerVolume
        // Volumes are read a block at a time so that each column receives `block` consecutive
        // values per pass: the scatter into the column-major result stays cache-friendly.
        let block = max(1, min(volumes, (32 << 20) / max(1, perVolume * 4)))
        var buffer = [Float](repeating: 0, count: perVolume * block)
        let smoothing = smoothingFWHM.map { GaussianSmoothing(grid: grid, fwhm: $0) }
        try result.values.withUnsafeMutableBufferPointer { output in
            var start = 0
            while start < volumes {
                let count = try buffer.withUnsafeMutableBufferPointer { all -> Int in
                    let count = try stream.read(volumes: block, into: all)
                    if let smoothing {
                        for v in 0..<count { smoothing.apply(UnsafeMutableBufferPointer(rebasing: all[(v * perVolume)..<((v + 1) * perVolume)])) }
                    }
                    return count
                }
                buffer.withUnsafeBufferPointer { values in
                    for (column, index) in indices.enumerated() {
                        let base = column * volumes + start
                        for v in 0..<count { output[base + v] = Double(values[v * perVolume + index]) }
                    }
                }
                start += count
                progress?(start, volumes)
            }
        }
        return result
    }
}
