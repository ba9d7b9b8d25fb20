/// NIfTI datatype codes (nifti1.h `NIFTI_TYPE_*`), with their sizes and names.
public enum NIfTIDataType: Int16, CaseIterable, Sendable {
    case uint8 = 2
    case int16 = 4
    case int32 = 8
    case float32 = 16
    case complex64 = 32
    case float64 = 64
    case rgb24 = 128
    case int8 = 256
    case uint16 = 512
    case uint32 = 768
    case int64 = 1024
    case uint64 = 1280
    case float128 = 1536
    case complex128 = 1792
    case complex256 = 2048
    case rgba32 = 2304

    /// Bytes per voxel on disk.
    public var byteSize: Int {
        switch self {
        case .uint8, .int8: return 1
        case .int16, .uint16: return 2
        case .int32, .uint32, .float32, .rgba32: return 4
        case .rgb24: return 3
        case .float64, .int64, .uint64, .complex64: return 8
        case .float128, .complex128: return 16
        case .complex256: return 32
        }
    }

    /// The name used in `fmridyn info` (numpy's spelling for the real types).
    public var name: String {
        switch self {
        case .uint8: return "uint8"
        case .int16: return "int16"
        case .int32: return "int32"
        case .float32: return "float32"
        case .complex64: return "complex64"
        case .float64: return "float64"
        case .rgb24: return "rgb24"
        case .int8: return "int8"
        case .uint16: return "uint16"
        case .uint32: return "uint32"
        case .int64: return "int64"
        case .uint64: return "uint64"
        case .float128: return "float128"
        case .complex128: return "complex128"
        case .complex256: return "complex256"
        case .rgba32: return "rgba32"
        }
    }

    /// Whether fmridyn converts this type to real numbers. Complex, RGB and 128-bit floats
    /// have no single real value per voxel (or no portable Swift type) and are refused.
    public var isSupported: Bool {
        switch self {
        case .complex64, .complex128, .complex256, .rgb24, .rgba32, .float128: return false
        default: return true
        }
    }

    /// Integer types, whose values a writer must round and range-check.
    public var isInteger: Bool {
        switch self {
        case .uint8, .int8, .int16, .uint16, .int32, .uint32, .int64, .uint64: return true
        default: return false
        }
    }

    /// The exact range of an integer type, as Doubles (nil for floating types).
    public var integerRange: ClosedRange<Double>? {
        switch self {
        case .uint8: return 0...255
        case .int8: return -128...127
        case .int16: return -32768...32767
        case .uint16: return 0...65535
        case .int32: return -2_147_483_648...2_147_483_647
        case .uint32: return 0...4_294_967_295
        case .int64: return -9_223_372_036_854_775_808...9_223_372_036_854_774_784
        case .uint64: return 0...18_446_744_073_709_549_568
        default: return nil
        }
    }

    /// Parses the user-facing name (as printed by `name`).
    public init?(name: String) {
        guard let match = NIfTIDataType.allCases.first(where: { $0.name == name.lowercased() }) else { return nil }
        self = match
    }
}
