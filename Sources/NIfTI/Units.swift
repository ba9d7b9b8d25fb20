/// Spatial and temporal units of `xyzt_units` (nifti1.h `NIFTI_UNITS_*`).
public enum SpatialUnit: Int32, Sendable {
    case unknown = 0, meter = 1, millimeter = 2, micron = 3

    /// nibabel's names: "unknown", "meter", "mm", "micron".
    public var name: String {
        switch self {
        case .unknown: return "unknown"
        case .meter: return "meter"
        case .millimeter: return "mm"
        case .micron: return "micron"
        }
    }
}

public enum TemporalUnit: Int32, Sendable {
    case unknown = 0, second = 8, millisecond = 16, microsecond = 24, hertz = 32, ppm = 40, radiansPerSecond = 48

    /// nibabel's names: "unknown", "sec", "msec", "usec", "hz", "ppm", "rads".
    public var name: String {
        switch self {
        case .unknown: return "unknown"
        case .second: return "sec"
        case .millisecond: return "msec"
        case .microsecond: return "usec"
        case .hertz: return "hz"
        case .ppm: return "ppm"
        case .radiansPerSecond: return "rads"
        }
    }

    /// Factor that converts a value in this unit to seconds, for the time units.
    public var secondsPerUnit: Double? {
        switch self {
        case .second: return 1
        case .millisecond: return 1e-3
        case .microsecond: return 1e-6
        default: return nil
        }
    }
}

extension SpatialUnit {
    /// Decodes the low three bits of `xyzt_units`; unknown bit patterns read as `.unknown`.
    public init(xyztUnits: Int32) { self = SpatialUnit(rawValue: xyztUnits & 0x07) ?? .unknown }
}

extension TemporalUnit {
    /// Decodes bits 3-5 of `xyzt_units`; unknown bit patterns read as `.unknown`.
    public init(xyztUnits: Int32) { self = TemporalUnit(rawValue: xyztUnits & 0x38) ?? .unknown }
}
