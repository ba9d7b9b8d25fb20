import NIfTI

/// A boolean mask on a voxel grid (NIfTI order).
public struct BrainMask: Equatable, Sendable {
    public let grid: Grid
    public var voxels: [Bool]

    public init(grid: Grid, voxels: [Bool]) {
        precondition(voxels.count == grid.voxelCount)
        self.grid = grid
        self.voxels = voxels
    }

    public var count: Int { voxels.reduce(0) { $0 + ($1 ? 1 : 0) } }

    /// Flat indices (NIfTI order) of the voxels inside, ascending.
    public var indices: [Int] { voxels.indices.filter { voxels[$0] } }

    /// The voxels inside in the column order of voxel mode: nilearn's (numpy's C order over
    /// (i, j, k): k varies fastest), so a matrix written by fmridyn lines up with
    /// `NiftiMasker.inverse_transform`. Values are NIfTI flat indices.
    public var columnOrder: [Int] {
        let (nx, ny, nz) = (grid.shape[0], grid.shape[1], grid.shape[2])
        var order: [Int] = []
        order.reserveCapacity(count)
        for i in 0..<nx {
            for j in 0..<ny {
                for k in 0..<nz {
                    let index = i + nx * (j + ny * k)
                    if voxels[index] { order.append(index) }
                }
            }
        }
        return order
    }

    /// A mask image: voxels with a non-zero, finite value are inside.
    public init(contentsOf path: String) throws {
        let image = try NIfTIImage(contentsOf: path)
        let values: [Float] = try image.readAll()
        let grid = Grid(image.header)
        guard image.header.volumeCount == 1 else {
            throw NIfTIError(.invalidArgument, path: path, field: "dim", "a mask must be 3-D, this image has \(image.header.volumeCount) volumes")
        }
        self.init(grid: grid, voxels: values.map { $0 != 0 && $0.isFinite })
    }

    /// The mean over volumes, accumulated in Float64 one volume at a time.
    static func meanVolume(of image: NIfTIImage) throws -> [Double] {
        let stream = try image.volumeStream()
        var sum = [Double](repeating: 0, count: stream.voxelsPerVolume)
        var volume = [Double](repeating: 0, count: stream.voxelsPerVolume)
        while stream.volumesRemaining > 0 {
            _ = try volume.withUnsafeMutableBufferPointer { try stream.read(volumes: 1, into: $0) }
            for index in sum.indices { sum[index] += volume[index] }
        }
        let count = Double(image.header.volumeCount)
        return sum.map { $0 / count }
    }

    /// nilearn's `compute_epi_mask`: the mean image (smoothed with FWHM 1 voxel when `opening`
    /// is non-zero: nilearn passes an identity affine), thresholded at the middle of the largest gap between sorted intensities
    /// within the [lowerCutoff, upperCutoff] quantiles, then eroded `opening` times, reduced to
    /// its largest 6-connected component, dilated 2 x `opening` and eroded `opening` times.
    public static func epi(_ image: NIfTIImage, lowerCutoff: Double = 0.2, upperCutoff: Double = 0.85,
                           connected: Bool = true, opening: Int = 2, excludeZeros: Bool = false) throws -> BrainMask {
        let grid = Grid(image.header)
        var mean = try meanVolume(of: image)
        for index in mean.indices where !mean[index].isFinite { mean[index] = 0 }
        if opening > 0 {
            let voxelGrid = Grid(shape: grid.shape, affine: .identity)
            mean.withUnsafeMutableBufferPointer { GaussianSmoothing(grid: voxelGrid, fwhm: 1).apply($0) }
        }
        var sorted = mean.sorted()
        if excludeZeros { sorted = sorted.filter { $0 != 0 } }
        guard sorted.count > 2 else {
            throw NIfTIError(.invalidArgument, path: image.path, "too few voxels to compute an EPI mask; pass `mask`")
        }
        let lower = Int((lowerCutoff * Double(sorted.count)).rounded(.down))
        let upper = min(Int((upperCutoff * Double(sorted.count)).rounded(.down)), sorted.count - 1)
        var bestGap = -Double.infinity, bestIndex = lower
        for index in lower..<upper {
            let gap = sorted[index + 1] - sorted[index]
            if gap > bestGap { bestGap = gap; bestIndex = index }
        }
        let threshold = 0.5 * (sorted[bestIndex] + sorted[bestIndex + 1])
        var mask = mean.map { $0 >= threshold }
        mask = postProcess(mask, shape: grid.shape, opening: opening, connected: connected)
        return BrainMask(grid: grid, voxels: mask)
    }

    /// nilearn's `compute_background_mask`: voxels that differ from the median of a
    /// `borderSize`-voxel border of the mean image (or that are not NaN, when the border has NaNs).
    public static func background(_ image: NIfTIImage, borderSize: Int = 2, connected: Bool = false, opening: Int = 0) throws -> BrainMask {
        let grid = Grid(image.header)
        let mean = try meanVolume(of: image)
        let (nx, ny, nz) = (grid.shape[0], grid.shape[1], grid.shape[2])
        // nilearn concatenates the six border slabs (edges counted more than once).
        var border: [Double] = []
        for k in 0..<nz {
            for j in 0..<ny {
                for i in 0..<nx {
                    let value = mean[grid.index(i, j, k)]
                    if i < borderSize { border.append(value) }
                    if i >= nx - borderSize { border.append(value) }
                    if j < borderSize { border.append(value) }
                    if j >= ny - borderSize { border.append(value) }
                    if k < borderSize { border.append(value) }
                    if k >= nz - borderSize { border.append(value) }
                }
            }
        }
        var mask: [Bool]
        if border.contains(where: \.isNaN) {
            mask = mean.map { !$0.isNaN }
        } else {
            border.sort()
            let middle = border.count / 2
            let median = border.count % 2 == 1 ? border[middle] : 0.5 * (border[middle - 1] + border[middle])
            mask = mean.map { $0 != median }
        }
        mask = postProcess(mask, shape: grid.shape, opening: opening, connected: connected)
        return BrainMask(grid: grid, voxels: mask)
    }

    static func postProcess(_ input: [Bool], shape: [Int], opening: Int, connected: Bool) -> [Bool] {
        var mask = input
        if opening > 0 { mask = Morphology.erode(mask, shape: shape, iterations: opening) }
        if connected && mask.contains(true) { mask = Morphology.largestComponent(mask, shape: shape) }
        if opening > 0 {
            mask = Morphology.dilate(mask, shape: shape, iterations: 2 * opening)
            mask = Morphology.erode(mask, shape: shape, iterations: opening)
        }
        return mask
    }
}
