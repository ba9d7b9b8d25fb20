import Foundation
import LinearAlgebra
import XCTest

/// The three routes of `PrincipalComponents` against an analytic case: samples
/// x_t = mu + sum_k a_k cos(2 pi k t / n) h_k with orthonormal Hadamard rows h_k, so the
/// scores are exactly centred and uncorrelated, the axes are the h_k and the variances
/// a_k^2 (n / 2) / (n - 1).
final class PrincipalComponentsTests: XCTestCase {
    let n = 48, d = 8
    let amplitudes = [3.0, 2.0, 1.0]
    let offset = [1.0, -2, 0.5, 3, 0, -1, 2, 4]

    /// Rows 1, 2 and 3 of the 8 x 8 Sylvester-Hadamard matrix divided by sqrt(8), with
    /// features 0 and 1 rotated by 0.3 rad (still orthonormal; no ties in magnitude there).
    func axis(_ k: Int) -> [Double] {
        var row = (0..<d).map { j in (((k + 1) & j).nonzeroBitCount % 2 == 0 ? 1.0 : -1.0) / Double(d).squareRoot() }
        let (c, s) = (cos(0.3), sin(0.3))
        (row[0], row[1]) = (c * row[0] - s * row[1], s * row[0] + c * row[1])
        return row
    }

    func samples() -> [[Double]] {
        let axes = (0..<3).map(axis)
        return (0..<n).map { t -> [Double] in
            var row = offset
            for k in 0..<3 {
                let phase = 2 * Double.pi * Double(k + 1) * Double(t) / Double(n)
                let score: Double = amplitudes[k] * cos(phase)
                for j in 0..<d { row[j] += score * axes[k][j] }
            }
            return row
        }
    }

    /// Column-major blocks of `size` samples.
    func blocks(_ rows: [[Double]], size: Int) -> [(values: [Double], rows: Int)] {
        stride(from: 0, to: rows.count, by: size).map { start in
            let block = Array(rows[start..<min(start + size, rows.count)])
            return ((0..<d).flatMap { j in block.map { $0[j] } }, block.count)
        }
    }

    func assertAnalytic(_ fit: PrincipalComponents, signed: Bool, _ label: String) {
        XCTAssertEqual(fit.count, 3, label)
        for j in 0..<d { XCTAssertEqual(fit.mean[j], offset[j], accuracy: 1e-12, "\(label) mean \(j)") }
        for k in 0..<3 {
            XCTAssertEqual(fit.explainedVariance[k], amplitudes[k] * amplitudes[k] * Double(n) / 2 / Double(n - 1), accuracy: 1e-10, "\(label) variance \(k)")
            let row = Array(fit.axes[(k * d)..<((k + 1) * d)])
            let dot = zip(row, axis(k)).reduce(0) { $0 + $1.0 * $1.1 }
            XCTAssertEqual(abs(dot), 1, accuracy: 1e-10, "\(label) axis \(k)")
            if signed {
                // The largest-magnitude loading is positive.
                let largest = row.indices.max { abs(row[$0]) < abs(row[$1]) } ?? 0
                XCTAssertGreaterThan(row[largest], 0, "\(label) axis \(k) sign")
            }
        }
    }

    func testTheThreeRoutesRecoverTheAnalyticAxesAndVariances() throws {
        let rows = samples()
        assertAnalytic(PrincipalComponents(rows: rows, components: 3), signed: false, "svd")
        assertAnalytic(try PrincipalComponents(gramOf: blocks(rows, size: 48), components: 3), signed: true, "gram, one block")
        assertAnalytic(try PrincipalComponents(gramOf: blocks(rows, size: 20), components: 3), signed: true, "gram, three blocks")
        var incremental = PrincipalComponents.Incremental(components: 3, oversampling: 2)
        for block in blocks(rows, size: 12) { try incremental.add(block.values, rows: block.rows) }
        assertAnalytic(incremental.result(), signed: true, "incremental")
        // Total variance: the three variances (the data have rank 3).
        let total = amplitudes.reduce(0) { $0 + $1 * $1 } * Double(n) / 2 / Double(n - 1)
        XCTAssertEqual(incremental.totalVariance, total, accuracy: 1e-10)
        // Scores: the cosines times their amplitudes, up to the axis sign.
        let svd = PrincipalComponents(rows: rows, components: 3)
        let scores = svd.transform(rows)
        for k in 0..<3 {
            let sign = zip(Array(svd.axes[(k * d)..<((k + 1) * d)]), axis(k)).reduce(0) { $0 + $1.0 * $1.1 } > 0 ? 1.0 : -1.0
            for t in [0, 5, 17] {
                XCTAssertEqual(scores[t][k], sign * amplitudes[k] * cos(2 * Double.pi * Double(k + 1) * Double(t) / Double(n)), accuracy: 1e-10)
            }
        }
    }
}
