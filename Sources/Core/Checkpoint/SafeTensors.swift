import Foundation

/// Reading and writing the safetensors format (Hugging Face): an 8-byte little-endian header
/// length N, N bytes of JSON (`{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__":
/// {string: string}}`, space-padded to a multiple of 8), then the raw little-endian data.
/// Files open in Python's `safetensors` and PyTorch.
public enum SafeTensors {
    public struct Entry: Equatable, Sendable {
        public let dtype: String
        public let shape: [Int]
        /// Values widened to Float64 (F32, F64, I32 and I64; exact for F32, I32 and indices below 2^53).
        public let values: [Double]
    }

    /// Raw data of one stored tensor.
    public enum Payload: Sendable {
        case float32([Float])
        case float64([Double])
        /// Integer indices (sparse exports); I64 in the file.
        case int64([Int64])

        var dtype: String {
            switch self {
            case .float32: return "F32"
            case .float64: return "F64"
            case .int64: return "I64"
            }
        }

        var byteCount: Int {
            switch self {
            case .float32(let values): return values.count * 4
            case .float64(let values): return values.count * 8
            case .int64(let values): return values.count * 8
            }
        }

        func append(to data: inout Data) {
            if UInt32(1).littleEndian == 1 {
                // Little-endian host: the in-memory bytes are the file's bytes.
                switch self {
                case .float32(let values): values.withUnsafeBytes { data.append(contentsOf: $0) }
                case .float64(let values): values.withUnsafeBytes { data.append(contentsOf: $0) }
                case .int64(let values): values.withUnsafeBytes { data.append(contentsOf: $0) }
                }
                return
            }
            switch self {
            case .float32(let values): for value in values { withUnsafeBytes(of: value.bitPattern.littleEndian) { data.append(contentsOf: $0) } }
            case .float64(let values): for value in values { withUnsafeBytes(of: value.bitPattern.littleEndian) { data.append(contentsOf: $0) } }
            case .int64(let values): for value in values { withUnsafeBytes(of: value.littleEndian) { data.append(contentsOf: $0) } }
            }
        }
    }

    /// Writes tensors (in the order given) atomically.
    public static func write<Scalar: TensorScalar>(_ tensors: [(String, Tensor<Scalar>)], metadata: [String: String] = [:], to path: String) throws {
        try write(payloads: tensors.map { name, tensor in
            let payload: Payload
            // Scalar is Float or Double: copy the memory as that type instead of converting
            // element by element through generic code (which made checkpoints 5x slower).
            payload = tensor.scalars.withUnsafeBufferPointer { buffer in
                let bytes = UnsafeRawBufferPointer(buffer)
                return Scalar.self == Float.self ? .float32(bytes.withMemoryRebound(to: Float.self) { Array($0) })
                                                 : .float64(bytes.withMemoryRebound(to: Double.self) { Array($0) })
            }
            return (name, tensor.shape, payload)
        }, metadata: metadata, to: path)
    }

    /// Writes named payloads of any supported dtype (in the order given) atomically.
    public static func write(payloads: [(name: String, shape: [Int], payload: Payload)], metadata: [String: String] = [:], to path: String) throws {
        var header = SafeTensorsHeader(tensors: [:], metadata: metadata)
        var offset = 0
        for item in payloads {
            header.tensors[item.name] = .init(dtype: item.payload.dtype, shape: item.shape, data_offsets: [offset, offset + item.payload.byteCount])
            offset += item.payload.byteCount
        }
        var json = header.encoded()
        while json.count % 8 != 0 { json.append(0x20) }
        var data = Data(capacity: 8 + json.count + offset)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(json)
        for item in payloads { item.payload.append(to: &data) }
        try AtomicWrite.write(data, to: path)
    }

    /// Reads every tensor; validates the header against the file before touching data.
    public static func read(_ path: String) throws -> (tensors: [String: Entry], metadata: [String: String]) {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CheckpointError("\(path): no such file")
        }
        guard data.count >= 8 else { throw CheckpointError("\(path): \(data.count) bytes is too short for a safetensors file") }
        let length = data.prefix(8).enumerated().reduce(UInt64(0)) { $0 | (UInt64($1.element) << (8 * UInt64($1.offset))) }
        guard length <= UInt64(data.count - 8) else {
            throw CheckpointError("\(path): the header claims \(length) bytes but the file has \(data.count - 8) after the length; the file is truncated or not safetensors")
        }
        let headerEnd = 8 + Int(length)
        let header: SafeTensorsHeader
        do {
            header = try JSONDecoder().decode(SafeTensorsHeader.self, from: data[8..<headerEnd])
        } catch let invalid as SafeTensorsHeader.InvalidEntry {
            throw CheckpointError("\(path): tensor \(invalid.name) has no valid dtype/shape/data_offsets")
        } catch {
            throw CheckpointError("\(path): the safetensors header is not a JSON object")
        }
        let dataStart = headerEnd
        var tensors: [String: Entry] = [:]
        for (name, info) in header.tensors {
            let dtype = info.dtype, shape = info.shape, offsets = info.data_offsets
            guard offsets.count == 2 else {
                throw CheckpointError("\(path): tensor \(name) has no valid dtype/shape/data_offsets")
            }
            let size: Int
            switch dtype {
            case "F32": size = 4
            case "F64", "I64": size = 8
            case "I32": size = 4
            default: throw CheckpointError("\(path): tensor \(name) has dtype \(dtype); fmridyn reads F32, F64, I32 and I64")
            }
            let count = shape.reduce(1, *)
            guard shape.allSatisfy({ $0 >= 0 }), offsets[0] >= 0, offsets[1] - offsets[0] == count * size,
                  dataStart + offsets[1] <= data.count else {
                throw CheckpointError("\(path): tensor \(name) (shape \(shape), \(dtype)) does not fit its data_offsets \(offsets) in a file of \(data.count) bytes")
            }
            let values: [Double] = data.withUnsafeBytes { raw in
                (0..<count).map { index in
                    let at = dataStart + offsets[0] + index * size
                    switch dtype {
                    case "F32": return Double(Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: UInt32.self))))
                    case "I32": return Double(Int32(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: UInt32.self))))
                    case "I64": return Double(Int64(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: UInt64.self))))
                    default: return Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: UInt64.self)))
                    }
                }
            }
            tensors[name] = Entry(dtype: dtype, shape: shape, values: values)
        }
        return (tensors, header.metadata)
    }
}

/// A checkpoint that cannot be written or does not match the model.
public struct CheckpointError: Error, CustomStringConvertible, Equatable, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
