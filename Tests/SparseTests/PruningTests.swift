import Core
import TestSupport
import XCTest

@testable import Sparse

final class PruningTests: XCTestCase {
    func model() -> MLP<Float> {
        var random = RandomSource(seed: 1)
        return MLP<Float>(widths: [20, 30, 10], activation: .tanh, random: &random)
    }

    func testGlobalMagnitudeKeepsExactlyTheTarget() {
        let mlp = model()
        let names = prunableParameters(mlp)
        XCTAssertEqual(names, ["layers.0.weight", "layers.1.weight"])
        let shapes = Dictionary(uniqueKeysWithValues: mlp.parameters.map { ($0.name, mlp[keyPath: $0.path].shape) }).filter { names.contains($0.key) }
        let scores = Pruning.scores(mlp, names: names, criterion: .magnitude)
        let masks = Pruning.masks(scores: scores, order: names, shapes: shapes, sparsity: 0.9, scope: .global)
        let kept = masks.masks.values.reduce(0) { $0 + $1.scalars.filter { $0 == 1 }.count }
        XCTAssertEqual(kept, Int((Double(600 + 300) * 0.1).rounded()), "exactly 10% of 900")
        // Every kept weight is at least as large as every pruned one.
        let all = names.flatMap { name in zip(mlp.parameters.first { $0.name == name }.map { mlp[keyPath: $0.path].scalars } ?? [], masks.masks[name]?.scalars ?? []) }
        let smallestKept = all.filter { $0.1 == 1 }.map { abs($0.0) }.min() ?? 0
        let largestPruned = all.filter { $0.1 == 0 }.map { abs($0.0) }.max() ?? 0
        XCTAssertGreaterThanOrEqual(smallestKept, largestPruned)
    }

    func testTiesAreBrokenDeterministically() {
        let scores: [String: [Double]] = ["a": [1, 1, 1, 1], "b": [1, 1]]
        let masks = Pruning.masks(scores: scores, order: ["a", "b"], shapes: ["a": [4], "b": [2]], sparsity: 0.5, scope: .global)
        XCTAssertEqual(masks.masks["a"]?.scalars, [1, 1, 1, 0])
        XCTAssertEqual(masks.masks["b"]?.scalars, [0, 0])
    }

    func testERKDensities() {
        let shapes = ["small": [10, 10], "large": [400, 300]]
        let densities = Pruning.densities(shapes: shapes, sparsity: 0.9, scope: .erk)
        let kept = shapes.reduce(0.0) { $0 + Double($1.value.reduce(1, *)) * (densities[$1.key] ?? 0) }
        XCTAssertEqual(kept, 0.1 * (100 + 120_000), accuracy: 1e-6, "the overall density is the target")
        XCTAssertEqual(densities["small"], 1, "a layer ERK would give density > 1 is kept dense")
        XCTAssertLessThan(densities["large"] ?? 1, 0.1)
    }

    func testMasksSurviveTrainingAndSNIPUsesGradients() {
        var mlp = model()
        let x = Tensor<Float>(shape: [8, 20], scalars: (0..<160).map { Float($0 % 7) / 7 - 0.4 })
        let (_, gradient) = valueAndGradient(of: mlp) { $0(x).squared().mean() }
        let names = prunableParameters(mlp)
        let gradients = Dictionary(uniqueKeysWithValues: gradient.parameters.filter { names.contains($0.name) }.map { ($0.name, gradient[keyPath: $0.path]) })
        let shapes = Dictionary(uniqueKeysWithValues: names.map { name in (name, gradients[name]?.shape ?? []) })
        let scores = Pruning.scores(mlp, names: names, criterion: .snip(gradients: gradients))
        let expected = zip(mlp.layers[0].weight.scalars, gradients["layers.0.weight"]?.scalars ?? []).map { Double(abs($0 * $1)) }
        XCTAssertEqual(scores["layers.0.weight"], expected)
        let masks = Pruning.masks(scores: scores, order: names, shapes: shapes, sparsity: 0.95, scope: .layer)
        masks.apply(to: &mlp)
        var adam = Adam<Float>(learningRate: 0.01)
        for _ in 0..<5 {
            let (_, g) = valueAndGradient(of: mlp) { $0(x).squared().mean() }
            adam.update(&mlp, along: g, masks: masks)
        }
        let density = Pruning.density(mlp).filter { names.contains($0.name) }
        for layer in density { XCTAssertEqual(Double(layer.nonzero) / Double(layer.count), 0.05, accuracy: 0.002, layer.name) }
    }
}
