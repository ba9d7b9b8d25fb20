import Foundation
import Model

/// What `fit`, `latents`, `compare`, `fixed-points`, `robustness`, `prune` and `merge` read:
/// a BIDS (or HCP) dataset extracted on the fly, or region-timeseries files / a manifest.
public enum ModelInputs: RunSource, Sendable {
    case bids(BIDSModelInputs)
    case timeseries(RegionTimeseriesInputs)

    /// Whether `inputs` is one BIDS directory: a single directory whose name is not a TSV's,
    /// and not a manifest.
    public static func bidsRoot(of inputs: [String], manifest: Bool) -> String? {
        guard inputs.count == 1, !manifest, !inputs[0].lowercased().hasSuffix(".tsv") else { return nil }
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: inputs[0], isDirectory: &isDirectory) && isDirectory.boolValue ? inputs[0] : nil
    }

    private var source: any RunSource {
        switch self {
        case .bids(let inputs): inputs
        case .timeseries(let inputs): inputs
        }
    }

    public func runEntities(_ entity: String) throws -> [String] { try source.runEntities(entity) }

    public func forEachRun(only: Set<Int>? = nil, progress: (String) -> Void = { _ in }, _ body: (RunData) throws -> Void) throws {
        try source.forEachRun(only: only, progress: progress, body)
    }

    public func columnRuns() throws -> [(subject: String, source: String)]? { try source.columnRuns() }

    /// The dataset's root for BIDS inputs; nil for timeseries files.
    public var bidsRoot: String? {
        if case .bids(let inputs) = self { return inputs.root }
        return nil
    }

    /// Whether every voxel or grayordinate is a column (reduced by the voxel PCA).
    public var isColumnMode: Bool {
        if case .bids(let inputs) = self { return inputs.columns != .regions }
        return false
    }
}
