import Core
import Foundation
import TestSupport
import XCTest

@testable import Sparse

/// Drop-and-grow, gradual pruning, SynFlow, site aggregation and the compact export.
final class SparseTrainingTests: XCTestCase {
    /// A two-layer MLP with identity activation: simple enough to score by hand.
    func linearNetwork() -> MLP<Float> {
        let first = Linear<Float>(weight: Tensor(shape: [2, 3], scalars: [1, -2, 3, 0.5, 4, -1]), bias: nil)
        let second = Linear<Float>(weight: Tensor(shape: [1, 2], scalars: [2, -0.25]), bias: nil)
        return MLP(layers: [first, second], activation: .identity)
    }

    func testSetAndRigLKeepDensityAndFollowTheirRules() {
        var network = linearNetwork()
        let weightName = network.parameters[0].name
        // Layer 1: active entries 0, 1, 2, 4 (|w| 1, 2, 3, 4), inactive 3 and 5.
        var masks = ParameterMasks<Float>([weightName: Tensor(shape: [2, 3], scalars: [1, 1, 1, 0, 1, 0])])
        masks.apply(to: &network)
        var gradient = network
        gradient[keyPath: network.parameters[0].path] = Tensor(shape: [2, 3], scalars: [0, 0, 0, 0.1, 0, -5])
        var optimizer = OptimizerState<Float>()
        optimizer.buffers[weightName + ".exp_avg"] = Tensor(shape: [2, 3], scalars: [9, 9, 9, 9, 9, 9])

        // RigL at step 100 of 1000 with f0 = 0.5: f = 0.25 (1 + cos(pi 100 / 750)) = 0.4567, so
        // round(4 x 0.4567) = 2 weights move: drop |w| 1 and 2 (indices 0, 1), grow by |g|: 5, 3.
        let rigl = DynamicSparseTraining(growth: .gradient, updateInterval: 100, dropFraction: 0.5, endFraction: 0.75)
        XCTAssertEqual(rigl.fraction(step: 100, totalSteps: 1000), 0.25 * (1 + cos(Double.pi * 100 / 750)), accuracy: 1e-12)
        XCTAssertEqual(rigl.fraction(step: 750, totalSteps: 1000), 0)
        var model = network
        rigl.update(step: 100, totalSteps: 1000, model: &model, gradient: gradient, masks: &masks, optimizer: &optimizer)
        XCTAssertEqual(masks.masks[weightName]?.scalars, [0, 0, 1, 1, 1, 1])
        XCTAssertEqual(model[keyPath: model.parameters[0].path].scalars, [0, 0, 3, 0, 4, 0], "grown weights start at zero")
        XCTAssertEqual(optimizer.buffers[weightName + ".exp_avg"]?.scalars, [0, 0, 9, 0, 9, 0], "moments reset where weights moved")
        // Not an update step: nothing changes.
        let before = masks
        rigl.update(step: 150, totalSteps: 1000, model: &model, gradient: gradient, masks: &masks, optimizer: &optimizer)
        XCTAssertEqual(masks, before)

        // SET grows at random among the inactive, with the same count.
        var setMasks = ParameterMasks<Float>([weightName: Tensor(shape: [2, 3], scalars: [1, 1, 1, 0, 1, 0])])
        var setModel = network
        DynamicSparseTraining(growth: .random, updateInterval: 100, dropFraction: 0.5, endFraction: 0.75)
            .update(step: 100, totalSteps: 1000, model: &setModel, gradient: gradient, masks: &setMasks, optimizer: &optimizer)
        let mask = setMasks.masks[weightName]?.scalars ?? []
        XCTAssertEqual(mask.filter { $0 != 0 }.count, 4, "density constant")
        XCTAssertEqual(mask[0], 0)
        XCTAssertEqual(mask[1], 0)
    }

    func testCubicScheduleAndMonotoneMasks() {
        let schedule = IterativeMagnitudePruning(finalSparsity: 0.8, initialSparsity: 0, startFraction: 0.1, endFraction: 0.5, interval: 10)
        XCTAssertEqual(schedule.sparsity(step: 50, totalSteps: 1000), 0)
        XCTAssertEqual(schedule.sparsity(step: 100, totalSteps: 1000), 0, accuracy: 1e-12)
        // Halfway (t = 300 of 100...500): 0.8 - 0.8 x 0.5^3 = 0.7.
        XCTAssertEqual(schedule.sparsity(step: 300, totalSteps: 1000), 0.7, accuracy: 1e-12)
        XCTAssertEqual(schedule.sparsity(step: 700, totalSteps: 1000), 0.8)

        var model = linearNetwork()
        let names = model.parameters.map(\.name)
        var masks = ParameterMasks<Float>(Dictionary(uniqueKeysWithValues: model.parameters.map { ($0.name, Tensor<Float>(shape: model[keyPath: $0.path].shape, scalars: [Float](repeating: 1, count: model[keyPath: $0.path].count))) }))
        var optimizer = OptimizerState<Float>()
        var kept: [Int] = []
        for step in stride(from: 110, through: 500, by: 10) {
            let previous = masks
            schedule.update(step: step, totalSteps: 1000, model: &model, gradient: model, masks: &masks, optimizer: &optimizer)
            for name in names {
                for (old, new) in zip(previous.masks[name]?.scalars ?? [], masks.masks[name]?.scalars ?? []) { XCTAssertFalse(old == 0 && new == 1, "a pruned weight came back") }
            }
            kept.append(names.reduce(0) { $0 + (masks.masks[$1]?.scalars.filter { $0 != 0 }.count ?? 0) })
        }
        // 8 weights, final sparsity 0.8: exactly round(8 x 0.2) = 2 remain, the largest (4 and 3).
        XCTAssertEqual(kept.last, 2)
        XCTAssertEqual(model[keyPath: model.parameters[0].path].scalars, [0, 0, 3, 0, 4, 0])
    }

    func testGroupSparseProjectionDuringTraining() {
        var random = RandomSource(seed: 5)
        let first = Linear<Float>(weight: Tensor(shape: [4, 6], scalars: (0..<24).map { _ in Float(random.normal()) }), bias: nil)
        let second = Linear<Float>(weight: Tensor(shape: [3, 4], scalars: (0..<12).map { _ in Float(random.normal()) }), bias: nil)
        let network = MLP(layers: [first, second], activation: .tanh)
        let names = network.parameters.map(\.name)
        let dense = ParameterMasks<Float>(Dictionary(uniqueKeysWithValues: network.parameters.map { ($0.name, Tensor<Float>(shape: network[keyPath: $0.path].shape, scalars: [Float](repeating: 1, count: network[keyPath: $0.path].count))) }))
        func rows(_ tensor: Tensor<Float>) -> [[Double]] {
            (0..<tensor.shape[0]).map { r in (0..<tensor.shape[1]).map { Double(tensor.scalars[r * tensor.shape[1] + $0]) } }
        }
        var optimizer = OptimizerState<Float>()
        for grouping in GroupSparseTraining.Grouping.allCases {
            var model = network, masks = dense
            let schedule = GroupSparseTraining(hoyerTarget: 0.6, finalSparsity: 0.5, interval: 10, endFraction: 0.5, grouping: grouping)
            schedule.update(step: 10, totalSteps: 100, model: &model, gradient: model, masks: &masks, optimizer: &optimizer)
            let perLayer = names.map { name in rows(model[keyPath: model.parameters.first { $0.name == name }!.path]) }
            let all = perLayer.flatMap { $0 }
            // Average Hoyer sparsity of the rows: 0.6 in each layer, or 0.6 over all rows together.
            if grouping == .layer {
                for layer in perLayer { XCTAssertEqual(layer.reduce(0) { $0 + GroupSparseProjection.hoyer($1) } / Double(layer.count), 0.6, accuracy: 1e-4) }
            } else {
                XCTAssertEqual(all.reduce(0) { $0 + GroupSparseProjection.hoyer($1) } / Double(all.count), 0.6, accuracy: 1e-4)
            }
            XCTAssertEqual(masks, dense, "projection does not mask")
            // At the end of the projection phase a magnitude mask at 50% is fixed: 18 of 36 weights.
            schedule.update(step: 50, totalSteps: 100, model: &model, gradient: model, masks: &masks, optimizer: &optimizer)
            XCTAssertEqual(masks.masks.values.reduce(0) { $0 + $1.scalars.filter { $0 != 0 }.count }, 18)
        }
    }

    func testSynFlowScoresOfALinearNetwork() {
        // R = 1^T |W2| |W1| 1: dR/dW1_jk = |W2_j|, so the first round scores W1 by |W1_jk| |W2_j|:
        // row 0 (|W2| 2): 2, 4, 6; row 1 (|W2| 0.25): 0.125, 1, 0.25; W2 by |W2_j| x row sums of |W1|: 12, 1.375.
        let model = linearNetwork()
        let names = model.parameters.map(\.name)
        let masks = Saliency.synflowMasks(model, names: names, sparsity: 0.5, scope: .global, rounds: 1) { network in
            network(Tensor<Float>(shape: [1, 3], scalars: [1, 1, 1]))
        }
        // Keep 4 of 8: scores 12, 6, 4, 2 -> W2_0, W1_02, W1_01, W1_00.
        XCTAssertEqual(masks.masks[names[0]]?.scalars, [1, 1, 1, 0, 0, 0])
        XCTAssertEqual(masks.masks[names[1]]?.scalars, [1, 0])
    }

    func testSiteAggregationAndCommunication() {
        let a: [String: [Double]] = ["w": [1, 0, 3]], b: [String: [Double]] = ["w": [3, 2, 1]]
        XCTAssertEqual(Saliency.aggregate([a, b], samples: [1, 3], rule: .mean)["w"], [2, 1, 2])
        XCTAssertEqual(Saliency.aggregate([a, b], samples: [1, 3], rule: .weighted)["w"], [2.5, 1.5, 1.5])
        let model = linearNetwork()
        let masks = ParameterMasks<Float>([model.parameters[0].name: Tensor(shape: [2, 3], scalars: [1, 0, 0, 0, 0, 1])])
        let bytes = Saliency.communicationBytes(model, masks: masks)
        XCTAssertEqual(bytes.dense, 4 * 8)
        XCTAssertEqual(bytes.sparse, 8 * 2 + 4 * 2)
    }

    func testCompactExportRoundTrip() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var model = linearNetwork()
        let name = model.parameters[0].name
        let masks = ParameterMasks<Float>([name: Tensor(shape: [2, 3], scalars: [1, 0, 0, 0, 1, 1])])
        masks.apply(to: &model)
        let path = directory.file("sparse.safetensors")
        try SparseExport.write(model, masks: masks, to: path)
        let raw = try SafeTensors.read(path)
        XCTAssertEqual(raw.tensors[name + ".indices"]?.dtype, "I64")
        XCTAssertEqual(raw.tensors[name + ".indices"]?.values, [0, 4, 5])
        let dense = try SparseExport.read(path)
        XCTAssertEqual(dense[name]?.scalars, [1, 0, 0, 0, 4, -1])
        XCTAssertEqual(dense[name]?.shape, [2, 3])
        XCTAssertEqual(dense[model.parameters[1].name]?.scalars, [2, -0.25])
    }
}

final class SparseAdapterTests: XCTestCase {
    func testDifferenceMergeApplyAndRoundTrip() throws {
        let base = Linear<Float>(weight: Tensor(shape: [2, 2], scalars: [1, 2, 3, 4]), bias: Tensor(shape: [2], scalars: [0, 0]))
        let name = base.parameters.first { base[keyPath: $0.path].rank == 2 }?.name ?? ""
        var tunedA = base, tunedB = base
        tunedA.weight = Tensor(shape: [2, 2], scalars: [1.5, 2, 3, 9])   // entries 0 and 3 selected
        tunedB.weight = Tensor(shape: [2, 2], scalars: [1, 2, 2, 6])     // entries 2 and 3 selected
        let a = SparseAdapter.difference(base: base, tuned: tunedA, selection: ParameterMasks([name: Tensor(shape: [2, 2], scalars: [1, 0, 0, 1])]))
        let b = SparseAdapter.difference(base: base, tuned: tunedB, selection: ParameterMasks([name: Tensor(shape: [2, 2], scalars: [0, 0, 1, 1])]))
        XCTAssertEqual(a.deltas[name]?.indices, [0, 3])
        XCTAssertEqual(a.deltas[name]?.values, [0.5, 5])
        // mean: entry 3 is changed by both (5 and 2) -> 3.5; uniform: every sum / 2.
        XCTAssertEqual(SparseAdapter.merge([a, b], rule: .mean).deltas[name]?.values, [0.5, -1, 3.5])
        XCTAssertEqual(SparseAdapter.merge([a, b], rule: .uniform).deltas[name]?.values, [0.25, -0.5, 3.5])
        var merged = base
        try SparseAdapter.merge([a, b], rule: .mean).apply(to: &merged)
        XCTAssertEqual(merged.weight.scalars, [1.5, 2, 2, 7.5])

        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try a.write(to: directory.file("adapter.safetensors"))
        XCTAssertEqual(try SparseAdapter.read(directory.file("adapter.safetensors")), a)
        try SparseExport.write(base, masks: ParameterMasks(), to: directory.file("not-an-adapter.safetensors"))
        XCTAssertThrowsError(try SparseAdapter.read(directory.file("not-an-adapter.safetensors"))) { XCTAssertTrue("\($0)".contains("fmridyn adapt"), "\($0)") }
    }
}
