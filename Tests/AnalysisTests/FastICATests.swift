import Core
import Foundation
import TestSupport
import XCTest

@testable import Analysis

final class FastICATests: XCTestCase {
    /// Three independent non-Gaussian sources mixed into five channels are recovered up to
    /// order and sign (|correlation| > 0.99), the unmixing quality scikit-learn's FastICA reaches.
    func testRecoversMixedSources() throws {
        var random = RandomSource(seed: 11)
        let n = 2000
        let sources = (0..<n).map { t -> [Double] in
            let time = Double(t) / 100
            return [sin(2 * time), (time.truncatingRemainder(dividingBy: 1) < 0.5 ? 1 : -1), random.uniform(-1.7, 1.7)]
        }
        let mixing = (0..<5).map { _ in (0..<3).map { _ in random.normal() } }
        let x = sources.map { s in mixing.map { m in zip(m, s).reduce(0) { $0 + $1.0 * $1.1 } + 0.01 * random.normal() } }
        let ica = try FastICA(fitting: x, components: 3)
        let recovered = ica.transform(x)
        func correlation(_ a: [Double], _ b: [Double]) -> Double {
            let ma = a.reduce(0, +) / Double(a.count), mb = b.reduce(0, +) / Double(b.count)
            let cov = zip(a, b).reduce(0) { $0 + ($1.0 - ma) * ($1.1 - mb) }
            let va = a.reduce(0) { $0 + ($1 - ma) * ($1 - ma) }, vb = b.reduce(0) { $0 + ($1 - mb) * ($1 - mb) }
            return cov / (va * vb).squareRoot()
        }
        for s in 0..<3 {
            let truth = sources.map { $0[s] }
            let best = (0..<3).map { c in abs(correlation(recovered.map { $0[c] }, truth)) }.max() ?? 0
            XCTAssertGreaterThan(best, 0.99, "source \(s)")
        }
        XCTAssertLessThan(ica.iterations, 200, "converged")
        // Recovered components are uncorrelated with unit variance (whitened).
        for a in 0..<3 {
            let values = recovered.map { $0[a] }
            let variance = values.reduce(0) { $0 + $1 * $1 } / Double(n - 1)
            XCTAssertEqual(variance, 1, accuracy: 0.01)
        }
    }
}

extension FastICATests {
    /// scikit-learn 1.9.1's FastICA (parallel, logcosh, unit-variance whitening, tol 1e-12) on
    /// the same data: every source matches one of ours up to sign to 1e-6.
    func testMatchesScikitLearn() throws {
        let golden = try XCTUnwrap(Fixtures.json("analysis/fastica_golden.json") as? [String: Any])
        let x = try XCTUnwrap(golden["x"] as? [[Double]])
        let expected = try XCTUnwrap(golden["sources"] as? [[Double]])
        let ica = try FastICA(fitting: x, components: 3, maxIterations: 10_000, tolerance: 1e-12, seed: 3)
        let sources = ica.transform(x)
        for s in 0..<3 {
            let truth = expected.map { $0[s] }
            let errors = (0..<3).map { c -> Double in
                let ours = sources.map { $0[c] }
                let sign: Double = zip(ours, truth).reduce(0) { $0 + $1.0 * $1.1 } < 0 ? -1 : 1
                return zip(ours, truth).map { abs(sign * $0 - $1) }.max() ?? .infinity
            }
            XCTAssertLessThan(errors.min() ?? .infinity, 1e-6, "scikit-learn source \(s)")
        }
    }

    func testNonFiniteDataAreRefused() {
        var x = (0..<20).map { t in [Double(t), sin(Double(t)), cos(Double(t))] }
        x[7][1] = .nan
        XCTAssertThrowsError(try FastICA(fitting: x, components: 2)) { XCTAssertTrue("\($0)".contains("NaN"), "\($0)") }
    }
}
