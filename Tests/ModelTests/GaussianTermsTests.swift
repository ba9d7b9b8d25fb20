import Core
import Foundation
import TestSupport
import XCTest

@testable import Model

/// The fused ELBO terms against their closed forms and central differences, and the batch
/// split against the parts computed one by one.
final class GaussianTermsTests: XCTestCase {
    func random(_ shape: [Int], seed: UInt64, scale: Double = 1) -> Tensor<Double> {
        var source = RandomSource(seed: seed)
        return Tensor(shape: shape, scalars: (0..<shape.reduce(1, *)).map { _ in scale * source.normal() })
    }

    /// KL(N(m, s^2) || N(mu, sigma^2)) = log(sigma / s) + (s^2 + (m - mu)^2) / (2 sigma^2) - 1/2, by hand.
    func testKLMatchesClosedFormAndFiniteDifferences() {
        let (m, lv, pm, plv) = (random([3, 2], seed: 1), random([3, 2], seed: 2, scale: 0.5), random([3, 2], seed: 3), random([2], seed: 4, scale: 0.5))
        let kl = GaussianTerms.klPerDimension(mean: m, logVariance: lv, priorMean: pm, priorLogVariance: plv)
        for j in 0..<2 {
            var expected = 0.0
            for b in 0..<3 {
                let (s2, sigma2, d) = (Foundation.exp(lv.scalars[b * 2 + j]), Foundation.exp(plv.scalars[j]), m.scalars[b * 2 + j] - pm.scalars[b * 2 + j])
                expected += 0.5 * Foundation.log(sigma2 / s2) + (s2 + d * d) / (2 * sigma2) - 0.5
            }
            XCTAssertEqual(kl.scalars[j], expected, accuracy: 1e-12)
        }
        let standard = GaussianTerms.klPerDimension(mean: m, logVariance: lv)
        let zeroPrior = GaussianTerms.klPerDimension(mean: m, logVariance: lv, priorMean: Tensor(zeros: [3, 2]), priorLogVariance: Tensor(zeros: [2]))
        XCTAssertEqual(standard.scalars, zeroPrior.scalars)
        // Every input's gradient, through a weighted sum so each dimension counts differently.
        let weights = Tensor<Double>(shape: [2], scalars: [0.7, -1.3])
        let inputs = [m, lv, pm, plv]
        for which in 0..<4 {
            func loss(_ value: Tensor<Double>) -> Tensor<Double> {
                var all = inputs
                all[which] = value
                return (GaussianTerms.klPerDimension(mean: all[0], logVariance: all[1], priorMean: all[2], priorLogVariance: all[3]) * weights).sum()
            }
            let (_, analytic) = valueAndGradient(at: inputs[which], loss)
            for index in 0..<inputs[which].count {
                var plus = inputs[which], minus = inputs[which]
                plus.withUnsafeMutableScalars { $0[index] += 1e-6 }
                minus.withUnsafeMutableScalars { $0[index] -= 1e-6 }
                let numeric = (loss(plus).scalar - loss(minus).scalar) / 2e-6
                XCTAssertEqual(analytic.scalars[index], numeric, accuracy: 1e-7 * max(1, abs(numeric)), "input \(which)[\(index)]")
            }
        }
    }

    /// The likelihood equals the sum of log-densities of N(mean, e^lv), with gradients for all three inputs.
    func testLikelihoodMatchesDensityAndFiniteDifferences() {
        let (x, mean, lv) = (random([2, 3, 4], seed: 5), random([2, 3, 4], seed: 6), random([4], seed: 7, scale: 0.4))
        var expected = 0.0
        for i in 0..<24 {
            let variance = Foundation.exp(lv.scalars[i % 4]), d = x.scalars[i] - mean.scalars[i]
            expected -= -0.5 * Foundation.log(2 * Double.pi * variance) - d * d / (2 * variance)
        }
        XCTAssertEqual(GaussianTerms.negativeLogLikelihood(x, mean: mean, logVariance: lv).scalar, expected, accuracy: 1e-11)
        let inputs = [x, mean, lv]
        for which in 0..<3 {
            func loss(_ value: Tensor<Double>) -> Tensor<Double> {
                var all = inputs
                all[which] = value
                return GaussianTerms.negativeLogLikelihood(all[0], mean: all[1], logVariance: all[2])
            }
            let (_, analytic) = valueAndGradient(at: inputs[which], loss)
            for index in 0..<inputs[which].count {
                var plus = inputs[which], minus = inputs[which]
                plus.withUnsafeMutableScalars { $0[index] += 1e-6 }
                minus.withUnsafeMutableScalars { $0[index] -= 1e-6 }
                let numeric = (loss(plus).scalar - loss(minus).scalar) / 2e-6
                XCTAssertEqual(analytic.scalars[index], numeric, accuracy: 1e-7 * max(1, abs(numeric)), "input \(which)[\(index)]")
            }
        }
    }

    /// Split in parts, the step's objective and gradient are the window-weighted means of each
    /// part's, computed alone with the seed drawn for it; one part is the plain computation.
    func testBatchSplitEqualsWeightedMeanOfParts() throws {
        var configuration = SVAEConfiguration(observations: 5)
        configuration.latent = 2
        configuration.hidden = 3
        configuration.window = 4
        for inference in SVAEConfiguration.Inference.allCases {
            configuration.inference = inference
            let model = SVAE<Double>(configuration: configuration)
            let x = random([5, 4, 5], seed: 8)
            var source = RandomSource(seed: 11)
            let split = try model.objectiveAndGradient(x, klWeight: 0.6, random: &source, parts: 2)
            var seeds = RandomSource(seed: 11)
            let (first, second) = (seeds.next(), seeds.next())
            var expectedLoss = 0.0
            var expected: [String: [Double]] = [:]
            for (range, seed) in [(0..<2, first), (2..<5, second)] {
                var noise = RandomSource(seed: seed)
                let (value, gradient) = try valueAndGradient(of: model) { try $0.objective(x.slice(alongAxis: 0, range), klWeight: 0.6, random: &noise).loss }
                let weight = Double(range.count) / 5
                expectedLoss += weight * value
                for (name, path) in model.parameters {
                    let scaled = gradient[keyPath: path].scalars.map { $0 * weight }
                    expected[name] = expected[name].map { zip($0, scaled).map(+) } ?? scaled
                }
            }
            XCTAssertEqual(split.loss, expectedLoss, accuracy: 1e-12 * abs(expectedLoss))
            for (name, path) in model.parameters {
                let values = split.gradient[keyPath: path].scalars
                for (actual, wanted) in zip(values, expected[name] ?? []) {
                    XCTAssertEqual(actual, wanted, accuracy: 1e-12 * max(1, abs(wanted)), "\(inference) \(name)")
                }
            }
            // One part: exactly valueAndGradient of the objective with the caller's noise.
            var plainNoise = RandomSource(seed: 3), oneNoise = RandomSource(seed: 3)
            let (plainValue, plainGradient) = try valueAndGradient(of: model) { try $0.objective(x, klWeight: 0.6, random: &plainNoise).loss }
            let one = try model.objectiveAndGradient(x, klWeight: 0.6, random: &oneNoise, parts: 1)
            XCTAssertEqual(one.loss, plainValue)
            for (_, path) in model.parameters { XCTAssertEqual(one.gradient[keyPath: path].scalars, plainGradient[keyPath: path].scalars) }
        }
    }
}
