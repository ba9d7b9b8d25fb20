import CCompression
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// One `DataArray` of a GIfTI file: a vector (or matrix) of values per vertex.
public struct GIfTIDataArray: Sendable, Equatable {
    public var intent: String
    public var dataType: String
    /// Dim0, Dim1, ... (vertices first).
    public var dimensions: [Int]
    public var metadata: [String: String]
    /// The values as Float, in the file's order (row-major for 2-D arrays unless the file says
    /// ColumnMajorOrder, in which case they are reordered to row-major).
    public var values: [Float]
}

/// A GIfTI file (`.func.gii`, `.label.gii`, `.shape.gii`): XML with base64 (optionally
/// zlib-compressed) or ASCII data arrays, and, for label files, a label table.
///
/// Functional files hold one 1-D array per time point (as FreeSurfer, fMRIPrep and nibabel write
/// them) or one 2-D array of vertices x time points; `timeseries()` returns [time, vertex] either way.
public struct GIfTIImage: Sendable {
    public let path: String
    public let arrays: [GIfTIDataArray]
    /// Label key -> name (label files).
    public let labelTable: [Int: String]
    public let metadata: [String: String]

    public static func isGIfTI(_ path: String) -> Bool { path.lowercased().hasSuffix(".gii") }

    public init(contentsOf path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw NIfTIError(.fileNotFound, path: path, "cannot be read; check the path")
        }
        let parser = GIfTIXML(path: path)
        let xml = XMLParser(data: data)
        xml.delegate = parser
        guard xml.parse(), parser.failure == nil else {
            throw NIfTIError(.notNIfTI, path: path, field: "GIfTI XML",
                             parser.failure ?? "is not well-formed XML (\(xml.parserError.map { "\($0)" } ?? "unknown error")); the file is damaged or not GIfTI")
        }
        guard parser.sawRoot else { throw NIfTIError(.notNIfTI, path: path, field: "GIfTI XML", "has no <GIFTI> element; this is not a GIfTI file") }
        guard parser.sawEnd else { throw NIfTIError(.truncatedData, path: path, field: "GIfTI XML", "ends before </GIFTI>; the file is truncated") }
        if let declared = parser.declaredArrays, declared != parser.arrays.count {
            throw NIfTIError(.truncatedData, path: path, field: "NumberOfDataArrays", "is \(declared) but the file holds \(parser.arrays.count) data arrays; the file is damaged")
        }
        self.path = path
        arrays = parser.arrays
        labelTable = parser.labels
        metadata = parser.fileMetadata
    }

    /// Vertices of the surface (Dim0 of the arrays).
    public var vertexCount: Int { arrays.first?.dimensions.first ?? 0 }

    /// The time series [time points][vertices] of a functional file.
    public func timeseries() throws -> [[Float]] {
        guard let first = arrays.first else { throw NIfTIError(.invalidHeader, path: path, field: "DataArray", "has no data arrays") }
        if arrays.count == 1, first.dimensions.count == 2 {
            let (vertices, time) = (first.dimensions[0], first.dimensions[1])
            return (0..<time).map { t in (0..<vertices).map { first.values[$0 * time + t] } }
        }
        for (index, array) in arrays.enumerated() where array.dimensions.first != first.dimensions.first || array.values.count != first.values.count {
            throw NIfTIError(.invalidHeader, path: path, field: "DataArray \(index + 1)", "has \(array.values.count) values where the first array has \(first.values.count); every time point needs the same vertices")
        }
        return arrays.map(\.values)
    }

    /// The repetition time: the first array's `TimeStep` metadata (milliseconds as FreeSurfer and
    /// nibabel write it; values below 20 are taken as seconds), nil when absent.
    public var repetitionTime: Double? {
        guard let text = arrays.first?.metadata["TimeStep"] ?? metadata["TimeStep"], let value = Double(text), value > 0, value.isFinite else { return nil }
        return value >= 20 ? value / 1000 : value
    }
}

final class GIfTIXML: NSObject, XMLParserDelegate {
    let path: String
    var arrays: [GIfTIDataArray] = []
    var labels: [Int: String] = [:]
    var fileMetadata: [String: String] = [:]
    var failure: String?
    var sawRoot = false
    var sawEnd = false
    var declaredArrays: Int?
    private var attributes: [String: String] = [:]
    private var arrayMetadata: [String: String] = [:]
    private var inArray = false
    private var text = ""
    private var metaName: String?
    private var metaValue: String?
    private var labelKey: Int?

    init(path: String) { self.path = path }

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
        text = ""
        switch name {
        case "GIFTI":
            sawRoot = true
            declaredArrays = attributes["NumberOfDataArrays"].flatMap(Int.init)
        case "DataArray":
            inArray = true
            self.attributes = attributes
            arrayMetadata = [:]
        case "Label": labelKey = attributes["Key"].flatMap(Int.init)
        case "MD": metaName = nil; metaValue = nil
        default: break
        }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) { text += string }
    func parser(_ parser: XMLParser, foundCDATA block: Data) { text += String(decoding: block, as: UTF8.self) }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        switch name {
        case "Name": metaName = text.trimmingCharacters(in: .whitespacesAndNewlines)
        case "Value": metaValue = text.trimmingCharacters(in: .whitespacesAndNewlines)
        case "MD":
            if let metaName { if inArray { arrayMetadata[metaName] = metaValue ?? "" } else { fileMetadata[metaName] = metaValue ?? "" } }
        case "Label": if let labelKey { labels[labelKey] = text.trimmingCharacters(in: .whitespacesAndNewlines) }
        case "Data":
            do { arrays.append(try decodeArray(text)) } catch {
                failure = "\(error)"
                parser.abortParsing()
            }
        case "DataArray": inArray = false
        case "GIFTI": sawEnd = true
        default: break
        }
        text = ""
    }

    private func decodeArray(_ payload: String) throws -> GIfTIDataArray {
        let index = arrays.count + 1
        let dimensionality = Int(attributes["Dimensionality"] ?? "1") ?? 1
        let dimensions = (0..<dimensionality).compactMap { attributes["Dim\($0)"].flatMap(Int.init) }
        guard dimensions.count == dimensionality, dimensions.allSatisfy({ $0 >= 0 }) else {
            throw GIfTIError("DataArray \(index): Dimensionality \(dimensionality) but Dim0..Dim\(dimensionality - 1) are not all given")
        }
        let count = dimensions.reduce(1, *)
        let dataType = attributes["DataType"] ?? ""
        let width: Int
        switch dataType {
        case "NIFTI_TYPE_FLOAT32", "NIFTI_TYPE_INT32": width = 4
        case "NIFTI_TYPE_FLOAT64": width = 8
        case "NIFTI_TYPE_UINT8": width = 1
        case "NIFTI_TYPE_INT16": width = 2
        default: throw GIfTIError("DataArray \(index): DataType \(dataType) is not supported (FLOAT32, FLOAT64, INT32, INT16, UINT8)")
        }
        var values: [Float]
        switch attributes["Encoding"] ?? "ASCII" {
        case "ASCII":
            values = payload.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" || $0 == "\r" }).compactMap { Float($0) }
        case "Base64Binary", "GZipBase64Binary":
            guard let decoded = Data(base64Encoded: payload.filter { !$0.isWhitespace }) else {
                throw GIfTIError("DataArray \(index): the Data is not valid base64")
            }
            var bytes = [UInt8](decoded)
            if attributes["Encoding"] == "GZipBase64Binary" { bytes = try Self.inflate(bytes, expected: count * width, array: index) }
            guard bytes.count == count * width else {
                throw GIfTIError("DataArray \(index): \(bytes.count) bytes of data for \(count) values of \(dataType)")
            }
            values = Self.convert(bytes, dataType: dataType, bigEndian: attributes["Endian"] == "BigEndian")
        case "ExternalFileBinary":
            throw GIfTIError("DataArray \(index): external data files are not supported; save the GIfTI with its data inline")
        case let other:
            throw GIfTIError("DataArray \(index): Encoding \(other) is not a GIfTI encoding")
        }
        guard values.count == count else { throw GIfTIError("DataArray \(index): \(values.count) values where Dim0..\(dimensionality - 1) give \(count)") }
        if dimensionality == 2, attributes["ArrayIndexingOrder"] == "ColumnMajorOrder" {
            let (rows, columns) = (dimensions[0], dimensions[1])
            var reordered = values
            for r in 0..<rows { for c in 0..<columns { reordered[r * columns + c] = values[c * rows + r] } }
            values = reordered
        }
        return GIfTIDataArray(intent: attributes["Intent"] ?? "", dataType: dataType, dimensions: dimensions, metadata: arrayMetadata, values: values)
    }

    /// GIfTI's "GZip" encoding is a zlib stream (RFC 1950), which zlib's uncompress reads.
    static func inflate(_ bytes: [UInt8], expected: Int, array: Int) throws -> [UInt8] {
        var output = [UInt8](repeating: 0, count: max(1, expected))
        var length = uLongf(output.count)
        let status = output.withUnsafeMutableBufferPointer { target in
            bytes.withUnsafeBufferPointer { source in uncompress(target.baseAddress, &length, source.baseAddress, uLong(bytes.count)) }
        }
        guard status == Z_OK else { throw GIfTIError("DataArray \(array): the compressed data do not inflate (zlib error \(status)); the file is damaged") }
        return Array(output.prefix(Int(length)))
    }

    static func convert(_ bytes: [UInt8], dataType: String, bigEndian: Bool) -> [Float] {
        func word(_ at: Int, _ width: Int) -> UInt64 {
            var value: UInt64 = 0
            for k in 0..<width { value |= UInt64(bytes[at + (bigEndian ? width - 1 - k : k)]) << (8 * UInt64(k)) }
            return value
        }
        switch dataType {
        case "NIFTI_TYPE_FLOAT32": return stride(from: 0, to: bytes.count, by: 4).map { Float(bitPattern: UInt32(word($0, 4))) }
        case "NIFTI_TYPE_FLOAT64": return stride(from: 0, to: bytes.count, by: 8).map { Float(Double(bitPattern: word($0, 8))) }
        case "NIFTI_TYPE_INT32": return stride(from: 0, to: bytes.count, by: 4).map { Float(Int32(bitPattern: UInt32(word($0, 4)))) }
        case "NIFTI_TYPE_INT16": return stride(from: 0, to: bytes.count, by: 2).map { Float(Int16(bitPattern: UInt16(word($0, 2)))) }
        default: return bytes.map { Float($0) }
        }
    }
}

struct GIfTIError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
