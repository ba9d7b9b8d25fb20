import CNIfTI

/// A 4x4 voxel-to-world transform, stored row-major in Float64.
///
/// `world = affine * [i, j, k, 1]` with (i, j, k) 0-based voxel indices, world in the
/// header's spatial unit (usually mm, RAS+ as NIfTI specifies).
public struct Affine: Equatable, Sendable {
    /// Row-major elements: `m[4 * row + column]`.
    public var elements: [Double]

    public init(rows: [[Double]]) {
        precondition(rows.count == 4 && rows.allSatisfy { $0.count == 4 }, "an affine has 4 rows of 4")
        elements = rows.flatMap { $0 }
    }

    public init(elements: [Double]) {
        precondition(elements.count == 16, "an affine has 16 elements")
        self.elements = elements
    }

    public static let identity = Affine(rows: [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]])

    public subscript(row: Int, column: Int) -> Double {
        get { elements[4 * row + column] }
        set { elements[4 * row + column] = newValue }
    }

    public var rows: [[Double]] { (0..<4).map { Array(elements[(4 * $0)..<(4 * $0 + 4)]) } }

    public var isFinite: Bool { elements.allSatisfy { $0.isFinite } }

    /// Maps a voxel index (continuous) to world coordinates.
    public func apply(_ voxel: (Double, Double, Double)) -> (Double, Double, Double) {
        let (i, j, k) = voxel
        return (self[0, 0] * i + self[0, 1] * j + self[0, 2] * k + self[0, 3],
                self[1, 0] * i + self[1, 1] * j + self[1, 2] * k + self[1, 3],
                self[2, 0] * i + self[2, 1] * j + self[2, 2] * k + self[2, 3])
    }

    /// The affine NIfTI's quaternion representation describes (method 2 of nifti1.h),
    /// computed by the NIfTI C library. `qfac` is `pixdim[0]` (0 counts as 1).
    public static func fromQuaternion(
        b: Double, c: Double, d: Double, offset: (Double, Double, Double),
        pixdim: (Double, Double, Double), qfac: Double
    ) -> Affine {
        let m = nifti_quatern_to_dmat44(b, c, d, offset.0, offset.1, offset.2,
                                        pixdim.0, pixdim.1, pixdim.2, qfac == 0 ? 1 : qfac)
        return Affine(dmat44: m)
    }

    /// The quaternion parameters of this affine's rotation part (the inverse of
    /// `fromQuaternion`), computed by the NIfTI C library. Shear is discarded, as in NIfTI.
    public func quaternion() -> (b: Double, c: Double, d: Double, offset: (Double, Double, Double),
                                 pixdim: (Double, Double, Double), qfac: Double) {
        var qb = 0.0, qc = 0.0, qd = 0.0, qx = 0.0, qy = 0.0, qz = 0.0
        var dx = 0.0, dy = 0.0, dz = 0.0, qfac = 0.0
        nifti_dmat44_to_quatern(dmat44, &qb, &qc, &qd, &qx, &qy, &qz, &dx, &dy, &dz, &qfac)
        return (qb, qc, qd, (qx, qy, qz), (dx, dy, dz), qfac)
    }

    /// nibabel's fallback when neither sform nor qform is set: voxel sizes on the
    /// diagonal, x flipped (radiological storage), and the volume centre at the origin.
    public static func base(shape: [Int], zooms: [Double]) -> Affine {
        var size = [1.0, 1.0, 1.0], zoom = [1.0, 1.0, 1.0]
        for axis in 0..<min(3, shape.count) {
            size[axis] = Double(shape[axis])
            zoom[axis] = axis < zooms.count ? zooms[axis] : 1
        }
        let signedZoom = [-zoom[0], zoom[1], zoom[2]]
        var affine = Affine.identity
        for axis in 0..<3 {
            affine[axis, axis] = signedZoom[axis]
            affine[axis, 3] = -((size[axis] - 1) / 2) * signedZoom[axis]
        }
        return affine
    }

    init(dmat44 m: nifti_dmat44) {
        var values = [Double](repeating: 0, count: 16)
        withUnsafeBytes(of: m.m) { raw in
            let doubles = raw.bindMemory(to: Double.self)
            for index in 0..<16 { values[index] = doubles[index] }
        }
        elements = values
    }

    var dmat44: nifti_dmat44 {
        var m = nifti_dmat44()
        withUnsafeMutableBytes(of: &m.m) { raw in
            let doubles = raw.bindMemory(to: Double.self)
            for index in 0..<16 { doubles[index] = elements[index] }
        }
        return m
    }
}
