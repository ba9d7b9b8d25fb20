/// Delivers an image's 3-D volumes in order, converting each block to Float32/Float64.
///
/// Memory stays bounded by the caller's output buffer plus one conversion chunk, so a
/// run of any length can be reduced volume by volume. Not thread-safe: one reader per stream.
public final class VolumeStream {
    public let header: NIfTIHeader
    /// Volumes delivered so far.
    public private(set) var volumesRead = 0
    private let source: ByteSource
    private let path: String
    private var scratch: UnsafeMutableRawBufferPointer?

    init(header: NIfTIHeader, source: ByteSource, path: String) {
        self.header = header
        self.source = source
        self.path = path
    }

    deinit { scratch?.deallocate() }

    /// Voxels per volume (the length of one volume in the output buffer).
    public var voxelsPerVolume: Int { header.voxelsPerVolume }
    public var volumesRemaining: Int { header.volumeCount - volumesRead }

    /// Reads up to `volumes` volumes into `output` (which must hold `volumes * voxelsPerVolume`
    /// values). Returns how many were read: fewer only at the end of the image.
    /// - Throws: `NIfTIError.truncatedData` when the file ends before the header says.
    public func read<Output: VoxelScalar>(volumes: Int, into output: UnsafeMutableBufferPointer<Output>) throws -> Int {
        let count = min(volumes, volumesRemaining)
        guard count > 0, let outputBase = output.baseAddress else { return 0 }
        let voxels = count * voxelsPerVolume
        precondition(output.count >= voxels, "output buffer holds \(output.count) values, \(voxels) needed")
        let datatype = header.datatype
        let nativeByteOrder = header.isBigEndian == (UInt16(1).bigEndian == 1)

        if nativeByteOrder && header.scaling == nil
            && ((datatype == .float32 && Output.self == Float.self) || (datatype == .float64 && Output.self == Double.self)) {
            // Stored exactly as wanted: decompress or read straight into the output.
            let bytes = UnsafeMutableRawBufferPointer(start: UnsafeMutableRawPointer(outputBase), count: voxels * datatype.byteSize)
            try readExactly(bytes, voxelsDone: 0)
        } else {
            let chunkVoxels = max(1, (4 << 20) / datatype.byteSize)
            let chunk = scratchBuffer(bytes: chunkVoxels * datatype.byteSize)
            var done = 0
            while done < voxels {
                let step = min(chunkVoxels, voxels - done)
                let target = UnsafeMutableRawBufferPointer(rebasing: chunk[0..<(step * datatype.byteSize)])
                try readExactly(target, voxelsDone: done)
                VoxelConversion.convert(UnsafeRawPointer(target.baseAddress!), count: step, datatype: datatype,
                                        bigEndian: header.isBigEndian, scaling: header.scaling, into: outputBase + done)
                done += step
            }
        }
        volumesRead += count
        if volumesRemaining == 0 { try source.verifyEnd() }
        return count
    }

    /// Reads the next volume into a new array, or nil after the last one.
    public func nextVolume<Output: VoxelScalar>(as type: Output.Type = Float.self) throws -> [Output]? {
        guard volumesRemaining > 0 else { return nil }
        return try [Output](unsafeUninitializedCapacity: voxelsPerVolume) { buffer, initialized in
            _ = try read(volumes: 1, into: buffer)
            initialized = voxelsPerVolume
        }
    }

    /// Skips `volumes` volumes without converting them.
    public func skip(volumes: Int) throws {
        let count = min(volumes, volumesRemaining)
        let bytes = count * voxelsPerVolume * header.datatype.byteSize
        let skipped = try source.skip(bytes)
        guard skipped == bytes else { throw truncated(afterVoxels: skipped / header.datatype.byteSize) }
        volumesRead += count
        if volumesRemaining == 0 { try source.verifyEnd() }
    }

    private func readExactly(_ buffer: UnsafeMutableRawBufferPointer, voxelsDone: Int) throws {
        let got = try source.read(into: buffer)
        if got < buffer.count {
            throw truncated(afterVoxels: voxelsDone + got / header.datatype.byteSize)
        }
    }

    private func truncated(afterVoxels voxels: Int) -> NIfTIError {
        let total = volumesRead * voxelsPerVolume + voxels
        return NIfTIError(.truncatedData, path: path,
                          "the data ends after \(total) of \(header.voxelCount) voxels (volume \(total / max(1, voxelsPerVolume)) of \(header.volumeCount)); the file is truncated")
    }

    private func scratchBuffer(bytes: Int) -> UnsafeMutableRawBufferPointer {
        if let scratch, scratch.count >= bytes { return scratch }
        scratch?.deallocate()
        let fresh = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes, alignment: 64)
        scratch = fresh
        return fresh
    }
}
