/// Separable Gaussian smoothing of a 3-D volume by FWHM in mm, as nilearn's `smooth_array`:
/// sigma_axis = FWHM / sqrt(8 ln 2) / voxel size, scipy's `gaussian_filter1d` on each axis
/// (kernel radius round(4 sigma), mirror boundary "reflect": d c b a | a b c d | d c b a).
/// Non-finite voxels are set to 0 first (nilearn's `ensure_finite`).
public struct GaussianSmoothing: Sendable {
    public let grid: Grid
    public let fwhm: Double
    /// Normalised kernels per axis (nil where sigma is 0).
    let kernels: [[Double]?]

    public init(grid: Grid, fwhm: Double) {
        self.grid = grid
        self.fwhm = fwhm
        let ratio = (8 * Double.log(2.0)).squareRoot()
        kernels = grid.voxelSizes.map { size in
            let sigma = fwhm / (ratio * size)
            guard sigma > 0 else { return nil }
            let radius = Int(4 * sigma + 0.5)
            var weights = (-radius...radius).map { Double.exp(-0.5 * Double($0 * $0) / (sigma * sigma)) }
            let sum = weights.reduce(0, +)
            for index in weights.indices { weights[index] /= sum }
            return weights
        }
    }

    /// Smooths one volume (NIfTI order) in place.
    public func apply<Value: BinaryFloatingPoint>(_ volume: UnsafeMutableBufferPointer<Value>) {
        precondition(volume.count == grid.voxelCount)
        for index in volume.indices where !volume[index].isFinite { volume[index] = 0 }
        let shape = grid.shape
        let strides = [1, shape[0], shape[0] * shape[1]]
        var line = [Double](), output = [Double]()
        for axis in 0..<3 {
            guard let kernel = kernels[axis] else { continue }
            let n = shape[axis], radius = kernel.count / 2
            line = [Double](repeating: 0, count: n + 2 * radius)
            output = [Double](repeating: 0, count: n)
            let others = (0..<3).filter { $0 != axis }
            for b in 0..<shape[others[1]] {
                for a in 0..<shape[others[0]] {
                    let base = a * strides[others[0]] + b * strides[others[1]]
                    let stride = strides[axis]
                    for p in 0..<(n + 2 * radius) {
                        line[p] = Double(volume[base + stride * Self.reflect(p - radius, n)])
                    }
                    for p in 0..<n {
                        var sum = 0.0
                        for q in 0..<kernel.count { sum += kernel[q] * line[p + q] }
                        output[p] = sum
                    }
                    for p in 0..<n { volume[base + stride * p] = Value(output[p]) }
                }
            }
        }
    }

    /// scipy's "reflect" boundary: the edge sample is repeated.
    @inline(__always)
    static func reflect(_ index: Int, _ n: Int) -> Int {
        guard n > 1 else { return 0 }
        var i = index
        let period = 2 * n
        i = ((i % period) + period) % period
        return i < n ? i : period - 1 - i
    }
}

import Foundation
