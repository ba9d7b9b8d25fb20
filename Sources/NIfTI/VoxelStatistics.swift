/// Min, max, mean and sum of an image's scaled values over finite voxels, accumulated in
/// Float64 while streaming one volume at a time.
public struct VoxelStatistics: Sendable {
    public private(set) var minimum = Double.infinity
    public private(set) var maximum = -Double.infinity
    public private(set) var sum = 0.0
    public private(set) var count = 0
    public private(set) var nonFiniteCount = 0

    public var mean: Double { count > 0 ? sum / Double(count) : .nan }

    /// Streams `image` once.
    public init(image: NIfTIImage) throws {
        let stream = try image.volumeStream()
        var volume = [Double](repeating: 0, count: stream.voxelsPerVolume)
        while stream.volumesRemaining > 0 {
            _ = try volume.withUnsafeMutableBufferPointer { try stream.read(volumes: 1, into: $0) }
            for value in volume {
                guard value.isFinite else { nonFiniteCount += 1; continue }
                minimum = Swift.min(minimum, value)
                maximum = Swift.max(maximum, value)
                sum += value
                count += 1
            }
        }
    }
}
