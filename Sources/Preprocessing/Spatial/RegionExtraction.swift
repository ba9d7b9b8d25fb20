import NIfTI

/// How the voxels of a region combine into one value per volume (nilearn's strategies;
/// `std` is the population standard deviation, ddof 0, as scipy.ndimage's).
public enum ReductionStrategy: String, Sendable, CaseIterable {
    case mean, median, sum, min, max, std
}

/// Streams a 4-D image volume by volume and reduces each region to one value per volume.
public enum RegionExtraction {
    /// - Parameters:
    ///   - smoothingFWHM: Gaussian smoothing of each volume before reduction, in mm.
    ///   - progress: called after each volume with (done, total).
    /// - Returns: `volumes x regions`.
    public static func extract(_ image: NIfTIImage, regions: RegionSet, strategy: ReductionStrategy = .mean,
                               smoothingFWHM: Double? = nil, progress: ((Int, Int) -> Void)? = nil) throws -> SignalMatrix {
        let grid = Grid(image.header)
        guard grid.shape == regions.grid.shape else {
            throw AtlasError("\(image.path): the data grid \(grid.shape) differs from the regions' grid \(regions.grid.shape)")
        }
        let stream = try image.volumeStream()
        let volumes = image.header.volumeCount
        var result = SignalMatrix(timePoints: volumes, columns: regions.count)
        var volume = [Float](repeating: 0, count: stream.voxelsPerVolume)
        let smoothing = smoothingFWHM.map { GaussianSmoothing(grid: grid, fwhm: $0) }
        var scratch: [Double] = []
        for t in 0..<volumes {
            _ = try volume.withUnsafeMutableBufferPointer { buffer in
                let count = try stream.read(volumes: 1, into: buffer)
                smoothing?.apply(buffer)
                return count
            }
            volume.withUnsafeBufferPointer { values in
                for (region, members) in regions.voxels.enumerated() {
                    result[t, region] = reduce(values, members, strategy, &scratch)
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
