import NIfTI

/// A 3-D voxel grid: dimensions and the voxel-to-world affine.
public struct Grid: Equatable, Sendable {
    public let shape: [Int]
    public let affine: Affine

    public init(shape: [Int], affine: Affine) {
        precondition(shape.count == 3, "a grid has three dimensions")
        self.shape = shape
        self.affine = affine
    }

    /// The spatial grid of an image (first three dimensions; missing ones count as 1).
    public init(_ header: NIfTIHeader) {
        let shape = header.shape
        self.init(shape: (0..<3).map { $0 < shape.count ? shape[$0] : 1 }, affine: header.affine)
    }

    public var voxelCount: Int { shape[0] * shape[1] * shape[2] }

    /// Voxel edge lengths: the norms of the affine's first three columns.
    public var voxelSizes: [Double] {
        (0..<3).map { column in (0..<3).reduce(0.0) { $0 + affine[$1, column] * affine[$1, column] }.squareRoot() }
    }

    /// Flat index of (i, j, k) in NIfTI order.
    @inline(__always)
    public func index(_ i: Int, _ j: Int, _ k: Int) -> Int { i + shape[0] * (j + shape[1] * k) }

    /// The inverse affine (world -> voxel), or nil when the affine is singular.
    public var inverseAffine: Affine? {
        let m = affine
        let a = m[0, 0], b = m[0, 1], c = m[0, 2], d = m[1, 0], e = m[1, 1], f = m[1, 2], g = m[2, 0], h = m[2, 1], i = m[2, 2]
        let determinant = a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g)
        guard abs(determinant) > 1e-12 else { return nil }
        let inverse3 = [[(e * i - f * h), -(b * i - c * h), (b * f - c * e)],
                        [-(d * i - f * g), (a * i - c * g), -(a * f - c * d)],
                        [(d * h - e * g), -(a * h - b * g), (a * e - b * d)]].map { $0.map { $0 / determinant } }
        let translation = (0..<3).map { row in -(0..<3).reduce(0.0) { $0 + inverse3[row][$1] * m[$1, 3] } }
        return Affine(rows: (0..<3).map { inverse3[$0] + [translation[$0]] } + [[0, 0, 0, 1]])
    }

    /// World-space bounding box of the voxel centres, for error messages.
    public var worldExtent: (min: [Double], max: [Double]) {
        var low = [Double](repeating: .infinity, count: 3), high = [Double](repeating: -.infinity, count: 3)
        for i in [0, shape[0] - 1] {
            for j in [0, shape[1] - 1] {
                for k in [0, shape[2] - 1] {
                    let p = affine.apply((Double(i), Double(j), Double(k)))
                    for (axis, value) in [p.0, p.1, p.2].enumerated() {
                        low[axis] = min(low[axis], value)
                        high[axis] = max(high[axis], value)
                    }
                }
            }
        }
        return (low, high)
    }

    public var extentDescription: String {
        let (low, high) = worldExtent
        return (0..<3).map { String(format: "%@ %.1f..%.1f", ["x", "y", "z"][$0], low[$0], high[$0]) }.joined(separator: ", ") + " mm"
    }
}

import Foundation
