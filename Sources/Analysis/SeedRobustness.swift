import CLinearAlgebra
import Core
import Foundation

/// Aligning latent spaces of models fitted with different seeds, and matching their fixed points.
public enum SeedRobustness {
    /// The orthogonal matrix R minimising |(S - mean S) R - (T - mean T)| (orthogonal Procrustes):
    /// with (S - mean S)^T (T - mean T) = U Sigma V^T, R = U V^T. Rows are time points.
    public static func procrustes(source: [[Double]], target: [[Double]]) -> (rotation: [[Double]], sourceMean: [Double], targetMean: [Double]) {
        let k = source[0].count, n = source.count
        let ms = (0..<k).map { c in source.reduce(0) { $0 + $1[c] } / Double(n) }
        let mt = (0..<k).map { c in target.reduce(0) { $0 + $1[c] } / Double(n) }
        var m = [Double](repeating: 0, count: k * k)  // row-major k x k
        for r in 0..<n { for i in 0..<k { for j in 0..<k { m[i * k + j] += (source[r][i] - ms[i]) * (target[r][j] - mt[j]) } } }
        var s = [Double](repeating: 0, count: k), u = [Double](repeating: 0, count: k * k), vt = [Double](repeating: 0, count: k * k)
        _ = LAPACKE_dgesdd(LAPACK_ROW_MAJOR, Int8(UInt8(ascii: "A")), Int32(k), Int32(k), &m, Int32(k), &s, &u, Int32(k), &vt, Int32(k))
        let rotation = (0..<k).map { i in (0..<k).map { j in (0..<k).reduce(0.0) { $0 + u[i * k + $1] * vt[$1 * k + j] } } }
        return (rotation, ms, mt)
    }

    /// Maps a state of the source space into the target space with a Procrustes solution.
    public static func align(_ z: [Double], _ solution: (rotation: [[Double]], sourceMean: [Double], targetMean: [Double])) -> [Double] {
        let k = z.count
        return (0..<k).map { j in solution.targetMean[j] + (0..<k).reduce(0.0) { $0 + (z[$1] - solution.sourceMean[$1]) * solution.rotation[$1][j] } }
    }

    /// A minimum-cost assignment of rows to columns (Hungarian algorithm, rectangular allowed):
    /// for each row, its column or nil when there are more rows than columns.
    public static func assignment(_ cost: [[Double]]) -> [Int?] {
        let rows = cost.count, columns = cost.first?.count ?? 0
        guard rows > 0, columns > 0 else { return Array(repeating: nil, count: rows) }
        let n = max(rows, columns)
        let big = (cost.flatMap { $0 }.max() ?? 0) * 10 + 1
        let a = (0..<n).map { i in (0..<n).map { j in i < rows && j < columns ? cost[i][j] : big } }
        // Potentials-based O(n^3) Hungarian (1-indexed internally).
        var u = [Double](repeating: 0, count: n + 1), v = [Double](repeating: 0, count: n + 1)
        var p = [Int](repeating: 0, count: n + 1), way = [Int](repeating: 0, count: n + 1)
        for i in 1...n {
            p[0] = i
            var j0 = 0
            var minv = [Double](repeating: .infinity, count: n + 1)
            var used = [Bool](repeating: false, count: n + 1)
            repeat {
                used[j0] = true
                let i0 = p[j0]
                var delta = Double.infinity, j1 = 0
                for j in 1...n where !used[j] {
                    let current = a[i0 - 1][j - 1] - u[i0] - v[j]
                    if current < minv[j] { minv[j] = current; way[j] = j0 }
                    if minv[j] < delta { delta = minv[j]; j1 = j }
                }
                for j in 0...n {
                    if used[j] { u[p[j]] += delta; v[j] -= delta } else { minv[j] -= delta }
                }
                j0 = j1
            } while p[j0] != 0
            repeat {
                let j1 = way[j0]
                p[j0] = p[j1]
                j0 = j1
            } while j0 != 0
        }
        var result = [Int?](repeating: nil, count: rows)
        for j in 1...n where p[j] >= 1 && p[j] <= rows && j <= columns { result[p[j] - 1] = j - 1 }
        return result
    }

    /// Matching statistics of two fixed-point sets already in the same space.
    public static func match(_ reference: [[Double]], _ other: [[Double]], threshold: Double) -> (distances: [Double], fractionMatched: Double) {
        guard !reference.isEmpty, !other.isEmpty else { return ([], 0) }
        func distance(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }.squareRoot() }
        let cost = reference.map { r in other.map { distance(r, $0) } }
        let pairs = assignment(cost)
        let distances = pairs.enumerated().compactMap { row, column in column.map { cost[row][$0] } }
        return (distances, Double(distances.filter { $0 <= threshold }.count) / Double(reference.count))
    }

    /// A uniformly random orthogonal matrix (QR of a Gaussian matrix, sign-fixed).
    public static func randomRotation(dimension k: Int, random: inout RandomSource) -> [[Double]] {
        let q: Tensor<Double> = Initializer.orthogonal().make([k, k], using: &random)
        return (0..<k).map { Array(q.scalars[($0 * k)..<(($0 + 1) * k)]) }
    }
}
