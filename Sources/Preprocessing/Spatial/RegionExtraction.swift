import NIfTI

/// How the voxels of a region combine into one value per volume (nilearn's strategies;
/// `std` is the population standard deviation, ddof 0, as scipy.ndimage's).
public enum ReductionStrategy: String, Sendable, CaseIterable {
    case mean, median, sum, min, max, std
}

/// Streams a 4-D image volume by volume and reduces each region to one value per volume.
public enum RegionExtraction {
    /// Non-finite voxels are an error; the other overload takes a `NonFinitePolicy`.
    public static func extract(_ image: NIfTIImage, regions: RegionSet, strategy: ReductionStrategy = .mean,
                               smoothingFWHM: Double? = nil, progress: ((Int, Int) -> Void)? = nil) throws -> SignalMatrix {
        var tally = NonFiniteTally()
        return try extract(image, regions: regions, strategy: strategy, smoothingFWHM: smoothingFWHM, nonFinite: .error, tally: &tally, progress: progress)
    }

    /// - Parameters:
    ///   - smoothingFWHM: Gaussian smoothing of each volume before reduction, in mm.
    ///   - nonFinite: what NaN or infinite voxels of a region do; `tally` counts them.
    ///   - progress: called after each volume with (done, total).
    /// - Returns: `volumes x regions`.
    public static func extract(_ image: NIfTIImage, regions: RegionSet, strategy: ReductionStrategy = .mean,
                               smoothingFWHM: Double? = nil, nonFinite: NonFinitePolicy, tally: inout NonFiniteTally,
                               progress: ((Int, Int) -> Void)? = nil) throws -> SignalMatrix {
        let grid = Grid(image.header)
        if nonFinite == .drop && smoothingFWHM != nil {
            throw AtlasError("dropping non-finite voxels cannot be combined with smoothing (the kernel spreads a NaN over its neighbours); set them to zero instead")
        }
        guard grid.shape == regions.grid.shape else {
            throw AtlasError("\(image.path): the data grid \(grid.shape) differs from the regions' grid \(regions.grid.shape)")
        }
        let stream = try image.volumeStream()
        let volumes = image.header.volumeCount
        var result = SignalMatrix(timePoints: volumes, columns: regions.count)
        var volume = [Float](repeating: 0, count: stream.voxelsPerVolume)
        let smoothing = smoothingFWHM.map { GaussianSmoothing(grid: grid, fwhm: $0) }
        var scratch: [Double] = []
        var finiteMembers: [Int] = []
        // Without smoothing, only region voxels matter, and a sum-based reduction carries any
        // non-finite member into its result: the reductions themselves are the scan, and only a
        // volume with a non-finite result is looked at voxel by voxel. Otherwise (a kernel spreads
        // NaN; min, max and median do not propagate it) the whole volume is scanned first.
        let reductionsPropagate = smoothing == nil && [.mean, .sum, .std].contains(strategy)
        for t in 0..<volumes {
            var flagged = try volume.withUnsafeMutableBufferPointer { buffer -> Bool in
                _ = try stream.read(volumes: 1, into: buffer)
                return reductionsPropagate ? false : NonFiniteScan.containsNonFinite(UnsafeBufferPointer(buffer))
            }
            if reductionsPropagate {
                let finite = volume.withUnsafeBufferPointer { values -> Bool in
                    var finite = true
                    for (region, members) in regions.voxels.enumerated() {
                        let value = reduce(values, members, strategy, &scratch)
                        result[t, region] = value
                        finite = finite && value.isFinite
                    }
                    return finite
                }
                if finite {
                    progress?(t + 1, volumes)
                    continue
                }
                flagged = true
            }
            // Only a volume that has a non-finite voxel pays for the per-region pass.
            var dropping = false
            if flagged {
                var anyInRegions = false
                for (region, members) in regions.voxels.enumerated() {
                    let bad = members.reduce(0) { $0 + (volume[$1].isFinite ? 0 : 1) }
                    guard bad > 0 else { continue }
                    if nonFinite == .error || (nonFinite == .drop && bad == members.count) {
                        throw NonFiniteScan.error(path: image.path, column: regions.names[region], volume: t, count: bad, regions: true)
                    }
                    anyInRegions = true
                    tally.values += bad
                    tally.perColumn[region, default: 0] += bad
                }
                if anyInRegions { tally.volumes += 1 }
                if nonFinite == .zero {
                    for index in volume.indices where !volume[index].isFinite { volume[index] = 0 }
                } else {
                    dropping = anyInRegions
                }
            }
            volume.withUnsafeMutableBufferPointer { smoothing?.apply($0) }
            volume.withUnsafeBufferPointer { values in
                for (region, members) in regions.voxels.enumerated() {
                    if dropping, members.contains(where: { !values[$0].isFinite }) {
                        finiteMembers.removeAll(keepingCapacity: true)
                        for index in members where values[index].isFinite { finiteMembers.append(index) }
                        result[t, region] = reduce(values, finiteMembers, strategy, &scratch)
                    } else {
                        result[t, region] = reduce(values, members, strategy, &scratch)
                    }
                }
            }
            progress?(t + 1, volumes)
        }
        return result
    }

    @inline(__always)
    static func reduce(_ values: UnsafeBufferPointer<Float>, _ members: [Int], _ strategy: ReductionStrategy, _ scratch: inout [Double]) -> Double {
        switch strategy {
        case .mean, .sum, .std:
            var sum = 0.0
            for index in members { sum += Double(values[index]) }
            if strategy == .sum { return sum }
            let mean = sum / Double(members.count)
            if strategy == .mean { return mean }
            var squares = 0.0
            for index in members { squares += (Double(values[index]) - mean) * (Double(values[index]) - mean) }
            return (squares / Double(members.count)).squareRoot()
        case .min:
            return members.reduce(Double.infinity) { Swift.min($0, Double(values[$1])) }
        case .max:
            return members.reduce(-Double.infinity) { Swift.max($0, Double(values[$1])) }
        case .median:
            scratch.removeAll(keepingCapacity: true)
            for index in members { scratch.append(Double(values[index])) }
            scratch.sort()
            let middle = scratch.count / 2
            return scratch.count % 2 == 1 ? scratch[middle] : 0.5 * (scratch[middle - 1] + scratch[middle])
        }
    }
}
