#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CCompression

extension NIfTIHeader {
    /// A header for new data: shape, voxel sizes (and TR as the fourth zoom), affine.
    ///
    /// The affine goes into both sform and qform (the qform keeps its rotation and voxel
    /// sizes only, as NIfTI defines it), with `code` (2 = aligned anatomical, 4 = MNI).
    public static func make(shape: [Int], zooms: [Double]? = nil, affine: Affine = .identity,
                            datatype: NIfTIDataType = .float32, code: Int32 = 2,
                            repetitionTime: Double? = nil) -> NIfTIHeader {
        var header = NIfTIHeader()
        header.dim = [Int64(shape.count)] + shape.map(Int64.init) + [Int64](repeating: 1, count: 7 - shape.count)
        header.datatype = datatype
        header.setAffine(affine, code: code)
        if let zooms {
            for (axis, zoom) in zooms.enumerated() where axis < 7 { header.pixdim[axis + 1] = zoom }
        }
        if let repetitionTime, shape.count >= 4 { header.pixdim[4] = repetitionTime }
        header.xyztUnits = SpatialUnit.millimeter.rawValue | TemporalUnit.second.rawValue
        return header
    }

    /// Stores `affine` as the sform and, as far as a rigid rotation with voxel sizes can,
    /// as the qform; sets `pixdim[0...3]` to the qform's qfac and voxel sizes.
    public mutating func setAffine(_ affine: Affine, code: Int32 = 2) {
        srow = Array(affine.rows.prefix(3))
        let q = affine.quaternion()
        quaternB = q.b; quaternC = q.c; quaternD = q.d
        qoffset = [q.offset.0, q.offset.1, q.offset.2]
        pixdim[0] = q.qfac == 0 ? 1 : q.qfac
        pixdim[1] = q.pixdim.0; pixdim[2] = q.pixdim.1; pixdim[3] = q.pixdim.2
        sformCode = code
        qformCode = code
    }
}

/// Writes single-file NIfTI images (`.nii` or `.nii.gz`, chosen by the file name).
///
/// NIfTI-1 unless a dimension exceeds 32767 (then NIfTI-2). The file appears atomically:
/// data goes to a temporary file in the same directory that is renamed over `path` only
/// when complete, so a reader never sees a partial image.
public enum NIfTIWriter {
    /// Writes `values` (NIfTI order, `header.voxelCount` of them) stored as `header.datatype`.
    ///
    /// - Parameters:
    ///   - scaling: for integer datatypes, stored = round((value - intercept) / slope) and the
    ///     header records slope and intercept; nil stores values directly (no scaling).
    ///   - gzipLevel: zlib level for `.gz` output (1 is nibabel's default).
    ///   - forceVersion: 1 or 2 to pick the header version; NIfTI-2 is used when required anyway.
    ///   - extensions: header extensions (code, content) written between the header and the
    ///     data, each padded with zeros to a multiple of 16 bytes as the standard asks (CIFTI's
    ///     XML is code 32).
    /// - Throws: `NIfTIError` when the values do not fit the datatype or the file cannot be written.
    public static func write<Value: VoxelScalar>(
        _ values: UnsafeBufferPointer<Value>, header template: NIfTIHeader, to path: String,
        scaling: (slope: Double, intercept: Double)? = nil, gzipLevel: Int32 = 1, forceVersion: Int? = nil,
        extensions: [(code: Int32, content: [UInt8])] = []
    ) throws {
        var header = template
        guard header.datatype.isSupported else {
            throw NIfTIError(.invalidArgument, path: path, field: "datatype", "\(header.datatype.name) cannot be written; use a real-valued type")
        }
        guard values.count == header.voxelCount else {
            throw NIfTIError(.invalidArgument, path: path, field: "dim",
                             "the header's shape \(header.shape) has \(header.voxelCount) voxels but \(values.count) values were given")
        }
        let needsVersion2 = header.dim.contains { $0 > Int64(Int16.max) }
        header.version = needsVersion2 ? 2 : (forceVersion ?? (header.version == 2 ? 2 : 1))
        header.isPair = false
        header.isBigEndian = false
        var extensionBytes: [UInt8] = []
        for (code, content) in extensions {
            // esize counts its own 8 bytes and is a multiple of 16.
            let size = (content.count + 8 + 15) / 16 * 16
            for value in [Int32(size), code] { withUnsafeBytes(of: value.littleEndian) { extensionBytes += $0 } }
            extensionBytes += content + [UInt8](repeating: 0, count: size - 8 - content.count)
        }
        header.voxOffset = Int64(header.headerSize + 4 + extensionBytes.count)
        header.bitpix = Int16(header.datatype.byteSize * 8)
        if let scaling, header.datatype.isInteger {
            guard scaling.slope != 0, scaling.slope.isFinite, scaling.intercept.isFinite else {
                throw NIfTIError(.invalidArgument, path: path, field: "scl_slope", "slope must be finite and non-zero")
            }
            header.sclSlope = scaling.slope
            header.sclInter = scaling.intercept
        } else {
            header.sclSlope = 0  // "no scaling" by the standard
            header.sclInter = 0
        }

        let output = try AtomicFile(path: path, gzipLevel: path.lowercased().hasSuffix(".gz") ? gzipLevel : nil)
        do {
            // The extender: byte 0 says whether extensions follow.
            try output.write(header.encoded() + [extensions.isEmpty ? 0 : 1, 0, 0, 0] + extensionBytes)
            try encodeVoxels(values, as: header.datatype, scaling: header.datatype.isInteger ? scaling : nil, path: path) { try output.write($0) }
            try output.commit()
        } catch {
            output.abandon()
            throw error
        }
    }

    /// Convenience for arrays.
    public static func write<Value: VoxelScalar>(
        _ values: [Value], header: NIfTIHeader, to path: String,
        scaling: (slope: Double, intercept: Double)? = nil, gzipLevel: Int32 = 1, forceVersion: Int? = nil,
        extensions: [(code: Int32, content: [UInt8])] = []
    ) throws {
        try values.withUnsafeBufferPointer {
            try write($0, header: header, to: path, scaling: scaling, gzipLevel: gzipLevel, forceVersion: forceVersion, extensions: extensions)
        }
    }

    /// Converts values to little-endian bytes of `datatype`, a chunk at a time. Specialised for
    /// Float and Double: the generic element conversion took a fifth of the demo's time.
    @_specialize(where Value == Float)
    @_specialize(where Value == Double)
    private static func encodeVoxels<Value: VoxelScalar>(
        _ values: UnsafeBufferPointer<Value>, as datatype: NIfTIDataType,
        scaling: (slope: Double, intercept: Double)?, path: String, sink: (UnsafeRawBufferPointer) throws -> Void
    ) throws {
        let size = datatype.byteSize
        let chunkVoxels = max(1, (1 << 20) / size)
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkVoxels * size, alignment: 64)
        defer { chunk.deallocate() }
        var start = 0
        while start < values.count {
            let count = min(chunkVoxels, values.count - start)
            for index in 0..<count {
                let value = Double(values[start + index])
                let offset = index * size
                switch datatype {
                case .float32: chunk.storeBytes(of: Float(value).bitPattern.littleEndian, toByteOffset: offset, as: UInt32.self)
                case .float64: chunk.storeBytes(of: value.bitPattern.littleEndian, toByteOffset: offset, as: UInt64.self)
                default:
                    let stored = (scaling.map { (value - $0.intercept) / $0.slope } ?? value).rounded()
                    guard stored.isFinite, let range = datatype.integerRange, range.contains(stored) else {
                        throw NIfTIError(.invalidArgument, path: path, field: "datatype",
                                         "value \(value) at voxel \(start + index) does not fit \(datatype.name); write float32 or a wider integer type")
                    }
                    switch datatype {
                    case .uint8: chunk.storeBytes(of: UInt8(stored), toByteOffset: offset, as: UInt8.self)
                    case .int8: chunk.storeBytes(of: Int8(stored), toByteOffset: offset, as: Int8.self)
                    case .int16: chunk.storeBytes(of: Int16(stored).littleEndian, toByteOffset: offset, as: Int16.self)
                    case .uint16: chunk.storeBytes(of: UInt16(stored).littleEndian, toByteOffset: offset, as: UInt16.self)
                    case .int32: chunk.storeBytes(of: Int32(stored).littleEndian, toByteOffset: offset, as: Int32.self)
                    case .uint32: chunk.storeBytes(of: UInt32(stored).littleEndian, toByteOffset: offset, as: UInt32.self)
                    case .int64: chunk.storeBytes(of: Int64(stored).littleEndian, toByteOffset: offset, as: Int64.self)
                    case .uint64: chunk.storeBytes(of: UInt64(stored).littleEndian, toByteOffset: offset, as: UInt64.self)
                    default: preconditionFailure("floating and unsupported types are handled above")
                    }
                }
            }
            try sink(UnsafeRawBufferPointer(rebasing: chunk[0..<(count * size)]))
            start += count
        }
    }
}

/// A file written under a temporary name in its target directory and renamed into place on
/// `commit()`, so readers never see a partial file; dropping it uncommitted removes the
/// temporary. With a gzip level, bytes are deflated (gzip wrapper) on the way.
public final class AtomicFile {
    public let path: String
    private let temporaryPath: String
    private let descriptor: Int32
    private var deflater: UnsafeMutablePointer<z_stream>?
    private let outputBuffer: UnsafeMutableRawBufferPointer
    private var done = false

    public init(path: String, gzipLevel: Int32? = nil) throws {
        self.path = path
        let slash = path.lastIndex(of: "/")
        let directory = slash.map { String(path[..<$0]) } ?? "."
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        temporaryPath = (directory.isEmpty ? "" : directory + "/") + ".\(name).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        descriptor = open(temporaryPath, O_WRONLY | O_CREAT | O_EXCL, 0o644)
        guard descriptor >= 0 else {
            throw NIfTIError(.writeFailed, path: path, "cannot create a file in \(directory): \(String(cString: strerror(errno))); check that the directory exists and is writable")
        }
        outputBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 64)
        if let gzipLevel {
            let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
            stream.initialize(to: z_stream())
            // windowBits 15 + 16: a gzip wrapper.
            let status = deflateInit2_(stream, gzipLevel, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY,
                                       ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
            guard status == Z_OK else {
                stream.deallocate()
                close(descriptor); unlink(temporaryPath)
                outputBuffer.deallocate()
                throw NIfTIError(.writeFailed, path: path, "zlib could not start compressing (level \(gzipLevel), status \(status))")
            }
            deflater = stream
        }
    }

    deinit {
        if !done { abandon() }
        outputBuffer.deallocate()
        if let deflater { deflateEnd(deflater); deflater.deallocate() }
    }

    public func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write($0) }
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard let deflater else { return try writeRaw(bytes) }
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        deflater.pointee.next_in = UnsafeMutablePointer(mutating: base.assumingMemoryBound(to: UInt8.self))
        deflater.pointee.avail_in = UInt32(bytes.count)
        try pump(flush: Z_NO_FLUSH)
    }

    private func pump(flush: Int32) throws {
        guard let deflater, let out = outputBuffer.baseAddress else { return }
        while true {
            deflater.pointee.next_out = out.assumingMemoryBound(to: UInt8.self)
            deflater.pointee.avail_out = UInt32(outputBuffer.count)
            let status = deflate(deflater, flush)
            guard status == Z_OK || status == Z_STREAM_END || status == Z_BUF_ERROR else {
                throw NIfTIError(.writeFailed, path: path, "zlib compression failed (status \(status))")
            }
            let produced = outputBuffer.count - Int(deflater.pointee.avail_out)
            try writeRaw(UnsafeRawBufferPointer(rebasing: outputBuffer[0..<produced]))
            if flush == Z_FINISH ? status == Z_STREAM_END : deflater.pointee.avail_in == 0 && deflater.pointee.avail_out > 0 {
                return
            }
        }
    }

    private func writeRaw(_ bytes: UnsafeRawBufferPointer) throws {
        guard let base = bytes.baseAddress else { return }
        var written = 0
        while written < bytes.count {
            let result = Glibc.write(descriptor, base + written, bytes.count - written)
            if result < 0 {
                if errno == EINTR { continue }
                throw NIfTIError(.writeFailed, path: path, "write failed: \(String(cString: strerror(errno))) (disk full?)")
            }
            written += result
        }
    }

    /// Finishes the stream, flushes to disk and renames the file into place.
    public func commit() throws {
        if deflater != nil { try pump(flush: Z_FINISH) }
        guard fsync(descriptor) == 0, close(descriptor) == 0 else {
            throw NIfTIError(.writeFailed, path: path, "could not flush the file: \(String(cString: strerror(errno)))")
        }
        guard rename(temporaryPath, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporaryPath)
            done = true
            throw NIfTIError(.writeFailed, path: path, "could not move the finished file into place: \(reason)")
        }
        done = true
    }

    /// Removes the temporary file; `path` is left as it was.
    public func abandon() {
        guard !done else { return }
        done = true
        close(descriptor)
        unlink(temporaryPath)
    }
}
