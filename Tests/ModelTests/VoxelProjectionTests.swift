import Core
import Foundation
import NIfTI
import Preprocessing
import TestSupport
import XCTest

@testable import Model

/// Voxel-mode PCA through the Gram matrix.
final class VoxelProjectionTests: XCTestCase {
    /// Two runs of rank-3 data over 500 "voxels" (T = 40 + 30 volumes).
    func makeRuns() -> [SignalMatrix] {
        var random = RandomSource(seed: 21)
        let patterns = (0..<3).map { _ in (0..<500).map { _ in random.normal() } }
        return [40, 30].map { volumes in
            var matrix = SignalMatrix(timePoints: volumes, columns: 500)
            let scores = (0..<volumes).map { _ in [3 * random.normal(), 2 * random.normal(), random.normal()] }
            for t in 0..<volumes { for v in 0..<500 { matrix[t, v] = 0.5 + (0..<3).reduce(0.0) { $0 + scores[t][$1] * patterns[$1][v] } } }
            return matrix
        }
    }

    func testAxesAreOrthonormalAndReconstructRankThreeData() throws {
        let runs = makeRuns()
        let grid = Grid(shape: [10, 10, 5], affine: .identity)
        let projection = try VoxelProjection(fitting: runs, components: 3, grid: grid, voxelIndices: Array(0..<500))
        for a in 0..<3 {
            for b in 0..<3 {
                var dot = 0.0
                for v in 0..<500 { dot += Double(projection.axes[a * 500 + v]) * Double(projection.axes[b * 500 + v]) }
                XCTAssertEqual(dot, a == b ? 1 : 0, accuracy: 1e-4, "axes \(a), \(b)")
            }
        }
        XCTAssertEqual(projection.explainedVariance, projection.explainedVariance.sorted(by: >))
        // Scores of the training volumes have the recorded variances, and mean + scores . axes
        // gives the volumes back (the data are exactly rank 3).
        let scores = try runs.map { try projection.project($0) }
        let all = scores.flatMap { s in (0..<s.timePoints).map { t in (0..<3).map { s[t, $0] } } }
        for k in 0..<3 {
            let values = all.map { $0[k] }
            let mean = values.reduce(0, +) / Double(values.count)
            let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count - 1)
            XCTAssertEqual(mean, 0, accuracy: 1e-3)
            XCTAssertEqual(variance, projection.explainedVariance[k], accuracy: 1e-3 * projection.explainedVariance[k])
        }
        var worst = 0.0
        for (run, score) in zip(runs, scores) {
            for t in 0..<run.timePoints {
                let back = projection.voxelMap((0..<3).map { score[t, $0] })
                for v in 0..<500 { worst = max(worst, abs(back[v] + Double(projection.mean[v]) - run[t, v])) }
            }
        }
        XCTAssertLessThan(worst, 1e-3)

        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try projection.save(to: directory.path)
        let loaded = try XCTUnwrap(try VoxelProjection.load(from: directory.path))
        XCTAssertEqual(loaded.axes, projection.axes)
        XCTAssertEqual(loaded.grid, grid)
        XCTAssertEqual(loaded.voxelIndices, Array(0..<500))
        XCTAssertNil(try VoxelProjection.load(from: directory.file("none")))
        XCTAssertThrowsError(try VoxelProjection(fitting: runs, components: 70, grid: grid, voxelIndices: Array(0..<500))) {
            XCTAssertTrue("\($0)".contains("`voxelPCA`"), "\($0)")
        }
    }

    /// Fed one run at a time, the incremental PCA equals the exact one when the data's rank is
    /// within the retained axes (rank 3 plus the runs' different means, 35 retained).
    func testIncrementalFitEqualsExactPCAOnLowRankData() throws {
        let runs = makeRuns()
        let grid = Grid(shape: [10, 10, 5], affine: .identity)
        let exact = try VoxelProjection(fitting: runs, components: 3, grid: grid, voxelIndices: Array(0..<500))
        var incremental = VoxelProjection.IncrementalFit(components: 3)
        for run in runs { try incremental.add(run) }
        let streamed = try incremental.projection(grid: grid, voxelIndices: Array(0..<500))
        for (a, b) in zip(streamed.axes, exact.axes) { XCTAssertEqual(a, b, accuracy: 1e-5) }
        for (a, b) in zip(streamed.mean, exact.mean) { XCTAssertEqual(a, b, accuracy: 1e-5) }
        for (a, b) in zip(streamed.explainedVariance, exact.explainedVariance) { XCTAssertEqual(a, b, accuracy: 1e-9 * b) }
        // The total variance it tracks is the data's (sum of voxel variances).
        var total = 0.0
        for v in 0..<500 {
            let values = runs.flatMap { run in (0..<run.timePoints).map { run[$0, v] } }
            let mean = values.reduce(0, +) / Double(values.count)
            total += values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count - 1)
        }
        XCTAssertEqual(incremental.totalVariance, total, accuracy: 1e-9 * total)
    }

    /// Full-rank data (rank-6 signal plus noise, four runs, 300 voxels) with 3 components and 4
    /// extra axes kept between runs: the leading axes and variances match the exact PCA's.
    func testIncrementalFitApproximatesFullRankData() throws {
        var random = RandomSource(seed: 5)
        let voxels = 300
        let patterns = (0..<6).map { _ in (0..<voxels).map { _ in random.normal() } }
        let scales = [5.0, 3.0, 2.0, 1.0, 0.7, 0.5]
        let runs = (0..<4).map { _ -> SignalMatrix in
            var matrix = SignalMatrix(timePoints: 30, columns: voxels)
            for t in 0..<30 {
                let scores = scales.map { $0 * random.normal() }
                for v in 0..<voxels { matrix[t, v] = (0..<6).reduce(0.0) { $0 + scores[$1] * patterns[$1][v] } + 0.3 * random.normal() }
            }
            return matrix
        }
        let grid = Grid(shape: [10, 10, 3], affine: .identity)
        let exact = try VoxelProjection(fitting: runs, components: 3, grid: grid, voxelIndices: Array(0..<voxels))
        var incremental = VoxelProjection.IncrementalFit(components: 3, oversampling: 4)
        for run in runs { try incremental.add(run) }
        let streamed = try incremental.projection(grid: grid, voxelIndices: Array(0..<voxels))
        for k in 0..<3 {
            var dot = 0.0
            for v in 0..<voxels { dot += Double(streamed.axes[k * voxels + v]) * Double(exact.axes[k * voxels + v]) }
            // With 0-2 extra axes the errors are 1e-6 to 3e-4 (measured); with 4 (rank 6 <= 7 kept) about 1e-8.
            XCTAssertLessThan(1 - abs(dot), 1e-7, "axis \(k)")
            XCTAssertEqual(streamed.explainedVariance[k], exact.explainedVariance[k], accuracy: 1e-6 * exact.explainedVariance[k])
        }
    }
}
