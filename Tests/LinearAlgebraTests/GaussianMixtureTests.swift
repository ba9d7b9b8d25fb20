import Foundation
import LinearAlgebra
import TestSupport
import XCTest

/// `GaussianMixture` against scikit-learn's `GaussianMixture(covariance_type="full")` on three
/// well-separated clusters (golden values from `bench/golden/gaussian_mixture_sklearn.py`), where
/// every start reaches the same optimum, so parameters compare up to component order.
final class GaussianMixtureTests: XCTestCase {
    func testMatchesScikitLearnOnSeparatedClusters() throws {
        let golden = try XCTUnwrap(Fixtures.json("analysis/gaussian_mixture_golden.json") as? [String: Any])
        let x = try XCTUnwrap(golden["x"] as? [[Double]])
        let weights = try XCTUnwrap(golden["weights"] as? [Double])
        let means = try XCTUnwrap(golden["means"] as? [[Double]])
        let covariances = try XCTUnwrap(golden["covariances"] as? [[Double]])
        let score = try XCTUnwrap(golden["mean_log_likelihood"] as? Double)
        let firstResponsibilities = try XCTUnwrap(golden["responsibilities_first5"] as? [[Double]])

        var random = SplitMix64(state: 3)
        let mixture = try GaussianMixture(fitting: x, components: 3, initialisations: 3, maxIterations: 1000,
                                          tolerance: 1e-10, using: &random)
        XCTAssertTrue(mixture.converged)
        // Components in scikit-learn's sorted order (weights descending; the clusters' sizes differ).
        let order = mixture.weights.indices.sorted { mixture.weights[$0] > mixture.weights[$1] }
        for (slot, j) in order.enumerated() {
            XCTAssertEqual(mixture.weights[j], weights[slot], accuracy: 1e-9)
            for a in 0..<3 { XCTAssertEqual(mixture.means[j][a], means[slot][a], accuracy: 1e-7) }
            for e in 0..<9 { XCTAssertEqual(mixture.covariances[j][e], covariances[slot][e], accuracy: 1e-7) }
        }
        XCTAssertEqual(mixture.meanLogLikelihood, score, accuracy: 1e-9)
        XCTAssertEqual(mixture.meanLogLikelihood(x), score, accuracy: 1e-9)
        let responsibilities = mixture.responsibilities(Array(x.prefix(5)))
        for i in 0..<5 {
            for (slot, j) in order.enumerated() {
                XCTAssertEqual(responsibilities[i][j], firstResponsibilities[i][slot], accuracy: 1e-9)
            }
        }
    }

    /// One component is the sample mean and the biased sample covariance plus the regularisation,
    /// and its log-likelihood is that of a Gaussian at those values.
    func testOneComponentIsTheSampleGaussian() throws {
        let x: [[Double]] = [[0, 0], [2, 0], [0, 1], [2, 3], [1, 1]]
        var random = SplitMix64(state: 1)
        let mixture = try GaussianMixture(fitting: x, components: 1, regularisation: 0, using: &random)
        XCTAssertEqual(mixture.weights[0], 1, accuracy: 1e-12)
        XCTAssertEqual(mixture.means[0][0], 1, accuracy: 1e-12)
        XCTAssertEqual(mixture.means[0][1], 1, accuracy: 1e-12)
        // The biased (1/n) sample covariance, as the M-step of one component gives.
        let cxx = x.map { ($0[0] - 1) * ($0[0] - 1) }.reduce(0, +) / 5
        let cyy = x.map { ($0[1] - 1) * ($0[1] - 1) }.reduce(0, +) / 5
        let cxy = x.map { ($0[0] - 1) * ($0[1] - 1) }.reduce(0, +) / 5
        XCTAssertEqual(mixture.covariances[0], [cxx, cxy, cxy, cyy], accuracy: 1e-12)
        let determinant = cxx * cyy - cxy * cxy
        var expected = 0.0
        for p in x {
            let (u, v) = (p[0] - 1, p[1] - 1)
            let distance = (cyy * u * u - 2 * cxy * u * v + cxx * v * v) / determinant
            expected += -log(2 * Double.pi) - 0.5 * log(determinant) - 0.5 * distance
        }
        XCTAssertEqual(mixture.meanLogLikelihood, expected / 5, accuracy: 1e-12)
    }

    /// A mixture given its parameters is the fitted one's: same responsibilities, gradients and
    /// likelihood; weights are normalised and bad shapes refused.
    func testGivenParametersReproduceTheFittedMixture() throws {
        var random = SplitMix64(state: 8)
        let points = (0..<200).map { i -> [Double] in
            let centre: [Double] = i % 2 == 0 ? [2, 0] : [-1, 1.5]
            return centre.map { $0 + 0.4 * Double.random(in: -1...1, using: &random) }
        }
        let fitted = try GaussianMixture(fitting: points, components: 2, using: &random)
        let given = try GaussianMixture(weights: fitted.weights.map { $0 * 3 }, means: fitted.means, covariances: fitted.covariances)
        XCTAssertEqual(given.weights, fitted.weights, accuracy: 1e-15)
        let probes: [[Double]] = [[0.5, 0.7], [2, 0.1], [-1, 1]]
        for (a, b) in zip(given.responsibilities(probes, temperature: 1.7), fitted.responsibilities(probes, temperature: 1.7)) {
            XCTAssertEqual(a, b, accuracy: 1e-12)
        }
        for (a, b) in zip(given.logDensityGradients(at: [0.3, -0.2]), fitted.logDensityGradients(at: [0.3, -0.2])) {
            XCTAssertEqual(a, b, accuracy: 1e-12)
        }
        XCTAssertEqual(given.meanLogLikelihood(points), fitted.meanLogLikelihood, accuracy: 1e-9)
        XCTAssertThrowsError(try GaussianMixture(weights: [1], means: [[0, 0]], covariances: [[1, 0, 1]]))
        XCTAssertThrowsError(try GaussianMixture(weights: [0], means: [[0]], covariances: [[1]]))
        XCTAssertThrowsError(try GaussianMixture(weights: [1], means: [[0]], covariances: [[0]]))
    }

    func testRejectsTooFewSamples() {
        var random = SplitMix64(state: 1)
        XCTAssertThrowsError(try GaussianMixture(fitting: [[0.0], [1.0]], components: 3, using: &random))
    }

    /// Tempered responsibilities: r_j / r_k at T is (r_j / r_k at 1)^(1/T), rows sum to 1, and
    /// the log-density gradients match central differences of log(w_j N_j) differences.
    func testTemperedResponsibilitiesAndLogDensityGradients() throws {
        var random = SplitMix64(state: 9)
        let points = (0..<90).map { i -> [Double] in
            let centre: [Double] = i % 2 == 0 ? [0, 0] : [1.2, 0.4]
            return [centre[0] + 0.3 * sin(Double(7 * i)), centre[1] + 0.2 * cos(Double(5 * i))]
        }
        let mixture = try GaussianMixture(fitting: points, components: 2, using: &random)
        let x = [[0.5, 0.3], [0.9, -0.1], [0.1, 0.5]]
        let plain = mixture.responsibilities(x)
        XCTAssertEqual(mixture.responsibilities(x, temperature: 1), plain)
        let hot = mixture.responsibilities(x, temperature: 3)
        for (p, q) in zip(plain, hot) {
            XCTAssertEqual(q[0] + q[1], 1, accuracy: 1e-12)
            XCTAssertEqual(log(q[0] / q[1]), log(p[0] / p[1]) / 3, accuracy: 1e-10)
        }
        // d/dx log(r_0 / r_1) = g_0 - g_1 (the weights and normalisers cancel).
        for point in x {
            let g = mixture.logDensityGradients(at: point)
            for d in 0..<2 {
                var up = point, down = point
                up[d] += 1e-6
                down[d] -= 1e-6
                let (ru, rd) = (mixture.responsibilities([up])[0], mixture.responsibilities([down])[0])
                let numeric = (log(ru[0] / ru[1]) - log(rd[0] / rd[1])) / 2e-6
                XCTAssertEqual(g[0][d] - g[1][d], numeric, accuracy: 1e-5)
            }
        }
    }
}

private func XCTAssertEqual(_ a: [Double], _ b: [Double], accuracy: Double, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.count, b.count, file: file, line: line)
    for (u, v) in zip(a, b) { XCTAssertEqual(u, v, accuracy: accuracy, file: file, line: line) }

}
