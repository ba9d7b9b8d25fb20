import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// One brain model of a CIFTI-2 brain-models dimension: a contiguous block of grayordinates
/// that are either vertices of one surface or voxels of one structure.
public struct CIFTIBrainModel: Sendable, Equatable {
    public enum Kind: String, Sendable {
        case surface = "CIFTI_MODEL_TYPE_SURFACE"
        case voxels = "CIFTI_MODEL_TYPE_VOXELS"
    }

    /// `CIFTI_STRUCTURE_CORTEX_LEFT`, `CIFTI_STRUCTURE_THALAMUS_LEFT`, ...
    public var structure: String
    public var kind: Kind
    /// First grayordinate of the block, and how many.
    public var offset: Int
    public var count: Int
    /// Surface models: vertices of the whole surface; and the block's vertex indices.
    public var surfaceVertices: Int?
    public var vertices: [Int] = []
    /// Voxel models: (i, j, k) of each grayordinate in the volume of the brain-models map.
    public var voxels: [[Int]] = []

    /// A key naming one grayordinate across files (structure and vertex, or structure and voxel).
    public func key(_ index: Int) -> String {
        kind == .surface ? "\(structure)|v\(vertices[index])" : "\(structure)|\(voxels[index].map(String.init).joined(separator: ","))"
    }
}

/// A CIFTI-2 matrix dimension (`MatrixIndicesMap`).
public struct CIFTIIndexMap: Sendable, Equatable {
    public enum Kind: String, Sendable {
        case series = "CIFTI_INDEX_TYPE_SERIES"
        case brainModels = "CIFTI_INDEX_TYPE_BRAIN_MODELS"
        case labels = "CIFTI_INDEX_TYPE_LABELS"
        case scalars = "CIFTI_INDEX_TYPE_SCALARS"
        case parcels = "CIFTI_INDEX_TYPE_PARCELS"
    }

    public var dimensions: [Int]
    public var kind: Kind
    // Series
    public var seriesPoints: Int?
    public var seriesStart: Double?
    public var seriesStep: Double?
    public var seriesExponent: Int = 0
    public var seriesUnit: String?
    // Brain models
    public var brainModels: [CIFTIBrainModel] = []
    public var volumeShape: [Int]?
    // Labels and scalars: one named map per row, with its label table (key -> name) for labels.
    public var mapNames: [String] = []
    public var labelTables: [[Int: String]] = []

    /// The series step in seconds (SECOND series), with the exponent applied.
    public var stepSeconds: Double? {
        guard seriesUnit == "SECOND", let seriesStep else { return nil }
        return seriesStep * Foundation.pow(10, Double(seriesExponent))
    }
}

/// A CIFTI-2 file (`.dtseries.nii`, `.dscalar.nii`, `.dlabel.nii`, ...): a NIfTI-2 header whose
/// extension (code 32) holds the CIFTI XML that says what the matrix's two dimensions index.
///
/// The matrix is rows x columns: dimension 0 (series points, scalar or label maps) by
/// dimension 1 (grayordinates). On disk it is the NIfTI image of dims (1, 1, 1, 1, rows,
/// columns), so the rows of one grayordinate are contiguous.
public struct CIFTIImage: Sendable {
    public let image: NIfTIImage
    public let maps: [CIFTIIndexMap]
    /// The extension's CIFTI XML as read (UTF-8).
    public let xml: Data
    public var path: String { image.path }

    /// The header extension code of CIFTI (NIFTI_ECODE_CIFTI).
    public static let extensionCode: Int32 = 32

    /// Whether `path` names a CIFTI file by its suffix.
    public static func isCIFTI(_ path: String) -> Bool {
        let lower = path.lowercased()
        return [".dtseries.nii", ".dscalar.nii", ".dlabel.nii", ".ptseries.nii", ".pscalar.nii", ".dconn.nii"].contains { lower.hasSuffix($0) }
    }

    public init(contentsOf path: String) throws {
        let image = try NIfTIImage(contentsOf: path)
        guard image.header.version == 2 else {
            throw NIfTIError(.notNIfTI, path: path, field: "sizeof_hdr", "is a NIfTI-1 header; CIFTI-2 files have a NIfTI-2 header (540 bytes). Is this a CIFTI file?")
        }
        let xml = try Self.ciftiExtension(of: image)
        self.image = image
        self.xml = xml
        maps = try CIFTIXML.parse(xml, path: path)
        let shape = image.header.shape
        guard shape.count >= 6 else {
            throw NIfTIError(.invalidHeader, path: path, field: "dim", "is \(shape); a CIFTI-2 matrix has dims (1, 1, 1, 1, rows, columns)")
        }
        for map in maps {
            for dimension in map.dimensions where dimension > 1 {
                throw NIfTIError(.invalidHeader, path: path, field: "CIFTI XML", "a MatrixIndicesMap applies to dimension \(dimension); fmridyn reads two-dimensional CIFTI matrices")
            }
        }
        if let models = brainModelMap {
            let total = models.brainModels.reduce(0) { $0 + $1.count }
            guard total == columns else {
                throw NIfTIError(.invalidHeader, path: path, field: "CIFTI XML", "the brain models count \(total) grayordinates but dim[6] is \(columns); the file is damaged")
            }
        }
    }

    /// Length of dimension 0 (series points, maps) and of dimension 1 (grayordinates).
    public var rows: Int { image.header.shape.count > 4 ? image.header.shape[4] : 1 }
    public var columns: Int { image.header.shape.count > 5 ? image.header.shape[5] : 1 }

    public func map(for dimension: Int) -> CIFTIIndexMap? { maps.first { $0.dimensions.contains(dimension) } }
    /// The brain-models dimension (dimension 1 of dense files).
    public var brainModelMap: CIFTIIndexMap? { maps.first { $0.kind == .brainModels } }
    /// The repetition time of a dense timeseries (the series step in seconds).
    public var repetitionTime: Double? { map(for: 0)?.stepSeconds }

    /// The brain-models `MatrixIndicesMap` element of dimension 1, as its XML text (nil when
    /// dimension 1 is not brain models): what a derived dense file (maps of the same
    /// grayordinates) copies so that it covers them exactly as this file does.
    public var brainModelsElement: String? {
        guard let text = String(data: xml, encoding: .utf8) else { return nil }
        var cursor = text.startIndex
        while let open = text.range(of: "<MatrixIndicesMap", range: cursor..<text.endIndex),
              let tagEnd = text.range(of: ">", range: open.upperBound..<text.endIndex) {
            let tag = text[open.lowerBound..<tagEnd.upperBound]
            // A self-closing map (a series map has no children) has no closing tag of its own.
            if tag.hasSuffix("/>") { cursor = tagEnd.upperBound; continue }
            guard let close = text.range(of: "</MatrixIndicesMap>", range: tagEnd.upperBound..<text.endIndex) else { return nil }
            if tag.contains("CIFTI_INDEX_TYPE_BRAIN_MODELS"), tag.contains("AppliesToMatrixDimension=\"1\"") {
                return String(text[open.lowerBound..<close.upperBound])
            }
            cursor = close.upperBound
        }
        return nil
    }

    /// Every value, grayordinate-major: `values[g * rows + r]` is row r of grayordinate g.
    public func readAll() throws -> [Float] { try image.readAll() }

    /// Reads the bytes of the CIFTI extension (code 32) between the header and the data.
    static func ciftiExtension(of image: NIfTIImage) throws -> Data {
        let header = image.header
        let source = try openByteSource(image.path, backend: image.inflateBackend)
        let start = header.headerSize + 4
        let length = Int(header.voxOffset) - start
        guard length > 8 else {
            throw NIfTIError(.invalidHeader, path: image.path, field: "vox_offset", "leaves no room for header extensions; a CIFTI file carries its XML in one")
        }
        guard try source.skip(header.headerSize) == header.headerSize else { throw NIfTIError(.truncatedData, path: image.path, "ends inside the header") }
        var bytes = [UInt8](repeating: 0, count: 4 + length)
        let read = try bytes.withUnsafeMutableBytes { try source.read(into: $0) }
        guard read == bytes.count, bytes[0] != 0 else {
            throw NIfTIError(.invalidHeader, path: image.path, field: "extension", "has no header extension; a CIFTI file carries its XML in one (code 32)")
        }
        func int32(_ at: Int) -> Int32 {
            let value = UInt32(bytes[at]) | UInt32(bytes[at + 1]) << 8 | UInt32(bytes[at + 2]) << 16 | UInt32(bytes[at + 3]) << 24
            return Int32(bitPattern: header.isBigEndian ? value.byteSwapped : value)
        }
        var cursor = 4
        while cursor + 8 <= bytes.count {
            let size = Int(int32(cursor)), code = int32(cursor + 4)
            guard size >= 8, cursor + size <= bytes.count else {
                throw NIfTIError(.invalidHeader, path: image.path, field: "extension", "an extension of \(size) bytes at byte \(header.headerSize + cursor) runs past vox_offset; the file is damaged")
            }
            if code == extensionCode {
                var xml = Array(bytes[(cursor + 8)..<(cursor + size)])
                while xml.last == 0 { xml.removeLast() }
                return Data(xml)
            }
            cursor += size
        }
        throw NIfTIError(.invalidHeader, path: image.path, field: "extension", "has no CIFTI extension (code 32); this NIfTI-2 file is not a CIFTI file")
    }
}

/// The CIFTI-2 XML (`<CIFTI Version="2"><Matrix><MatrixIndicesMap ...>`), parsed into index maps.
final class CIFTIXML: NSObject, XMLParserDelegate {
    private var maps: [CIFTIIndexMap] = []
    private var current: CIFTIIndexMap?
    private var model: CIFTIBrainModel?
    private var text = ""
    private var labelKey: Int?
    private var table: [Int: String] = [:]
    private var failure: String?
    private(set) var sawEnd = false

    static func parse(_ data: Data, path: String) throws -> [CIFTIIndexMap] {
        let delegate = CIFTIXML()
        let parser = XMLParser(data: data)
        parser.delegate = delegate
        guard parser.parse(), delegate.failure == nil else {
            throw NIfTIError(.invalidHeader, path: path, field: "CIFTI XML",
                             delegate.failure ?? "is not well-formed XML (\(parser.parserError.map { "\($0)" } ?? "unknown error")); the file is damaged")
        }
        guard delegate.sawEnd else { throw NIfTIError(.invalidHeader, path: path, field: "CIFTI XML", "ends before </CIFTI>; the extension is truncated") }
        guard !delegate.maps.isEmpty else { throw NIfTIError(.invalidHeader, path: path, field: "CIFTI XML", "has no MatrixIndicesMap") }
        return delegate.maps
    }

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
        text = ""
        switch name {
        case "CIFTI":
            if let version = attributes["Version"], !version.hasPrefix("2") { failure = "is CIFTI version \(version); fmridyn reads CIFTI-2"; parser.abortParsing() }
        case "MatrixIndicesMap":
            guard let kind = attributes["IndicesMapToDataType"].flatMap(CIFTIIndexMap.Kind.init) else {
                failure = "MatrixIndicesMap has IndicesMapToDataType \(attributes["IndicesMapToDataType"] ?? "missing"), not a CIFTI-2 index type"
                parser.abortParsing()
                return
            }
            let dimensions = (attributes["AppliesToMatrixDimension"] ?? "").split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
            var map = CIFTIIndexMap(dimensions: dimensions, kind: kind)
            map.seriesPoints = attributes["NumberOfSeriesPoints"].flatMap(Int.init)
            map.seriesStart = attributes["SeriesStart"].flatMap(Double.init)
            map.seriesStep = attributes["SeriesStep"].flatMap(Double.init)
            map.seriesExponent = attributes["SeriesExponent"].flatMap(Int.init) ?? 0
            map.seriesUnit = attributes["SeriesUnit"]
            current = map
        case "BrainModel":
            guard let kind = attributes["ModelType"].flatMap(CIFTIBrainModel.Kind.init), let offset = attributes["IndexOffset"].flatMap(Int.init),
                  let count = attributes["IndexCount"].flatMap(Int.init), let structure = attributes["BrainStructure"] else {
                failure = "a BrainModel lacks ModelType, IndexOffset, IndexCount or BrainStructure"
                parser.abortParsing()
                return
            }
            model = CIFTIBrainModel(structure: structure, kind: kind, offset: offset, count: count,
                                    surfaceVertices: attributes["SurfaceNumberOfVertices"].flatMap(Int.init))
        case "Volume":
            current?.volumeShape = (attributes["VolumeDimensions"] ?? "").split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        case "NamedMap":
            table = [:]
        case "Label":
            labelKey = attributes["Key"].flatMap(Int.init)
        default: break
        }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) { text += string }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        let numbers = { self.text.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" || $0 == "\r" }).compactMap { Int($0) } }
        switch name {
        case "VertexIndices": model?.vertices = numbers()
        case "VoxelIndicesIJK":
            let values = numbers()
            model?.voxels = stride(from: 0, to: values.count - 2, by: 3).map { [values[$0], values[$0 + 1], values[$0 + 2]] }
        case "BrainModel":
            guard let finished = model else { return }
            let found = finished.kind == .surface ? finished.vertices.count : finished.voxels.count
            guard found == finished.count else {
                failure = "the \(finished.structure) brain model lists \(found) indices but IndexCount is \(finished.count)"
                parser.abortParsing()
                return
            }
            current?.brainModels.append(finished)
            model = nil
        case "MapName": current?.mapNames.append(text.trimmingCharacters(in: .whitespacesAndNewlines))
        case "Label": if let labelKey { table[labelKey] = text.trimmingCharacters(in: .whitespacesAndNewlines) }
        case "NamedMap": current?.labelTables.append(table)
        case "MatrixIndicesMap":
            if let current { maps.append(current) }
            current = nil
        case "CIFTI": sawEnd = true
        default: break
        }
        text = ""
    }
}

/// Writes CIFTI-2 dense scalar files (`.dscalar.nii`): named maps over the grayordinates of a
/// brain-models element copied from the file they came from (`CIFTIImage.brainModelsElement`).
public enum CIFTIWriter {
    /// - Parameters:
    ///   - maps: maps[m][g], one value per grayordinate of `brainModels` (in its order).
    ///   - names: one name per map (the scalar map's MapName).
    public static func writeDenseScalars(_ maps: [[Double]], names: [String], brainModels: String, to path: String) throws {
        let columns = maps.first?.count ?? 0
        guard !maps.isEmpty, names.count == maps.count, maps.allSatisfy({ $0.count == columns }), columns > 0 else {
            throw NIfTIError(.invalidArgument, path: path, field: "dim", "dense scalars need one name per map and maps of equal, non-zero length")
        }
        func escaped(_ text: String) -> String {
            text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
        }
        let named = names.map { "<NamedMap><MapName>\(escaped($0))</MapName></NamedMap>" }.joined()
        let xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<CIFTI Version=\"2\"><Matrix>"
            + "<MatrixIndicesMap AppliesToMatrixDimension=\"0\" IndicesMapToDataType=\"CIFTI_INDEX_TYPE_SCALARS\">\(named)</MatrixIndicesMap>"
            + brainModels + "</Matrix></CIFTI>\n"
        var header = NIfTIHeader.make(shape: [1, 1, 1, 1, maps.count, columns], code: 0)
        header.sformCode = 0
        header.qformCode = 0
        header.intentCode = 3006  // NIFTI_INTENT_CONNECTIVITY_DENSE_SCALARS
        header.intentName = "ConnDenseScalar"
        // NIfTI order: dimension 0 (the maps) varies fastest, so each grayordinate's maps are contiguous.
        var values = [Float](repeating: 0, count: maps.count * columns)
        for g in 0..<columns { for m in maps.indices { values[g * maps.count + m] = Float(maps[m][g]) } }
        try NIfTIWriter.write(values, header: header, to: path, forceVersion: 2, extensions: [(code: CIFTIImage.extensionCode, content: Array(xml.utf8))])
    }
}
