import LinearAlgebra
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
        // A failed SVD (non-finite latents) gives the zero map, which matches nothing.
        let (u, _, vt) = (try? DenseLinearAlgebra.svd(m, rows: k, columns: k, full: true))
            ?? ([Double](repeating: 0, count: k * k), [], [Double](repeating: 0, count: k * k))
        let rotation = (0..<k).map { i in (0..<k).map { j in (0..<k).reduce(0.0) { $0 + u[i * k + $1] * vt[$1 * k + j] } } }
        return (rotation, ms, mt)
    }

    /// The affine map minimising |(S - mean S) A - (T - mean T)| by least squares (LAPACK
    /// dgelsd): A = (S_c^T S_c)^+ S_c^T T_c, returned in the same form as `procrustes` (A in
    /// place of the rotation). Reflections, scalings and shears are all allowed.
    public static func affine(source: [[Double]], target: [[Double]]) -> (rotation: [[Double]], sourceMean: [Double], targetMean: [Double]) {
        let k = source[0].count, n = source.count
        let ms = (0..<k).map { c in source.reduce(0) { $0 + $1[c] } / Double(n) }
        let mt = (0..<k).map { c in target.reduce(0) { $0 + $1[c] } / Double(n) }
        var a = [Double](repeating: 0, count: n * k), b = [Double](repeating: 0, count: n * k)
        for r in 0..<n { for c in 0..<k { a[r * k + c] = source[r][c] - ms[c]; b[r * k + c] = target[r][c] - mt[c] } }
        b = (try? DenseLinearAlgebra.leastSquaresSVD(a, b, rows: n, columns: k, rightHandSides: k).solution) ?? [Double](repeating: 0, count: k * k)
        let matrix = (0..<k).map { i in (0..<k).map { j in b[i * k + j] } }
        return (matrix, ms, mt)
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

    /// How one latent space is mapped onto another.
    public enum Alignment: String, Sendable, CaseIterable {
        /// Orthogonal Procrustes (rotation or reflection, plus translation).
        case orthogonal
        /// Least-squares affine map (plus translation).
        case affine
    }

    /// One model compared with the reference.
    public struct Comparison: Sendable {
        /// R^2 of the aligned latents against the reference's (pooled over dimensions).
        public var alignmentR2: Double
        public var fixedPoints: Int
        /// Hungarian-matched distances of the reference's fixed points to this model's (aligned).
        public var matchedDistances: [Double]
        public var fractionMatched: Double
        public var nullFractionMatched: Double
        public var nullMeanDistance: Double
        public var meanDistance: Double { matchedDistances.isEmpty ? .nan : matchedDistances.reduce(0, +) / Double(matchedDistances.count) }
    }

    /// Compares models 1... with model 0: `latents[m]` are model m's latents on the same volumes,
    /// `points[m]` its fixed points. The null replaces the fitted map by a random rotation
    /// (scaled by the map's RMS singular value for affine alignment, so distances stay comparable),
    /// averaged over `nullSamples` draws.
    public static func compare(latents: [[[Double]]], points: [[[Double]]], alignment: Alignment = .orthogonal,
                               matchDistance: Double, nullSamples: Int, seed: UInt64) -> [Comparison] {
        var random = RandomSource(seed: seed)
        let mean = { (values: [Double]) in values.isEmpty ? Double.nan : values.reduce(0, +) / Double(values.count) }
        return (1..<max(1, latents.count)).map { index in
            let solution = alignment == .affine ? affine(source: latents[index], target: latents[0])
                                                : procrustes(source: latents[index], target: latents[0])
            let aligned = latents[index].map { align($0, solution) }
            let (distances, fraction) = match(points[0], points[index].map { align($0, solution) }, threshold: matchDistance)
            let k = latents[0][0].count
            let scale = alignment == .affine ? (solution.rotation.flatMap { $0 }.reduce(0) { $0 + $1 * $1 } / Double(k)).squareRoot() : 1
            var nullFractions: [Double] = [], nullDistances: [Double] = []
            for _ in 0..<nullSamples {
                let rotation = randomRotation(dimension: k, random: &random).map { $0.map { $0 * scale } }
                let randomSolution = (rotation: rotation, sourceMean: solution.sourceMean, targetMean: solution.targetMean)
                let (d, f) = match(points[0], points[index].map { align($0, randomSolution) }, threshold: matchDistance)
                nullFractions.append(f)
                nullDistances += d
            }
            return Comparison(alignmentR2: explainedVariance(aligned, latents[0]), fixedPoints: points[index].count, matchedDistances: distances,
                              fractionMatched: fraction, nullFractionMatched: mean(nullFractions), nullMeanDistance: mean(nullDistances))
        }
    }

    /// R^2 of `aligned` against `reference` (pooled over dimensions).
    public static func explainedVariance(_ aligned: [[Double]], _ reference: [[Double]]) -> Double {
        let k = reference[0].count
        var residual = 0.0, total = 0.0
        for c in 0..<k {
            let mean = reference.reduce(0) { $0 + $1[c] } / Double(reference.count)
            for (a, r) in zip(aligned, reference) { residual += (a[c] - r[c]) * (a[c] - r[c]); total += (r[c] - mean) * (r[c] - mean) }
        }
        return total > 0 ? 1 - residual / total : .nan
    }

    /// A uniformly random orthogonal matrix (QR of a Gaussian matrix, sign-fixed).
    public static func randomRotation(dimension k: Int, random: inout RandomSource) -> [[Double]] {
        let q: Tensor<Double> = Initializer.orthogonal().make([k, k], using: &random)
        return (0..<k).map { Array(q.scalars[($0 * k)..<(($0 + 1) * k)]) }
    }
}
