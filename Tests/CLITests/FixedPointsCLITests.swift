import Core
import Dynamics
import Foundation
import Model
import TestSupport
import XCTest

/// A model directory whose NODE field is known, written in the checkpoint format and analysed
/// by `fmridyn fixed-points`: with zero biases the origin is a fixed point and the Jacobian
/// there is W3 W2 W1 (tanh'(0) = 1).
final class FixedPointsCLITests: XCTestCase {
    func testKnownFieldThroughTheCheckpointFormat() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var configuration = SVAEConfiguration(observations: 3)
        configuration.latent = 2
        configuration.hidden = 2
        var model = SVAE<Float>(configuration: configuration)
        // W1 = W2 = I, W3 = [[-1, 2], [-2, -1]] (eigenvalues -1 +- 2i), biases 0.
        let weights: [[Float]] = [[1, 0, 0, 1], [1, 0, 0, 1], [-1, 2, -2, -1]]
        for (index, values) in weights.enumerated() {
            for (name, path) in model.parameters where name == "dynamics.node.field.network.layers.\(index).weight" {
                model[keyPath: path] = Tensor(shape: [2, 2], scalars: values)
            }
            for (name, path) in model.parameters where name == "dynamics.node.field.network.layers.\(index).bias" {
                model[keyPath: path] = Tensor(zeros: [2])
            }
        }
        let description = ModelDescription(model: configuration, training: TrainingConfiguration(), fmridynVersion: "test", split: "none")
        try FileManager.default.createDirectory(atPath: directory.path, withIntermediateDirectories: true)
        try JSONEncoder().encode(description).write(to: URL(fileURLWithPath: directory.file("config.json")))
        try Checkpoint.save(model, to: directory.path)

        let out = directory.file("fixed_points.json")
        let result = try CommandRunner.run(["fixed-points", "--model", directory.path, "--starts", "64", "--max-iters", "3000", "--out", out, "-q"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out))) as? [String: Any])
        let points = try XCTUnwrap(object["fixed_points"] as? [[String: Any]])
        let origin = try XCTUnwrap(points.first { (($0["z"] as? [Double]) ?? [1]).allSatisfy { abs($0) < 1e-6 } }, "the origin is found")
        XCTAssertEqual(origin["classification"] as? String, "stable")
        let eigenvalues = try XCTUnwrap(origin["eigenvalues"] as? [[Double]])
        XCTAssertClose(eigenvalues.map { $0[0] }, [-1, -1], absolute: 1e-6, relative: 0)
        XCTAssertClose(eigenvalues.map { abs($0[1]) }, [2, 2], absolute: 1e-6, relative: 0)
    }
}
