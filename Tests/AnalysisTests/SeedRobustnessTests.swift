import Core
import TestSupport
import XCTest

@testable import Analysis

final class SeedRobustnessTests: XCTestCase {
    func testProcrustesRecoversARotation() {
        var random = RandomSource(seed: 2)
        let rotation = SeedRobustness.randomRotation(dimension: 3, random: &random)
        let target = (0..<50).map { _ in (0..<3).map { _ in random.normal() } }
        // source = (target - shift) R^T, so aligning source to target must give back target exactly.
        let source = target.map { t in (0..<3).map { i in (0..<3).reduce(0.0) { $0 + (t[$1] - 1.5) * rotation[i][$1] } } }
        let solution = SeedRobustness.procrustes(source: source, target: target)
        for (s, t) in zip(source, target) { XCTAssertClose(SeedRobustness.align(s, solution), t, absolute: 1e-10, relative: 0) }
    }

    func testAffineAlignmentRecoversAnAffineMap() {
        var random = RandomSource(seed: 4)
        let map = (0..<3).map { _ in (0..<3).map { _ in random.normal() } }
        let source = (0..<40).map { _ in (0..<3).map { _ in random.normal() } }
        let target = source.map { s -> [Double] in
            (0..<3).map { j -> Double in
                var value = 0.5 * Double(j)
                for i in 0..<3 { value += s[i] * map[i][j] }
                return value
            }
        }
        let solution = SeedRobustness.affine(source: source, target: target)
        XCTAssertClose(solution.rotation.flatMap { $0 }, map.flatMap { $0 }, absolute: 1e-10, relative: 0)
        for (s, t) in zip(source, target) { XCTAssertClose(SeedRobustness.align(s, solution), t, absolute: 1e-10, relative: 0) }
        XCTAssertEqual(SeedRobustness.explainedVariance(source.map { SeedRobustness.align($0, solution) }, target), 1, accuracy: 1e-12)
        // A rotation cannot undo a shear: Procrustes leaves a residual.
        let rotated = SeedRobustness.procrustes(source: source, target: target)
        XCTAssertLessThan(SeedRobustness.explainedVariance(source.map { SeedRobustness.align($0, rotated) }, target), 0.999)
    }

    func testHungarianAgainstBruteForce() {
        var random = RandomSource(seed: 3)
        for (rows, columns) in [(4, 4), (3, 5), (5, 3)] {
            let cost = (0..<rows).map { _ in (0..<columns).map { _ in random.uniform() } }
            let assignment = SeedRobustness.assignment(cost)
            var total = 0.0
            for (row, column) in assignment.enumerated() { if let column { total += cost[row][column] } }
            XCTAssertEqual(assignment.compactMap { $0 }.count, min(rows, columns))
            XCTAssertEqual(Set(assignment.compactMap { $0 }).count, min(rows, columns), "distinct columns")
            // Brute force over all injective maps of the smaller side.
            func best(_ row: Int, _ used: Set<Int>) -> Double {
                if row == rows { return 0 }
                var result = Double.infinity
                if rows - row > columns - used.count { result = best(row + 1, used) }  // leave this row unmatched
                for column in 0..<columns where !used.contains(column) { result = min(result, cost[row][column] + best(row + 1, used.union([column]))) }
                return result
            }
            XCTAssertEqual(total, best(0, []), accuracy: 1e-12, "\(rows)x\(columns)")
        }
    }

    func testMatchingStatistics() {
        let reference = [[1.0, 1], [-1, -1], [1, -1]]
        let other = [[-1.05, -1], [1.0, 1.02], [3, 3]]
        let (distances, fraction) = SeedRobustness.match(reference, other, threshold: 0.1)
        XCTAssertEqual(distances.count, 3)
        XCTAssertEqual(fraction, 2.0 / 3, accuracy: 1e-12)
    }
}
