import Foundation

/// A Gaussian mixture with full covariances fitted by expectation-maximisation, as
/// scikit-learn's `GaussianMixture(covariance_type="full", init_params="kmeans")`: each of
/// `initialisations` starts is k-means (k-means++ seeding, Lloyd iterations) followed by EM
/// until the mean log-likelihood per sample changes by less than `tolerance`; the start with
/// the highest final mean log-likelihood is kept. `regularisation` is added to every
/// covariance's diagonal (scikit-learn's `reg_covar`).
///
/// Sizes are those of latent states (a few dimensions, a few thousand samples, a handful of
/// components), so the Cholesky factors are computed here rather than through LAPACK.
public struct GaussianMixture: Sendable {
    /// Dimension d of the samples.
    public let dimension: Int
    /// [m] mixing weights (sum 1).
    public let weights: [Double]
    /// [m][d] component means.
    public let means: [[Double]]
    /// [m] row-major d x d covariances.
    public let covariances: [[Double]]
    /// Mean log-likelihood per sample of the fitted data at the kept start.
    public let meanLogLikelihood: Double
    /// Whether the kept start's EM converged within the iteration limit.
    public let converged: Bool

    /// Lower-triangular Cholesky factors of the covariances (row-major d x d).
    let choleskyFactors: [[Double]]

    public var count: Int { weights.count }

    public struct FitError: Error, CustomStringConvertible {
        public let description: String
    }

    /// - Parameters:
    ///   - x: n samples of d features (n >= components).
    ///   - components: m >= 1.
    ///   - random: the k-means++ seeding's randomness (pass a seeded generator for repeatable fits).
    public init<G: RandomNumberGenerator>(fitting x: [[Double]], components m: Int, initialisations: Int = 3,
                                          maxIterations: Int = 100, tolerance: Double = 1e-3, regularisation: Double = 1e-6,
                                          using random: inout G) throws {
        let n = x.count, d = x.first?.count ?? 0
        guard m >= 1, d >= 1, n >= m else {
            throw FitError(description: "a Gaussian mixture of \(m) components needs at least \(m) samples of at least one feature (got \(n) of \(d))")
        }
        guard x.allSatisfy({ $0.count == d && $0.allSatisfy(\.isFinite) }) else {
            throw FitError(description: "a Gaussian mixture needs finite samples of equal length")
        }
        var best: Fit?
        for _ in 0..<max(1, initialisations) {
            let labels = Self.kMeans(x, clusters: m, using: &random)
            var responsibilities = [Double](repeating: 0, count: n * m)
            for i in 0..<n { responsibilities[i * m + labels[i]] = 1 }
            var fit = Self.maximisation(x, responsibilities: responsibilities, components: m, regularisation: regularisation)
            var previous = -Double.infinity
            var done = false
            for _ in 0..<maxIterations {
                let (logLikelihood, r) = Self.expectation(x, fit)
                fit = Self.maximisation(x, responsibilities: r, components: m, regularisation: regularisation)
                fit.meanLogLikelihood = logLikelihood
                if abs(logLikelihood - previous) < tolerance { done = true; break }
                previous = logLikelihood
            }
            // Score the parameters that are returned (scikit-learn's `score`), not the last E-step's.
            fit.meanLogLikelihood = Self.expectation(x, fit).0
            fit.converged = done
            if best == nil || fit.meanLogLikelihood > best?.meanLogLikelihood ?? -.infinity { best = fit }
        }
        guard let best, best.meanLogLikelihood.isFinite else { throw FitError(description: "the Gaussian mixture's likelihood is not finite") }
        dimension = d
        weights = best.weights
        means = best.means
        covariances = best.covariances
        choleskyFactors = best.factors
        meanLogLikelihood = best.meanLogLikelihood
        converged = best.converged
    }

    /// A mixture with given parameters (not fitted): `weights` [m] (normalised here to sum 1),
    /// `means` [m][d], `covariances` [m] row-major d x d (symmetric positive definite).
    /// `meanLogLikelihood` is nan and `converged` true.
    public init(weights: [Double], means: [[Double]], covariances: [[Double]]) throws {
        let m = weights.count, d = means.first?.count ?? 0
        guard m >= 1, d >= 1, means.count == m, covariances.count == m, means.allSatisfy({ $0.count == d }),
              covariances.allSatisfy({ $0.count == d * d }) else {
            throw FitError(description: "a Gaussian mixture needs as many means and d x d covariances as weights (got \(m) weights, \(means.count) means, \(covariances.count) covariances)")
        }
        let total = weights.reduce(0, +)
        guard weights.allSatisfy({ $0 >= 0 && $0.isFinite }), total > 0, means.joined().allSatisfy(\.isFinite),
              covariances.joined().allSatisfy(\.isFinite) else {
            throw FitError(description: "a Gaussian mixture needs finite parameters and non-negative weights with a positive sum")
        }
        for c in covariances {
            for a in 0..<d where c[a * d + a] <= 0 {
                throw FitError(description: "a Gaussian mixture's covariances need positive diagonals")
            }
        }
        dimension = d
        self.weights = weights.map { $0 / total }
        self.means = means
        self.covariances = covariances
        choleskyFactors = covariances.map { Self.cholesky($0, dimension: d) }
        meanLogLikelihood = .nan
        converged = true
    }

    /// Posterior probabilities [n][m] of the components for samples `x` [n][d]. With a
    /// temperature T != 1 they are tempered, r_j proportional to (w_j N(x; mu_j, S_j))^(1/T):
    /// T > 1 softens the boundaries between components (T -> infinity: uniform), T < 1 sharpens
    /// them.
    public func responsibilities(_ x: [[Double]], temperature: Double = 1) -> [[Double]] {
        precondition(temperature > 0 && temperature.isFinite, "responsibilities: the temperature must be positive and finite")
        let fit = Fit(weights: weights, means: means, covariances: covariances, factors: choleskyFactors)
        let (_, r) = Self.expectation(x, fit, temperature: temperature)
        let m = count
        return x.indices.map { i in Array(r[(i * m)..<((i + 1) * m)]) }
    }

    /// Gradients [m][d] of each component's log density at x [d]: -S_j^{-1} (x - mu_j), by two
    /// triangular solves with the Cholesky factor S_j = L L^T.
    public func logDensityGradients(at x: [Double]) -> [[Double]] {
        let d = dimension
        return (0..<count).map { j in
            let l = choleskyFactors[j]
            var y = [Double](repeating: 0, count: d)
            for a in 0..<d {
                var value = x[a] - means[j][a]
                for b in 0..<a { value -= l[a * d + b] * y[b] }
                y[a] = value / l[a * d + a]
            }
            // L^T g = y, then the gradient is -g.
            var g = [Double](repeating: 0, count: d)
            for a in stride(from: d - 1, through: 0, by: -1) {
                var value = y[a]
                for b in (a + 1)..<d { value -= l[b * d + a] * g[b] }
                g[a] = value / l[a * d + a]
            }
            return g.map { -$0 }
        }
    }

    /// Mean log-likelihood per sample of `x`.
    public func meanLogLikelihood(_ x: [[Double]]) -> Double {
        Self.expectation(x, Fit(weights: weights, means: means, covariances: covariances, factors: choleskyFactors)).0
    }

    struct Fit {
        var weights: [Double]
        var means: [[Double]]
        var covariances: [[Double]]
        var factors: [[Double]]
        var meanLogLikelihood = -Double.infinity
        var converged = false
    }

    /// The E-step: the mean log-likelihood and the responsibilities (row-major n x m), the
    /// latter tempered by `temperature` (the log-likelihood is the untempered one's only at 1).
    static func expectation(_ x: [[Double]], _ fit: Fit, temperature: Double = 1) -> (Double, [Double]) {
        let n = x.count, m = fit.weights.count, d = fit.means.first?.count ?? 0
        var logDensity = [Double](repeating: 0, count: n * m)
        var solved = [Double](repeating: 0, count: d)
        for j in 0..<m {
            let l = fit.factors[j]
            var logDeterminant = 0.0
            for a in 0..<d { logDeterminant += 2 * log(l[a * d + a]) }
            let constant = log(fit.weights[j]) - 0.5 * (Double(d) * log(2 * Double.pi) + logDeterminant)
            for i in 0..<n {
                // Mahalanobis distance by forward substitution L y = x - mu.
                var distance = 0.0
                for a in 0..<d {
                    var value = x[i][a] - fit.means[j][a]
                    for b in 0..<a { value -= l[a * d + b] * solved[b] }
                    solved[a] = value / l[a * d + a]
                    distance += solved[a] * solved[a]
                }
                logDensity[i * m + j] = (constant - 0.5 * distance) / temperature
            }
        }
        var total = 0.0
        for i in 0..<n {
            var largest = -Double.infinity
            for j in 0..<m { largest = max(largest, logDensity[i * m + j]) }
            var sum = 0.0
            for j in 0..<m { sum += exp(logDensity[i * m + j] - largest) }
            let normaliser = largest + log(sum)
            total += normaliser
            for j in 0..<m { logDensity[i * m + j] = exp(logDensity[i * m + j] - normaliser) }
        }
        return (total / Double(n), logDensity)
    }

    /// The M-step from responsibilities (row-major n x m).
    static func maximisation(_ x: [[Double]], responsibilities r: [Double], components m: Int, regularisation: Double) -> Fit {
        let n = x.count, d = x[0].count
        var weights = [Double](repeating: 0, count: m)
        var means = [[Double]](repeating: [Double](repeating: 0, count: d), count: m)
        var covariances = [[Double]](repeating: [Double](repeating: 0, count: d * d), count: m)
        for j in 0..<m {
            // A floor on each component's mass, as scikit-learn's 10 * eps, keeps empty components finite.
            var mass = 10 * Double.ulpOfOne
            for i in 0..<n { mass += r[i * m + j] }
            weights[j] = mass / Double(n)
            for i in 0..<n where r[i * m + j] > 0 {
                for a in 0..<d { means[j][a] += r[i * m + j] * x[i][a] }
            }
            for a in 0..<d { means[j][a] /= mass }
            for i in 0..<n where r[i * m + j] > 0 {
                let w = r[i * m + j]
                for a in 0..<d {
                    let da = x[i][a] - means[j][a]
                    for b in 0...a { covariances[j][a * d + b] += w * da * (x[i][b] - means[j][b]) }
                }
            }
            for a in 0..<d {
                for b in 0...a {
                    covariances[j][a * d + b] /= mass
                    covariances[j][b * d + a] = covariances[j][a * d + b]
                }
                covariances[j][a * d + a] += regularisation
            }
        }
        let factors = covariances.map { cholesky($0, dimension: d) }
        return Fit(weights: weights, means: means, covariances: covariances, factors: factors)
    }

    /// The lower Cholesky factor of a symmetric positive-definite d x d matrix (row-major); a
    /// pivot that is not positive is floored at the regularisation's scale so that a collapsed
    /// component stays finite.
    static func cholesky(_ a: [Double], dimension d: Int) -> [Double] {
        var l = [Double](repeating: 0, count: d * d)
        for i in 0..<d {
            for j in 0...i {
                var sum = a[i * d + j]
                for k in 0..<j { sum -= l[i * d + k] * l[j * d + k] }
                if i == j {
                    l[i * d + i] = sqrt(max(sum, 1e-12))
                } else {
                    l[i * d + j] = sum / l[j * d + j]
                }
            }
        }
        return l
    }

    /// Hard labels of k-means with k-means++ seeding (Arthur and Vassilvitskii 2007) and Lloyd
    /// iterations until no label changes (at most 300).
    static func kMeans<G: RandomNumberGenerator>(_ x: [[Double]], clusters m: Int, using random: inout G) -> [Int] {
        let n = x.count
        func squaredDistance(_ a: [Double], _ b: [Double]) -> Double {
            var sum = 0.0
            for index in a.indices { sum += (a[index] - b[index]) * (a[index] - b[index]) }
            return sum
        }
        var centres = [x[Int.random(in: 0..<n, using: &random)]]
        var nearest = x.map { squaredDistance($0, centres[0]) }
        while centres.count < m {
            let total = nearest.reduce(0, +)
            var chosen = Int.random(in: 0..<n, using: &random)
            if total > 0 {
                var target = Double.random(in: 0..<total, using: &random)
                for i in 0..<n {
                    target -= nearest[i]
                    if target < 0 { chosen = i; break }
                }
            }
            centres.append(x[chosen])
            for i in 0..<n { nearest[i] = min(nearest[i], squaredDistance(x[i], x[chosen])) }
        }
        var labels = [Int](repeating: -1, count: n)
        for _ in 0..<300 {
            var changed = false
            for i in 0..<n {
                var bestLabel = 0, bestDistance = Double.infinity
                for j in 0..<m {
                    let distance = squaredDistance(x[i], centres[j])
                    if distance < bestDistance { bestDistance = distance; bestLabel = j }
                }
                if labels[i] != bestLabel { labels[i] = bestLabel; changed = true }
            }
            if !changed { break }
            var sums = [[Double]](repeating: [Double](repeating: 0, count: x[0].count), count: m)
            var counts = [Int](repeating: 0, count: m)
            for i in 0..<n {
                counts[labels[i]] += 1
                for a in x[i].indices { sums[labels[i]][a] += x[i][a] }
            }
            for j in 0..<m where counts[j] > 0 { centres[j] = sums[j].map { $0 / Double(counts[j]) } }
        }
        return labels
    }
}
