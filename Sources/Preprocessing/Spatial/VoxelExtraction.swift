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
        // Zeroes (or refuses) the non-finite voxels of the first `count` volumes in `buffer`.
        func repair(_ count: Int, first: Int) throws {
            try buffer.withUnsafeMutableBufferPointer { all in
                for v in 0..<count {
                    var bad = 0
                    for (column, index) in indices.enumerated() where !all[v * perVolume + index].isFinite {
                        if nonFinite == .error {
                            throw NonFiniteScan.error(path: image.path, column: String(index), volume: first + v, count: 1, regions: false)
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
        }
        try result.values.withUnsafeMutableBufferPointer { output in
            // Copies the block's masked voxels into their columns; true when one was not finite.
            func scatter(_ count: Int, first: Int) -> Bool {
                buffer.withUnsafeBufferPointer { values in
                    var exponents: UInt32 = 0
                    for (column, index) in indices.enumerated() {
                        let base = column * volumes + first
                        for v in 0..<count {
                            let value = values[v * perVolume + index]
                            exponents |= (value.bitPattern & 0x7F80_0000) == 0x7F80_0000 ? 1 : 0
                            output[base + v] = Double(value)
                        }
                    }
                    return exponents != 0
                }
            }
            var start = 0
            while start < volumes {
                let count = try buffer.withUnsafeMutableBufferPointer { try stream.read(volumes: block, into: $0) }
                if let smoothing {
                    // A kernel spreads a NaN from anywhere: scan and repair the whole volumes first.
                    if buffer.withUnsafeBufferPointer({ NonFiniteScan.containsNonFinite(UnsafeBufferPointer(rebasing: $0[0..<(count * perVolume)])) }) {
                        try repair(count, first: start)
                    }
                    buffer.withUnsafeMutableBufferPointer { all in
                        for v in 0..<count { smoothing.apply(UnsafeMutableBufferPointer(rebasing: all[(v * perVolume)..<((v + 1) * perVolume)])) }
                    }
                    _ = scatter(count, first: start)
                } else if scatter(count, first: start) {
                    // Only masked voxels matter: the copy itself is the scan, and a block with a
                    // non-finite one is repaired and copied again.
                    try repair(count, first: start)
                    _ = scatter(count, first: start)
                }
                start += count
                progress?(start, volumes)
            }
        }
        return result
    }
}
