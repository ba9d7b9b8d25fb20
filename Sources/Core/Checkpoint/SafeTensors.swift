import Foundation

/// Reading and writing the safetensors format (Hugging Face): an 8-byte little-endian header
/// length N, N bytes of JSON (`{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__":
/// {string: string}}`, space-padded to a multiple of 8), then the raw little-endian data.
/// Files open in Python's `safetensors` and PyTorch.
public enum SafeTensors {
    public struct Entry: Equatable, Sendable {
        public let dtype: String
        public let shape: [Int]
        /// Values widened to Float64 (F32 and F64 files; F32 values convert exactly).
        public let values: [Double]
    }

    /// Writes tensors (in the order given) atomically.
    public static func write<Scalar: TensorScalar>(_ tensors: [(String, Tensor<Scalar>)], metadata: [String: String] = [:], to path: String) throws {
        var header: [String: Any] = [:]
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var offset = 0
        let size = MemoryLayout<Scalar>.size
        for (name, tensor) in tensors {
            header[name] = ["dtype": Scalar.safetensorsName, "shape": tensor.shape, "data_offsets": [offset, offset + tensor.count * size]]
            offset += tensor.count * size
        }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        while json.count % 8 != 0 { json.append(0x20) }
        var data = Data(capacity: 8 + json.count + offset)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(json)
        for (_, tensor) in tensors {
            if UInt32(1).littleEndian == 1 {
                tensor.scalars.withUnsafeBytes { data.append(contentsOf: $0) }
            } else {
                for value in tensor.scalars {
                    if let float = value as? Float { withUnsafeBytes(of: float.bitPattern.littleEndian) { data.append(contentsOf: $0) } }
                    if let double = value as? Double { withUnsafeBytes(of: double.bitPattern.littleEndian) { data.append(contentsOf: $0) } }
                }
            }
        }
        do {
            try data.write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw CheckpointError("\(path): could not be written (\(error.localizedDescription)); check that the directory exists and is writable")
        }
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
        guard let object = try? JSONSerialization.jsonObject(with: data[8..<headerEnd]) as? [String: Any] else {
            throw CheckpointError("\(path): the safetensors header is not a JSON object")
        }
        let dataStart = headerEnd
        var tensors: [String: Entry] = [:]
        var metadata: [String: String] = [:]
        for (name, value) in object {
            if name == "__metadata__" {
                metadata = value as? [String: String] ?? [:]
                continue
            }
            guard let info = value as? [String: Any], let dtype = info["dtype"] as? String,
                  let shape = info["shape"] as? [Int], let offsets = info["data_offsets"] as? [Int], offsets.count == 2 else {
                throw CheckpointError("\(path): tensor \(name) has no valid dtype/shape/data_offsets")
            }
            let size: Int
            switch dtype {
            case "F32": size = 4
            case "F64": size = 8
            default: throw CheckpointError("\(path): tensor \(name) has dtype \(dtype); fmridyn reads F32 and F64")
            }
            let count = shape.reduce(1, *)
            guard shape.allSatisfy({ $0 >= 0 }), offsets[0] >= 0, offsets[1] - offsets[0] == count * size,
                  dataStart + offsets[1] <= data.count else {
                throw CheckpointError("\(path): tensor \(name) (shape \(shape), \(dtype)) does not fit its data_offsets \(offsets) in a file of \(data.count) bytes")
            }
            let values: [Double] = data.withUnsafeBytes { raw in
                (0..<count).map { index in
                    let at = dataStart + offsets[0] + index * size
                    if size == 4 { return Double(Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: UInt32.self)))) }
                    return Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: UInt64.self)))
                }
            }
            tensors[name] = Entry(dtype: dtype, shape: shape, values: values)
        }
        return (tensors, metadata)
    }
}

/// A checkpoint that cannot be written or does not match the model.
public struct CheckpointError: Error, CustomStringConvertible, Equatable, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
