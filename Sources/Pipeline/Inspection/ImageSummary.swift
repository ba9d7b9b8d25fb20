import Foundation
import NIfTI

/// What `fmridyn info` prints about an image: a summary for people and one JSON object for
/// scripts (keys documented in docs/nifti.md), for NIfTI-1/2, CIFTI-2 and GIfTI files.
public struct ImageSummary {
    /// The summary lines, joined by newlines.
    public let text: String
    /// The JSON object (`rendered()` gives the file form).
    public let json: JSONValue
    /// Header problems worth a warning (an implausible repetition time).
    public let warnings: [String]

    /// Reads `path` (every voxel, one volume at a time, with `statistics`).
    public init(path: String, statistics: Bool) throws {
        if GIfTIImage.isGIfTI(path) {
            let gifti = try GIfTIImage(contentsOf: path)
            (text, json, warnings) = (Self.giftiText(gifti), Self.giftiJSON(gifti), [])
            return
        }
        let image = try NIfTIImage(contentsOf: path)
        let values = statistics ? try VoxelStatistics(image: image) : nil
        warnings = image.header.repetitionTimeWarning.map { ["\(path): \($0)"] } ?? []
        var summary = Self.niftiJSON(image, values)
        guard CIFTIImage.isCIFTI(path) else {
            (text, json) = (Self.niftiText(image, values), summary)
            return
        }
        let cifti = try CIFTIImage(contentsOf: path)
        if case .object(var members) = summary {
            if let index = members.firstIndex(where: { $0.0 == "tr_seconds" }) { members[index].1 = cifti.repetitionTime.map { .number($0) } ?? .null }
            members.append(("cifti", Self.ciftiJSON(cifti)))
            summary = .object(members)
        }
        json = summary
        var lines = Self.ciftiText(cifti)
        if let values { lines += "\n" + String(format: "values: min %.6g, max %.6g, mean %.6g", values.minimum, values.maximum, values.mean) }
        text = lines
    }

    /// GIfTI: vertices, data arrays (time points of a functional file), TR, intents, labels.
    static func giftiJSON(_ gifti: GIfTIImage) -> JSONValue {
        let intents = Array(Set(gifti.arrays.map(\.intent))).sorted()
        return .object([
            ("format", .string("gifti")), ("vertices", .integer(gifti.vertexCount)), ("data_arrays", .integer(gifti.arrays.count)),
            ("intents", .array(intents.map { .string($0) })), ("tr_seconds", gifti.repetitionTime.map { .number($0) } ?? .null),
            ("labels", .object(gifti.labelTable.keys.sorted().map { (String($0), .string(gifti.labelTable[$0] ?? "")) })),
        ])
    }

    static func giftiText(_ gifti: GIfTIImage) -> String {
        let intents = Array(Set(gifti.arrays.map(\.intent))).sorted()
        var lines = ["\(gifti.path)", "  GIfTI, \(gifti.vertexCount) vertices, \(gifti.arrays.count) data arrays (\(intents.joined(separator: ", ")))"]
        if let tr = gifti.repetitionTime { lines.append("  \(gifti.arrays.count) time points, TR \(String(format: "%.6g", tr)) s") }
        if !gifti.labelTable.isEmpty { lines.append("  \(gifti.labelTable.count) labels: " + gifti.labelTable.keys.sorted().prefix(8).map { gifti.labelTable[$0] ?? "" }.joined(separator: ", ")) }
        return lines.joined(separator: "\n")
    }

    static func ciftiJSON(_ cifti: CIFTIImage) -> JSONValue {
        let models = cifti.brainModelMap?.brainModels ?? []
        return .object([
            ("rows", .integer(cifti.rows)), ("columns", .integer(cifti.columns)),
            ("dimension0", .string(cifti.map(for: 0)?.kind.rawValue ?? "")),
            ("brain_models", .array(models.map { .object([("structure", .string($0.structure)), ("type", .string($0.kind.rawValue)),
                                                          ("offset", .integer($0.offset)), ("count", .integer($0.count))]) })),
            ("series_step_seconds", cifti.repetitionTime.map { .number($0) } ?? .null),
            ("map_names", .array((cifti.map(for: 0)?.mapNames ?? []).map { .string($0) })),
        ])
    }

    static func ciftiText(_ cifti: CIFTIImage) -> String {
        let models = cifti.brainModelMap?.brainModels ?? []
        let surface = models.filter { $0.kind == .surface }.reduce(0) { $0 + $1.count }, volume = models.filter { $0.kind == .voxels }.reduce(0) { $0 + $1.count }
        var lines = ["\(cifti.path)", "  CIFTI-2 (NIfTI-2 header), \(cifti.map(for: 0)?.kind.rawValue ?? "?") x brain models"]
        if let step = cifti.repetitionTime {
            lines.append("  \(cifti.columns) grayordinates x \(cifti.rows) time points, TR \(String(format: "%.6g", step)) s")
        } else {
            lines.append("  \(cifti.columns) grayordinates x \(cifti.rows) maps\((cifti.map(for: 0)?.mapNames).map { $0.isEmpty ? "" : ": " + $0.joined(separator: ", ") } ?? "")")
        }
        lines.append("  \(surface) surface vertices, \(volume) voxels in \(models.count) brain models:")
        for model in models {
            lines.append("    \(model.structure): \(model.count) \(model.kind == .surface ? "vertices of \(model.surfaceVertices ?? 0)" : "voxels") from \(model.offset)")
        }
        return lines.joined(separator: "\n")
    }

    static func niftiJSON(_ image: NIfTIImage, _ statistics: VoxelStatistics?) -> JSONValue {
        let header = image.header
        var members: [(String, JSONValue)] = [
            ("nifti_version", .integer(header.version)),
            ("shape", .integers(header.shape)),
            ("zooms", .numbers(header.zooms)),
            ("datatype_code", .integer(Int(header.datatype.rawValue))),
            ("datatype", .string(header.datatype.name)),
            ("scl_slope", header.scaling.map { .number($0.slope) } ?? .null),
            ("scl_inter", header.scaling.map { .number($0.intercept) } ?? .null),
            ("qform_code", .integer(Int(header.qformCode))),
            ("sform_code", .integer(Int(header.sformCode))),
            ("affine", .array(header.affine.rows.map { .numbers($0) })),
            ("tr_seconds", header.repetitionTime.map { .number($0) } ?? .null),
            ("xyzt_units", .array([.string(header.spatialUnit.name), .string(header.temporalUnit.name)])),
        ]
        if let statistics {
            members.append(("stats", .object([
                ("min", .number(statistics.minimum)), ("max", .number(statistics.maximum)),
                ("mean", .number(statistics.mean)), ("sum", .number(statistics.sum)),
                ("non_finite", .integer(statistics.nonFiniteCount)),
            ])))
        }
        return .object(members)
    }

    static func niftiText(_ image: NIfTIImage, _ statistics: VoxelStatistics?) -> String {
        let header = image.header
        func number(_ value: Double) -> String { String(format: "%.6g", value) }
        var lines: [String] = []
        let storage = image.path == image.dataPath ? "single file" : "pair with \(image.dataPath)"
        lines.append("\(image.path)")
        lines.append("  format      NIfTI-\(header.version), \(storage)\(image.isCompressed ? ", gzip" : ""), \(header.isBigEndian ? "big" : "little")-endian")
        lines.append("  shape       \(header.shape.map(String.init).joined(separator: " x "))  (\(header.voxelsPerVolume) voxels x \(header.volumeCount) volume\(header.volumeCount == 1 ? "" : "s"))")
        lines.append("  datatype    \(header.datatype.name) (code \(header.datatype.rawValue))")
        let spatial = header.zooms.prefix(3).map(number).joined(separator: " x ")
        lines.append("  voxel size  \(spatial) \(header.spatialUnit.name)")
        if let tr = header.repetitionTime {
            lines.append("  TR          \(number(tr)) s (pixdim[4] = \(number(header.pixdim[4])) \(header.temporalUnit.name))")
        }
        if let scaling = header.scaling {
            lines.append("  scaling     value * \(number(scaling.slope)) + \(number(scaling.intercept))")
        } else {
            lines.append("  scaling     none")
        }
        lines.append("  codes       qform \(header.qformCode) (\(Self.xformName(header.qformCode))), sform \(header.sformCode) (\(Self.xformName(header.sformCode)))")
        lines.append("  affine      from \(header.affineSource)")
        for row in header.affine.rows {
            lines.append("              " + row.map { String(format: "%10.4f", $0) }.joined(separator: " "))
        }
        if !header.description.isEmpty { lines.append("  description \(header.description)") }
        if let statistics {
            lines.append("  values      min \(number(statistics.minimum)), max \(number(statistics.maximum)), mean \(number(statistics.mean)), sum \(number(statistics.sum))")
            if statistics.nonFiniteCount > 0 { lines.append("              \(statistics.nonFiniteCount) non-finite voxels excluded") }
        }
        return lines.joined(separator: "\n")
    }

    /// The NIfTI standard's name of a qform/sform code.
    public static func xformName(_ code: Int32) -> String {
        switch code {
        case 0: return "unknown"
        case 1: return "scanner"
        case 2: return "aligned"
        case 3: return "talairach"
        case 4: return "mni"
        case 5: return "template"
        default: return "invalid"
        }
    }
}
