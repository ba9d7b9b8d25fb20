import NIfTI

/// Voxel mode: the masked (volumes x voxels) matrix, streamed one volume at a time.
public enum VoxelExtraction {
    /// Non-finite voxels are an error; the other overload takes a `NonFinitePolicy`.
    public static func extract(_ image: NIfTIImage, mask: BrainMask, smoothingFWHM: Double? = nil,
                               progress: ((Int, Int) -> Void)? = nil) throws -> SignalMatrix {
        var tally = NonFiniteTally()
        return try extract(image, mask: mask, smoothingFWHM: smoothingFWHM, nonFinite: .error, tally: &tally, progress: progress)
    }

    /// Columns follow `mask.columnOrder` (nilearn's voxel order). `nonFinite` is `error` or
    /// `zero` (a voxel cannot be dropped from its own column); `tally` counts what was zeroed.
    public static func extract(_ image: NIfTIImage, mask: BrainMask, smoothingFWHM: Double? = nil, nonFinite: NonFinitePolicy,
                               tally: inout NonFiniteTally, progress: ((Int, Int) -> Void)? = nil) throws -> SignalMatrix {
        guard nonFinite != .drop else {
            throw AtlasError("non-finite voxels cannot be dropped in voxel mode (each voxel is its own column); set them to zero or fix the image")
        }
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
                    if NonFiniteScan.containsNonFinite(UnsafeBufferPointer(rebasing: all[0..<(count * perVolume)])) {
                        for v in 0..<count {
                            var bad = 0
                            for (column, index) in indices.enumerated() where !all[v * perVolume + index].isFinite {
                                if nonFinite == .error {
                                    throw NonFiniteScan.error(path: image.path, column: String(index), volume: start + v, count: 1, regions: false)
                                }
                                all[v * perVolume + index] = 0
                                tally.perColumn[column, default: 0] += 1
                                bad += 1
                            }
                            // Voxels outside the mask are zeroed too, so smoothing does not spread them.
                            for i in (v * perVolume)..<((v + 1) * perVolume) where !all[i].isFinite { all[i] = 0 }
                            tally.values += bad
                            if bad > 0 { tally.volumes += 1 }
                        }
                    }
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
