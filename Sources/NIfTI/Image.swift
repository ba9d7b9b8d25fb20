#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A NIfTI image on disk: its validated header and where its voxels are.
///
/// Opening reads only the header; voxels are read on demand, all at once (`readAll`) or a
/// few volumes at a time (`volumeStream`), so a 1 GB run never needs to be held twice.
/// Voxels are in NIfTI (Fortran) order: `x + nx * (y + ny * (z + nz * t))`.
public struct NIfTIImage: Sendable {
    /// The file the header was read from (`.nii`, `.nii.gz`, `.hdr` or `.hdr.gz`).
    public let path: String
    /// The file holding the voxels: `path` for single files, the `.img` for pairs.
    public let dataPath: String
    public let header: NIfTIHeader
    /// Whether the voxel file is gzip-compressed.
    public let isCompressed: Bool
    /// Inflate library for compressed files.
    public var inflateBackend: InflateBackend

    public var shape: [Int] { header.shape }
    public var affine: Affine { header.affine }

    /// Reads and validates the header of `path`.
    ///
    /// Accepts `.nii`, `.nii.gz`, and `.hdr`/`.img` pairs (given either name, either gzipped).
    /// Checks that the data the header declares fits in the file before anything is allocated.
    public init(contentsOf path: String, inflateBackend: InflateBackend = .isal) throws {
        let (headerPath, dataPath) = try Self.resolvePair(path)
        self.path = headerPath
        self.dataPath = dataPath
        self.inflateBackend = inflateBackend

        let source = try openByteSource(headerPath, backend: inflateBackend)
        var bytes = [UInt8](repeating: 0, count: 540)
        let count = try bytes.withUnsafeMutableBytes { try source.read(into: $0) }
        let header = try NIfTIHeader.parse(Array(bytes[0..<count]), path: headerPath)
        self.header = header

        let isPairFile = headerPath != dataPath
        if header.isPair != isPairFile {
            throw NIfTIError(.mismatchedPair, path: headerPath, field: "magic",
                             header.isPair
                                ? "says this is the header of a .hdr/.img pair, but the file is a single .nii; rename it to .hdr and provide the .img"
                                : "says this is a single-file NIfTI (n+\(header.version)), but it was opened as a .hdr/.img pair; rename it to .nii")
        }
        guard header.datatype.isSupported else {
            throw NIfTIError(.unsupportedDatatype, path: headerPath, field: "datatype",
                             "\(header.datatype.name) (code \(header.datatype.rawValue)) is an unsupported datatype; fmridyn reads real-valued images (integers, float32, float64). Convert the image, e.g. take its magnitude.")
        }
        for (index, value) in header.affine.elements.enumerated() where !value.isFinite {
            let row = index / 4
            let field = header.affineSource == "sform" ? "srow_\(["x", "y", "z"][min(row, 2)])"
                : (header.affineSource == "qform" ? "quatern_b/c/d, qoffset or pixdim" : "pixdim")
            throw NIfTIError(.invalidAffine, path: headerPath, field: field,
                             "the \(header.affineSource) affine has a non-finite element (\(value)); fix the header's spatial transform")
        }

        isCompressed = try isGzipFile(dataPath)
        let dataSource = isPairFile ? try openByteSource(dataPath, backend: inflateBackend) : source
        let required = Int64(header.dataByteCount) + header.voxOffset
        if isCompressed {
            // Deflate cannot expand data more than 1032:1; a header promising more is corrupt
            // (or the file truncated), and allocating for it would be unsafe.
            let limit = Int64(dataSource.fileSize) * 1032 + (1 << 20)
            if required > limit {
                throw NIfTIError(.truncatedData, path: dataPath, field: "dim",
                                 "dimensions \(header.shape) of \(header.datatype.name) need \(required) bytes, but a \(dataSource.fileSize)-byte gzip file can hold at most \(limit); the header is corrupt or the file truncated")
            }
        } else if required > Int64(dataSource.fileSize) {
            throw NIfTIError(.truncatedData, path: dataPath, field: "dim",
                             "dimensions \(header.shape) of \(header.datatype.name) at vox_offset \(header.voxOffset) need \(required) bytes, but the file has \(dataSource.fileSize); the file is truncated or the header wrong")
        }
    }

    /// Reads every voxel, scaled, as Float32 (or Float64).
    public func readAll<Output: VoxelScalar>(as type: Output.Type = Float.self) throws -> [Output] {
        let stream = try volumeStream()
        let count = header.voxelCount
        return try [Output](unsafeUninitializedCapacity: count) { buffer, initialized in
            LargeBuffers.adviseHugePages(UnsafeMutableRawBufferPointer(buffer))
            let volumes = try stream.read(volumes: header.volumeCount, into: buffer)
            precondition(volumes == header.volumeCount, "the stream reports short reads by throwing")
            initialized = count
        }
    }

    /// A reader that delivers the image's volumes in order, a block at a time.
    public func volumeStream() throws -> VolumeStream {
        let source = try openByteSource(dataPath, backend: inflateBackend)
        let skipped = try source.skip(Int(header.voxOffset))
        guard skipped == Int(header.voxOffset) else {
            throw NIfTIError(.truncatedData, path: dataPath, field: "vox_offset",
                             "is \(header.voxOffset), but the file ends after \(skipped) bytes")
        }
        return VolumeStream(header: header, source: source, path: dataPath)
    }

    /// Maps a user-given name to (header file, data file).
    static func resolvePair(_ path: String) throws -> (String, String) {
        func exists(_ candidate: String) -> Bool { access(candidate, F_OK) == 0 }
        let lower = path.lowercased()
        let pairs: [(String, String)] = [(".hdr.gz", ".img.gz"), (".hdr", ".img")]
        for (headerExtension, dataExtension) in pairs {
            if lower.hasSuffix(headerExtension) {
                let stem = String(path.dropLast(headerExtension.count))
                for candidate in [stem + dataExtension, stem + dataExtension.uppercased(), stem + (dataExtension == ".img" ? ".img.gz" : ".img")] where exists(candidate) {
                    return (path, candidate)
                }
                throw NIfTIError(.mismatchedPair, path: path,
                                 "is a .hdr header, but its data file \(stem + dataExtension) does not exist; keep the .hdr and .img together")
            }
            if lower.hasSuffix(dataExtension) {
                let stem = String(path.dropLast(dataExtension.count))
                for candidate in [stem + headerExtension, stem + (headerExtension == ".hdr" ? ".hdr.gz" : ".hdr")] where exists(candidate) {
                    return (candidate, path)
                }
                throw NIfTIError(.mismatchedPair, path: path,
                                 "is .img data, but its header \(stem + headerExtension) does not exist; keep the .hdr and .img together")
            }
        }
        return (path, path)
    }
}
