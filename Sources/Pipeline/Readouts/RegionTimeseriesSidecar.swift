import Foundation

/// The JSON sidecar of a region-timeseries derivative (`..._timeseries.json`, written by the
/// BIDS App's participant level): what the data summary and the methods text read.
public struct RegionTimeseriesSidecar: Sendable {
    public var repetitionTime: Double
    /// Volumes of the original run that were kept (0-based).
    public var keptVolumes: [Int]
    public var confoundsRegressed: [String]
    /// The extraction and cleaning settings, by key (`Atlas`, `Detrend`, `HighPass`, ...).
    public var settings: JSONValue

    /// Reads the sidecar at `path`.
    public static func read(contentsOf path: String) throws -> RegionTimeseriesSidecar {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw PipelineError("\(path) is missing; rerun the participant level for this subject", kind: .input)
        }
        let object = try? JSONValue(parsing: data)
        let tr: Double?
        switch object?["RepetitionTime"] {
        case .number(let value)?: tr = value
        case .integer(let value)?: tr = Double(value)
        default: tr = nil
        }
        guard let object, let tr, tr > 0 else {
            throw PipelineError("\(path) has no RepetitionTime; rerun the participant level with `force`", kind: .input)
        }
        func integers(_ value: JSONValue?) -> [Int] {
            guard case .array(let values)? = value else { return [] }
            return values.compactMap { if case .integer(let v) = $0 { return v }; return nil }
        }
        func strings(_ value: JSONValue?) -> [String] {
            guard case .array(let values)? = value else { return [] }
            return values.compactMap { if case .string(let v) = $0 { return v }; return nil }
        }
        return RegionTimeseriesSidecar(repetitionTime: tr, keptVolumes: integers(object["KeptVolumes"]),
                                       confoundsRegressed: strings(object["ConfoundsRegressed"]), settings: object["Settings"] ?? .object([]))
    }

    /// The sidecar's `RepetitionTime`, or 1 / `SamplingFrequency` (BEP012 timeseries carry
    /// either), when the file at `path` exists and has a positive one; nil otherwise.
    public static func repetitionTime(atPath path: String) -> Double? {
        guard let data = FileManager.default.contents(atPath: path), let object = try? JSONValue(parsing: data) else { return nil }
        func positive(_ value: JSONValue?) -> Double? {
            let number: Double?
            switch value {
            case .number(let v)?: number = v
            case .integer(let v)?: number = Double(v)
            default: number = nil
            }
            return number.flatMap { $0.isFinite && $0 > 0 ? $0 : nil }
        }
        if let tr = positive(object["RepetitionTime"]) { return tr }
        return positive(object["SamplingFrequency"]).map { 1 / $0 }
    }

    /// The settings as (key, displayed value), sorted by key.
    public var displayedSettings: [(String, String)] {
        guard case .object(let members) = settings else { return [] }
        return members.sorted { $0.0 < $1.0 }.map { ($0.0, $0.1.display) }
    }
}
