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

    func testRejectsTooFewSamples() {
        var random = SplitMix64(state: 1)
        XCTAssertThrowsError(try GaussianMixture(fitting: [[0.0], [1.0]], components: 3, using: &random))
    }
}

private func XCTAssertEqual(_ a: [Double], _ b: [Double], accuracy: Double, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.count, b.count, file: file, line: line)
    for (u, v) in zip(a, b) { XCTAssertEqual(u, v, accuracy: accuracy, file: file, line: line) }
}
