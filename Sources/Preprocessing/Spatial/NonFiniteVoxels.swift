/// What extraction does with NaN or infinite voxel values in the data.
public enum NonFinitePolicy: String, Sendable, CaseIterable {
    /// Refuse the run, naming the region (or voxel), the volume and the count: the default for
    /// model inputs, where one NaN region makes every latent NaN.
    case error
    /// Set them to 0 before smoothing and reduction, as nilearn's maskers do (`ensure_finite`),
    /// and say so in a warning: the default of `extract`.
    case zero
    /// Leave them out of their region's reduction in that volume (regions only); a region with
    /// no finite voxel in a volume is still an error.
    case drop
}

/// Non-finite voxel values met during one extraction, for the warning that reports them.
public struct NonFiniteTally: Sendable, Equatable {
    /// Voxel values (voxels x volumes) that were not finite, over the regions' (or mask's) voxels.
    public var values = 0
    /// Volumes with at least one.
    public var volumes = 0
    /// Per region (or voxel-mode column), how many values.
    public var perColumn: [Int: Int] = [:]

    public init() {}

    /// "N non-finite voxel values in M volumes (regions a (k), b (l), ...) were set to 0" or nil.
    public func warning(path: String, names: [String], policy: NonFinitePolicy) -> String? {
        guard values > 0 else { return nil }
        let worst = perColumn.sorted { $0.value == $1.value ? $0.key < $1.key : $0.value > $1.value }.prefix(5)
        let listed = worst.map { "\($0.key < names.count ? names[$0.key] : String($0.key)) (\($0.value))" }.joined(separator: ", ")
        let action = policy == .drop ? "left out of their regions' reductions" : "set to 0"
        return "\(path): \(values) non-finite voxel values in \(volumes) volumes were \(action) (\(perColumn.count) \(perColumn.count == 1 ? "column" : "columns"), most in \(listed))"
    }
}

enum NonFiniteScan {
    /// Whether any of `values` is NaN or infinite (a branch-free pass the compiler vectorises).
    @inline(__always)
    static func containsNonFinite(_ values: UnsafeBufferPointer<Float>) -> Bool {
        var bad: UInt32 = 0
        for value in values { bad |= (value.bitPattern & 0x7F80_0000) == 0x7F80_0000 ? 1 : 0 }
        return bad != 0
    }

    /// The error for the first non-finite value of `column` in `volume`.
    static func error(path: String, column: String, volume: Int, count: Int, regions: Bool) -> AtlasError {
        AtlasError("\(path): \(regions ? "region" : "voxel") \(column) has \(count) non-finite \(count == 1 ? "value" : "values") (NaN or infinity) in volume \(volume); fix the image, or choose a non-finite policy: zero (as nilearn)\(regions ? " or drop (leave them out of the region)" : "")")
    }
}
