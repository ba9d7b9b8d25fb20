import Foundation
import TestSupport
import XCTest

@testable import Core

final class CheckpointTests: XCTestCase {
    func testReadsAFileWrittenByPythonSafetensors() throws {
        let (tensors, metadata) = try SafeTensors.read(Fixtures.path("core/reference.safetensors"))
        XCTAssertEqual(metadata["origin"], "safetensors.torch")
        XCTAssertEqual(tensors["weight"]?.dtype, "F32")
        XCTAssertEqual(tensors["weight"]?.shape, [2, 3])
        XCTAssertEqual(tensors["weight"]?.values, [0, 0.25, 0.5, 0.75, 1, 1.25])
        XCTAssertEqual(tensors["bias"]?.dtype, "F64")
        XCTAssertEqual(tensors["bias"]?.values, [1.5, -2.25])
    }

    func testModelOptimizerAndMasksRoundTrip() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var random = RandomSource(seed: 1)
        var mlp = MLP<Float>(widths: [4, 6, 2], activation: .tanh, random: &random)
        let x = Tensor<Float>(shape: [3, 4], scalars: (0..<12).map { Float($0) / 10 })
        var adam = Adam<Float>()
        let (_, gradient) = valueAndGradient(of: mlp) { $0(x).squared().mean() }
        adam.update(&mlp, along: gradient)
        let masks = ParameterMasks<Float>(["layers.0.weight": Tensor(shape: [6, 4], scalars: (0..<24).map { Float($0 % 2) })])
        let config = Data(#"{"widths": [4, 6, 2]}"#.utf8)
        try Checkpoint.save(mlp, configuration: config, optimizer: adam.state, masks: masks, to: directory.path)

        var restored = MLP<Float>(widths: [4, 6, 2], activation: .tanh, random: &random)
        XCTAssertNotEqual(restored.layers[0].weight, mlp.layers[0].weight)
        try Checkpoint.load(into: &restored, from: directory.path)
        for (name, path) in mlp.parameters { XCTAssertEqual(restored[keyPath: path], mlp[keyPath: path], name) }
        let state: OptimizerState<Float>? = try Checkpoint.loadOptimizerState(from: directory.path)
        XCTAssertEqual(state, adam.state)
        let loadedMasks: ParameterMasks<Float>? = try Checkpoint.loadMasks(from: directory.path)
        XCTAssertEqual(loadedMasks, masks)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: directory.file("config.json"))), config)
        // The header is JSON padded to 8 bytes, as the format requires.
        let bytes = try Data(contentsOf: URL(fileURLWithPath: directory.file("model.safetensors")))
        let length = bytes.prefix(8).enumerated().reduce(0) { $0 | (Int($1.element) << (8 * $1.offset)) }
        XCTAssertEqual(length % 8, 0)
        XCTAssertEqual(bytes.count, 8 + length + mlp.parameterCount * 4)
    }

    func testMismatchesAreListed() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var random = RandomSource(seed: 1)
        try Checkpoint.save(MLP<Float>(widths: [4, 6, 2], activation: .tanh, random: &random), to: directory.path)
        var other = MLP<Float>(widths: [4, 5, 2, 2], activation: .tanh, random: &random)
        XCTAssertThrowsError(try Checkpoint.load(into: &other, from: directory.path)) { error in
            let message = "\(error)"
            XCTAssertTrue(message.contains("layers.0.weight has shape [6, 4] in the file, [5, 4] in the model"), message)
            XCTAssertTrue(message.contains("missing tensor layers.2.weight"), message)
        }
        try Data([1, 0, 0, 0, 0, 0, 0, 0, 0x7B]).write(to: URL(fileURLWithPath: directory.file("bad.safetensors")))
        XCTAssertThrowsError(try SafeTensors.read(directory.file("bad.safetensors")))
        try Data([255, 255, 0, 0, 0, 0, 0, 0]).write(to: URL(fileURLWithPath: directory.file("long.safetensors")))
        XCTAssertThrowsError(try SafeTensors.read(directory.file("long.safetensors"))) { XCTAssertTrue("\($0)".contains("truncated"), "\($0)") }
    }

    /// The typed header writes what JSONSerialization's sorted keys wrote before it (member
    /// order numeric and case-insensitive: layers.2 before layers.10, `_` before `.`), so model
    /// files stay byte-identical; names with escapes round-trip.
    func testHeaderIsByteIdenticalToFoundationsSortedKeys() throws {
        let names = ["layers.10.weight", "layers.2.weight", "Layers.3", "a_b", "a.b", "a-b", "B", "enc/dec", "q\"uote", "tab\tname", "é"]
        var reference: [String: Any] = ["__metadata__": ["format": "fmridyn", "path": "a/b", "Z": "1"]]
        var header = SafeTensorsHeader(tensors: [:], metadata: ["format": "fmridyn", "path": "a/b", "Z": "1"])
        for (index, name) in names.enumerated() {
            reference[name] = ["dtype": "F32", "shape": [index, 2], "data_offsets": [8 * index, 8 * index + 8]]
            header.tensors[name] = .init(dtype: "F32", shape: [index, 2], data_offsets: [8 * index, 8 * index + 8])
        }
        let expected = try JSONSerialization.data(withJSONObject: reference, options: [.sortedKeys])
        XCTAssertEqual(String(decoding: header.encoded(), as: UTF8.self), String(decoding: expected, as: UTF8.self))
        let decoded = try JSONDecoder().decode(SafeTensorsHeader.self, from: header.encoded())
        XCTAssertEqual(decoded.tensors, header.tensors)
        XCTAssertEqual(decoded.metadata, header.metadata)

        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        func file(_ json: String) throws -> String {
            var bytes = Data()
            withUnsafeBytes(of: UInt64(json.utf8.count).littleEndian) { bytes.append(contentsOf: $0) }
            bytes.append(Data(json.utf8))
            bytes.append(Data(repeating: 0, count: 8))
            let path = directory.file("h.safetensors")
            try bytes.write(to: URL(fileURLWithPath: path))
            return path
        }
        XCTAssertThrowsError(try SafeTensors.read(file(#"{"w":{"dtype":"F32","shape":[2]}}"#))) {
            XCTAssertTrue("\($0)".contains("tensor w has no valid dtype/shape/data_offsets"), "\($0)")
        }
        XCTAssertThrowsError(try SafeTensors.read(file(#"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0]}}"#))) {
            XCTAssertTrue("\($0)".contains("tensor w has no valid dtype/shape/data_offsets"), "\($0)")
        }
        XCTAssertThrowsError(try SafeTensors.read(file("[1, 2]"))) { XCTAssertTrue("\($0)".contains("not a JSON object"), "\($0)") }
        // Non-string metadata is ignored, as before; the tensor is read.
        let (tensors, metadata) = try SafeTensors.read(file(#"{"__metadata__":{"n":1},"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#))
        XCTAssertEqual(tensors["w"]?.values, [0, 0])
        XCTAssertEqual(metadata, [:])
    }
}

final class RandomSourceTests: XCTestCase {
    func testSeedsAreReproducibleAndDistributionsRight() {
        var a = RandomSource(seed: 42), b = RandomSource(seed: 42), c = RandomSource(seed: 43)
        let first = (0..<5).map { _ in a.next() }
        XCTAssertEqual(first, (0..<5).map { _ in b.next() })
        XCTAssertNotEqual(first, (0..<5).map { _ in c.next() })
        // The first output for seed 0, checked against an independent Python implementation of
        // xoshiro256** seeded by SplitMix64: a
        // change of algorithm would silently change every model's initialisation.
        var reference = RandomSource(seed: 0)
        XCTAssertEqual(reference.next(), 11091344671253066420)
        var random = RandomSource(seed: 9)
        let normals = (0..<200_000).map { _ in random.normal() }
        let mean = normals.reduce(0, +) / Double(normals.count)
        let variance = normals.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(normals.count)
        XCTAssertEqual(mean, 0, accuracy: 0.01)
        XCTAssertEqual(variance, 1, accuracy: 0.01)
    }

    func testDeterministicLogarithm() {
        for x in [1e-300, 1e-10, 0.1, 0.5, 0.999, 1, 1.5, 2, 10, 12345.678, 1e300] {
            XCTAssertEqual(RandomSource.log(x), Foundation.log(x), accuracy: 4 * Double.ulpOfOne * max(1, abs(Foundation.log(x))), "log(\(x))")
        }
    }

    func testInitializerStatistics() {
        var random = RandomSource(seed: 3)
        let xavier: Tensor<Double> = Initializer.xavierUniform().make([64, 32], using: &random)
        let bound = (6.0 / 96).squareRoot()
        XCTAssertLessThanOrEqual(xavier.scalars.map(abs).max() ?? 0, bound)
        XCTAssertGreaterThan(xavier.scalars.map(abs).max() ?? 0, 0.95 * bound)
        let orthogonal: Tensor<Double> = Initializer.orthogonal().make([5, 8], using: &random)
        // Rows orthonormal: Q Q^T = I.
        let gram = orthogonal.matmul(orthogonal.transposed())
        for r in 0..<5 { for c in 0..<5 { XCTAssertEqual(gram.scalars[r * 5 + c], r == c ? 1 : 0, accuracy: 1e-12) } }
        let kaiming: Tensor<Double> = Initializer.kaimingNormal().make([256, 128], using: &random)
        let std = (kaiming.scalars.reduce(0) { $0 + $1 * $1 } / Double(kaiming.count)).squareRoot()
        XCTAssertEqual(std, (2.0 / 128).squareRoot(), accuracy: 0.005)
    }
}
