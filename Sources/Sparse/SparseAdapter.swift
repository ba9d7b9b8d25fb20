import Core
import Foundation

/// A sparse adapter: a change to a small subset of a fitted model's weights (fine-tuning on a
/// new subject or task), stored as flat indices and delta values per parameter.
public struct SparseAdapter: Equatable, Sendable {
    public struct Delta: Equatable, Sendable {
        public var shape: [Int]
        /// Flat indices (row-major) and the values added there.
        public var indices: [Int]
        public var values: [Float]

        public init(shape: [Int], indices: [Int], values: [Float]) {
            self.shape = shape
            self.indices = indices
            self.values = values
        }
    }

    /// Parameter name -> its delta.
    public var deltas: [String: Delta]

    public init(deltas: [String: Delta]) { self.deltas = deltas }

    /// tuned - base on the entries `selection` marks (1), for every selected parameter.
    public static func difference<M: Module>(base: M, tuned: M, selection: ParameterMasks<Float>) -> SparseAdapter where M.Scalar == Float {
        var deltas: [String: Delta] = [:]
        for (name, path) in base.parameters {
            guard let mask = selection.masks[name]?.scalars else { continue }
            let before = base[keyPath: path].scalars, after = tuned[keyPath: path].scalars
            let indices = mask.indices.filter { mask[$0] != 0 }
            deltas[name] = Delta(shape: base[keyPath: path].shape, indices: indices, values: indices.map { after[$0] - before[$0] })
        }
        return SparseAdapter(deltas: deltas)
    }

    /// Number of stored coordinates.
    public var count: Int { deltas.values.reduce(0) { $0 + $1.indices.count } }

    /// Adds the deltas to `model` (whose shapes must match).
    public func apply<M: Module>(to model: inout M) throws where M.Scalar == Float {
        for (name, path) in model.parameters {
            guard let delta = deltas[name] else { continue }
            guard model[keyPath: path].shape == delta.shape else {
                throw CheckpointError("the adapter's \(name) has shape \(delta.shape) but the model's is \(model[keyPath: path].shape); use the base model the adapter was trained on")
            }
            var values = model[keyPath: path].scalars
            for (index, value) in zip(delta.indices, delta.values) { values[index] += value }
            model[keyPath: path] = Tensor(shape: delta.shape, scalars: values)
        }
        let unknown = Set(deltas.keys).subtracting(model.parameters.map(\.name))
        guard unknown.isEmpty else { throw CheckpointError("the adapter changes parameters the model does not have: \(unknown.sorted().joined(separator: ", "))") }
    }

    /// How coordinates shared by several adapters are combined.
    public enum MergeRule: String, Sendable, CaseIterable {
        /// Average over the adapters that change the coordinate.
        case mean
        /// Sum divided by the number of adapters (a coordinate one adapter changes is scaled down).
        case uniform
    }

    /// One adapter from several (same base model).
    public static func merge(_ adapters: [SparseAdapter], rule: MergeRule) -> SparseAdapter {
        var sums: [String: [Int: Float]] = [:], counts: [String: [Int: Int]] = [:], shapes: [String: [Int]] = [:]
        for adapter in adapters {
            for (name, delta) in adapter.deltas {
                shapes[name] = delta.shape
                for (index, value) in zip(delta.indices, delta.values) {
                    sums[name, default: [:]][index, default: 0] += value
                    counts[name, default: [:]][index, default: 0] += 1
                }
            }
        }
        var deltas: [String: Delta] = [:]
        for (name, entries) in sums {
            let indices = entries.keys.sorted()
            let values = indices.map { index -> Float in
                let divisor = rule == .mean ? Float(counts[name]?[index] ?? 1) : Float(max(1, adapters.count))
                return (entries[index] ?? 0) / divisor
            }
            deltas[name] = Delta(shape: shapes[name] ?? [], indices: indices, values: values)
        }
        return SparseAdapter(deltas: deltas)
    }

    /// `<name>.indices` (I64) and `<name>.values` (F32) with each shape in the metadata.
    public func write(to path: String, metadata: [String: String] = [:]) throws {
        var payloads: [(name: String, shape: [Int], payload: SafeTensors.Payload)] = []
        var header = metadata.merging(["format": "fmridyn-sparse-adapter"]) { a, _ in a }
        for name in deltas.keys.sorted() {
            guard let delta = deltas[name] else { continue }
            payloads.append((name + ".indices", [delta.indices.count], .int64(delta.indices.map(Int64.init))))
            payloads.append((name + ".values", [delta.values.count], .float32(delta.values)))
            header[name + ".shape"] = delta.shape.map(String.init).joined(separator: ",")
        }
        try SafeTensors.write(payloads: payloads, metadata: header, to: path)
    }

    public static func read(_ path: String) throws -> SparseAdapter {
        let (tensors, metadata) = try SafeTensors.read(path)
        guard metadata["format"] == "fmridyn-sparse-adapter" else {
            throw CheckpointError("\(path) is not an fmridyn sparse adapter (metadata format is \(metadata["format"] ?? "missing")); write one with fmridyn adapt")
        }
        var deltas: [String: Delta] = [:]
        for (key, shapeText) in metadata where key.hasSuffix(".shape") {
            let name = String(key.dropLast(".shape".count))
            let shape = shapeText.split(separator: ",").compactMap { Int($0) }
            guard let indices = tensors[name + ".indices"]?.values, let values = tensors[name + ".values"]?.values, indices.count == values.count else {
                throw CheckpointError("\(path): \(name) has no matching .indices and .values")
            }
            let size = shape.reduce(1, *)
            guard indices.allSatisfy({ $0 >= 0 && Int($0) < size }) else { throw CheckpointError("\(path): \(name) has an index outside its shape \(shape)") }
            deltas[name] = Delta(shape: shape, indices: indices.map { Int($0) }, values: values.map(Float.init))
        }
        return SparseAdapter(deltas: deltas)
    }
}
