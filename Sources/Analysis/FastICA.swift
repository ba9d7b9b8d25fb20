import LinearAlgebra
import CLinearAlgebra
import Core
import Foundation

/// FastICA with scikit-learn's defaults: parallel (symmetric) updates, logcosh contrast
/// (alpha 1), whitening to unit variance (1/n) by PCA, at most 200 iterations, tolerance 1e-4 on the
/// change of the unmixing matrix, seeded Gaussian initial matrix.
public struct FastICA: Sendable {
    public private(set) var mean: [Double] = []
    /// [components x features]: sources = (x - mean) unmixing^T.
    public private(set) var unmixing: [[Double]] = []
    public private(set) var iterations = 0

    /// - Throws: `FastICAError` when the data are not finite or the decorrelation's
    ///   eigen-decomposition fails.
    public init(fitting x: [[Double]], components k: Int, maxIterations: Int = 200, tolerance: Double = 1e-4, seed: UInt64 = 0) throws {
        guard x.allSatisfy({ $0.allSatisfy(\.isFinite) }) else { throw FastICAError("the data contain NaN or infinite values; clean or drop those volumes first") }
        let n = x.count
        let pca = PCA(fitting: x, components: k)
        mean = pca.mean
        // Whitening: project on the components and scale each to unit variance with the 1/n
        // normalisation scikit-learn uses (logcosh is not scale-free, so this fixes the solution).
        let biasCorrection = Double(n - 1) / Double(n)
        let scales = pca.explainedVariance.map { 1 / ($0 * biasCorrection).squareRoot() }
        let whitening = zip(pca.components, scales).map { component, scale in component.map { $0 * scale } }
        let white = pca.transform(x).map { scores in zip(scores, scales).map { $0 * $1 } }
        var random = RandomSource(seed: seed)
        var w = try Self.symmetricDecorrelation((0..<k).map { _ in (0..<k).map { _ in random.normal() } })
        for iteration in 1...maxIterations {
            iterations = iteration
            // W+ = E[g(W x) x^T] - diag(E[g'(W x)]) W, g = tanh.
            var next = [[Double]](repeating: [Double](repeating: 0, count: k), count: k)
            var derivative = [Double](repeating: 0, count: k)
            for row in white {
                for i in 0..<k {
                    let projection = zip(w[i], row).reduce(0) { $0 + $1.0 * $1.1 }
                    let g = Foundation.tanh(projection)
                    derivative[i] += 1 - g * g
                    for j in 0..<k { next[i][j] += g * row[j] }
                }
            }
            let count = Double(n)
            for i in 0..<k {
                let meanDerivative = derivative[i] / count
                for j in 0..<k {
                    let expectation = next[i][j] / count
                    next[i][j] = expectation - meanDerivative * w[i][j]
                }
            }
            next = try Self.symmetricDecorrelation(next)
            // Convergence: max |1 - |<w_new_i, w_i>||.
            var change = 0.0
            for i in 0..<k {
                let overlap = zip(next[i], w[i]).reduce(0.0) { $0 + $1.0 * $1.1 }
                change = max(change, abs(abs(overlap) - 1))
            }
            w = next
            if change < tolerance { break }
        }
        unmixing = w.map { wi in (0..<x[0].count).map { f in (0..<k).reduce(0.0) { $0 + wi[$1] * whitening[$1][f] } } }
    }

    public func transform(_ x: [[Double]]) -> [[Double]] {
        x.map { row in
            let centered = zip(row, mean).map { $0 - $1 }
            return unmixing.map { u in zip(u, centered).reduce(0) { $0 + $1.0 * $1.1 } }
        }
    }

    /// W (W^T W)^(-1/2) via the eigen-decomposition of W W^T (LAPACK dsyev).
    static func symmetricDecorrelation(_ w: [[Double]]) throws -> [[Double]] {
        let k = w.count
        var s = [Double](repeating: 0, count: k * k)
        for i in 0..<k { for j in 0..<k { s[i * k + j] = zip(w[i], w[j]).reduce(0) { $0 + $1.0 * $1.1 } } }
        let values: [Double]
        do {
            values = try DenseLinearAlgebra.symmetricEigen(&s, n: k)
        } catch {
            throw FastICAError("the eigen-decomposition of W W^T failed (\(error))")
        }
        // (W W^T)^(-1/2) = V diag(1/sqrt(d)) V^T
        var inverseRoot = [[Double]](repeating: [Double](repeating: 0, count: k), count: k)
        for i in 0..<k { for j in 0..<k { for m in 0..<k { inverseRoot[i][j] += s[i * k + m] * s[j * k + m] / max(values[m], 1e-300).squareRoot() } } }
        return (0..<k).map { i in (0..<k).map { j in (0..<k).reduce(0.0) { $0 + inverseRoot[i][$1] * w[$1][j] } } }
    }
}

/// Why FastICA could not fit.
public struct FastICAError: Error, CustomStringConvertible, Sendable {
    public let message: String
    init(_ message: String) { self.message = message }
    public var description: String { "FastICA: " + message }
}
