import Foundation

/// A model directory: `model.safetensors` (parameters by name), `config.json` (the
/// architecture, written by the model's owner), `optimizer.safetensors` (moment buffers, step
/// in the metadata) and `masks.safetensors` (sparse-training masks), each written atomically.
/// docs/checkpoint-format.md lists the tensor names.
public enum Checkpoint {
    public static let modelFile = "model.safetensors"
    public static let optimizerFile = "optimizer.safetensors"
    public static let masksFile = "masks.safetensors"
    public static let configFile = "config.json"

    public static func save<M: Module>(_ model: M, configuration: Data? = nil, optimizer: OptimizerState<M.Scalar>? = nil,
                                       masks: ParameterMasks<M.Scalar>? = nil, metadata: [String: String] = [:],
                                       to directory: String) throws {
        try OutputDirectory.create(directory, what: "model directory")
        try SafeTensors.write(model.namedParameters, metadata: metadata.merging(["format": "fmridyn"]) { a, _ in a },
                              to: directory + "/" + modelFile)
        if let configuration {
            try AtomicWrite.write(configuration, to: directory + "/" + configFile)
        }
        if let optimizer {
            try SafeTensors.write(optimizer.buffers.sorted { $0.key < $1.key }.map { ($0.key, $0.value) },
                                  metadata: ["step": String(optimizer.step)], to: directory + "/" + optimizerFile)
        }
        if let masks, !masks.masks.isEmpty {
            try SafeTensors.write(masks.masks.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }, to: directory + "/" + masksFile)
        }
    }

    /// Loads parameters into `model`, which must have exactly the checkpoint's names and shapes;
    /// every mismatch is listed in the error.
    public static func load<M: Module>(into model: inout M, from directory: String) throws {
        let path = directory + "/" + modelFile
        let (tensors, _) = try SafeTensors.read(path)
        var problems: [String] = []
        let expected = Set(model.parameters.map(\.name))
        for name in Set(tensors.keys).subtracting(expected).sorted() { problems.append("unexpected tensor \(name)") }
        for (name, keyPath) in model.parameters {
            guard let entry = tensors[name] else {
                problems.append("missing tensor \(name)")
                continue
            }
            let shape = model[keyPath: keyPath].shape
            guard entry.shape == shape else {
                problems.append("\(name) has shape \(entry.shape) in the file, \(shape) in the model")
                continue
            }
            model[keyPath: keyPath] = Tensor(shape: shape, scalars: entry.values.map { M.Scalar($0) })
        }
        guard problems.isEmpty else {
            throw CheckpointError("\(path) does not match the model: " + problems.joined(separator: "; ") + ". Check config.json against the model options.")
        }
    }

    public static func loadOptimizerState<Scalar: TensorScalar>(from directory: String) throws -> OptimizerState<Scalar>? {
        let path = directory + "/" + optimizerFile
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        let (tensors, metadata) = try SafeTensors.read(path)
        var state = OptimizerState<Scalar>()
        state.step = Int(metadata["step"] ?? "") ?? 0
        for (name, entry) in tensors { state.buffers[name] = Tensor(shape: entry.shape, scalars: entry.values.map { Scalar($0) }) }
        return state
    }

    public static func loadMasks<Scalar: TensorScalar>(from directory: String) throws -> ParameterMasks<Scalar>? {
        let path = directory + "/" + masksFile
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        let (tensors, _) = try SafeTensors.read(path)
        return ParameterMasks(tensors.mapValues { Tensor(shape: $0.shape, scalars: $0.values.map { Scalar($0) }) })
    }
}
