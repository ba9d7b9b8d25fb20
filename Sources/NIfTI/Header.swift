/// A NIfTI-1 or NIfTI-2 header, with every field widened to the NIfTI-2 types.
///
/// Parsing validates everything later code would trust (dimensions, datatype, offsets);
/// fields that only describe the data (descriptions, intents, calibration) are kept as read.
public struct NIfTIHeader: Equatable, Sendable {
    public var version: Int = 1
    /// Whether the file stores multi-byte values big-endian.
    public var isBigEndian = false
    /// `dim[0..7]`: `dim[0]` is the number of dimensions.
    public var dim: [Int64] = [3, 1, 1, 1, 1, 1, 1, 1]
    public var pixdim: [Double] = [1, 1, 1, 1, 1, 1, 1, 1]
    public var datatype: NIfTIDataType = .float32
    public var bitpix: Int16 = 32
    public var voxOffset: Int64 = 352
    public var sclSlope: Double = 0
    public var sclInter: Double = 0
    public var calMax: Double = 0
    public var calMin: Double = 0
    public var sliceDuration: Double = 0
    public var toffset: Double = 0
    public var sliceStart: Int64 = 0
    public var sliceEnd: Int64 = 0
    public var sliceCode: Int32 = 0
    public var dimInfo: UInt8 = 0
    public var xyztUnits: Int32 = 0
    public var intentCode: Int32 = 0
    public var intentParameters: [Double] = [0, 0, 0]
    public var intentName = ""
    public var description = ""
    public var auxFile = ""
    public var qformCode: Int32 = 0
    public var sformCode: Int32 = 0
    public var quaternB: Double = 0
    public var quaternC: Double = 0
    public var quaternD: Double = 0
    public var qoffset: [Double] = [0, 0, 0]
    /// `srow_x`, `srow_y`, `srow_z`: the first three rows of the sform affine.
    public var srow: [[Double]] = [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]]
    /// True for `.hdr/.img` pairs (magic `ni1`/`ni2`), false for single `.nii` files.
    public var isPair = false

    public init() {}

    /// Number of dimensions (`dim[0]`).
    public var rank: Int { Int(dim[0]) }

    /// `dim[1...dim[0]]`, as nibabel's `shape`.
    public var shape: [Int] { (1...max(1, rank)).map { Int(dim[$0]) } }

    /// `pixdim[1...dim[0]]`, as nibabel's `get_zooms()`.
    public var zooms: [Double] { (1...max(1, rank)).map { pixdim[$0] } }

    /// Voxels per 3-D volume (`dim[1] * dim[2] * dim[3]`, missing dimensions count as 1).
    public var voxelsPerVolume: Int { (1...3).reduce(1) { $0 * ($1 <= rank ? Int(dim[$1]) : 1) } }

    /// Number of 3-D volumes: the product of `dim[4...]` (1 for a 3-D image).
    public var volumeCount: Int { rank <= 3 ? 1 : (4...rank).reduce(1) { $0 * Int(dim[$1]) } }

    public var voxelCount: Int { voxelsPerVolume * volumeCount }

    public var spatialUnit: SpatialUnit { SpatialUnit(xyztUnits: xyztUnits) }
    public var temporalUnit: TemporalUnit { TemporalUnit(xyztUnits: xyztUnits) }

    /// The (slope, intercept) that apply to the stored values, or nil when the header asks
    /// for none: a slope of 0 or a non-finite slope or intercept means "no scaling" (NIfTI-1
    /// standard), and slope 1 with intercept 0 is the identity.
    public var scaling: (slope: Double, intercept: Double)? {
        guard sclSlope != 0, sclSlope.isFinite, sclInter.isFinite else { return nil }
        if sclSlope == 1 && sclInter == 0 { return nil }
        return (sclSlope, sclInter)
    }

    /// The sform affine as stored in `srow_*`.
    public var sform: Affine { Affine(rows: srow + [[0, 0, 0, 1]]) }

    /// The qform affine from the quaternion, offsets and `pixdim[1...3]` (`pixdim[0]` = qfac).
    public var qform: Affine {
        Affine.fromQuaternion(b: quaternB, c: quaternC, d: quaternD,
                              offset: (qoffset[0], qoffset[1], qoffset[2]),
                              pixdim: (pixdim[1], pixdim[2], pixdim[3]), qfac: pixdim[0])
    }

    /// The affine nibabel chooses: sform when `sform_code > 0`, else qform when
    /// `qform_code > 0`, else the pixdim-scaled base affine.
    public var affine: Affine {
        if sformCode > 0 { return sform }
        if qformCode > 0 { return qform }
        return Affine.base(shape: shape, zooms: zooms)
    }

    /// Which of the three rules `affine` used.
    public var affineSource: String {
        sformCode > 0 ? "sform" : (qformCode > 0 ? "qform" : "pixdim")
    }

    /// The repetition time in seconds from `pixdim[4]` and the time unit (unknown units are
    /// read as seconds), or nil for images without a fourth dimension.
    public var repetitionTime: Double? {
        guard rank >= 4 else { return nil }
        return pixdim[4] * (temporalUnit.secondsPerUnit ?? 1)
    }

    /// A warning when the repetition time is implausible for fMRI (e.g. 2000 "seconds",
    /// a millisecond value labelled as seconds), or nil when it looks fine.
    public var repetitionTimeWarning: String? {
        guard let tr = repetitionTime, volumeCount > 1 else { return nil }
        if tr > 100 {
            let asMilliseconds = tr / 1000
            return "the repetition time reads as \(tr) s (pixdim[4] = \(pixdim[4]), xyzt_units time = \(temporalUnit.name)); "
                + "this is probably \(asMilliseconds) s stored in milliseconds with the wrong unit. Pass `repetitionTime` to override."
        }
        if tr <= 0 || !tr.isFinite {
            return "the repetition time is \(tr) s (pixdim[4] = \(pixdim[4])); pass `repetitionTime` to give the real one."
        }
        if tr < 0.05 {
            return "the repetition time reads as \(tr) s (pixdim[4] = \(pixdim[4]), xyzt_units time = \(temporalUnit.name)); "
                + "this is implausibly short for fMRI. Pass `repetitionTime` to override."
        }
        return nil
    }

    /// Header size in bytes: 348 for NIfTI-1, 540 for NIfTI-2.
    public var headerSize: Int { version == 2 ? 540 : 348 }

    /// Bytes of voxel data.
    public var dataByteCount: Int { voxelCount * datatype.byteSize }
}
