import Core
import TestSupport
import XCTest

@testable import Model

final class NonFiniteGradientGuardTests: XCTestCase {
    struct Pair: Module {
        var a: Tensor<Float>
        var b: Tensor<Float>
        var parameters: [(name: String, path: WritableKeyPath<Pair, Tensor<Float>>)] { [("a", \.a), ("b", \.b)] }
    }

    /// A finite gradient is clipped to the global norm (3-4-12 has norm 13) and admitted.
    func testFiniteGradientIsClippedAndAdmitted() {
        var guardrail = NonFiniteGradientGuard()
        var gradient = Pair(a: Tensor(shape: [2], scalars: [3, 4]), b: Tensor(shape: [1], scalars: [12]))
        XCTAssertTrue(guardrail.admit(&gradient, maxNorm: 1.3))
        let scale = Float(1.3 / (13 + 1e-6))
        XCTAssertClose(gradient.a.scalars.array, [3 * scale, 4 * scale], absolute: 1e-6)
        XCTAssertClose(gradient.b.scalars.array, [12 * scale], absolute: 1e-6)
        XCTAssertEqual(guardrail.inARow, 0)
    }

    /// NaN or infinite entries, or a non-finite loss, are refused and counted; the count is one
    /// of consecutive refusals, reset by the next admitted step, and the guard is exhausted at
    /// `limit` of them.
    func testNonFiniteStepsAreRefusedUntilTheLimit() {
        var guardrail = NonFiniteGradientGuard()
        var nan = Pair(a: Tensor(shape: [2], scalars: [.nan, 1]), b: Tensor(shape: [1], scalars: [0]))
        var infinite = Pair(a: Tensor(shape: [2], scalars: [1, 1]), b: Tensor(shape: [1], scalars: [-.infinity]))
        var finite = Pair(a: Tensor(shape: [2], scalars: [1, 1]), b: Tensor(shape: [1], scalars: [1]))
        XCTAssertFalse(guardrail.admit(&nan, maxNorm: 1))
        XCTAssertFalse(guardrail.admit(&infinite, maxNorm: 1))
        XCTAssertFalse(guardrail.admit(&finite, maxNorm: 10, lossIsFinite: false))
        XCTAssertEqual(guardrail.inARow, 3)
        XCTAssertFalse(guardrail.exhausted)
        XCTAssertTrue(guardrail.admit(&finite, maxNorm: 10))
        XCTAssertEqual(finite.a.scalars.array, [1, 1], "a norm below maxNorm leaves the gradient unchanged")
        XCTAssertEqual(guardrail.inARow, 0)
        for step in 1...NonFiniteGradientGuard.limit {
            var again = nan
            XCTAssertFalse(guardrail.admit(&again, maxNorm: 1))
            XCTAssertEqual(guardrail.exhausted, step == NonFiniteGradientGuard.limit)
        }
    }

    /// Finite entries whose squared norm overflows Float: the norm is infinite, the clip scales
    /// every entry to zero, and the step is admitted (a zero step, not a skipped one).
    func testOverflowingNormWithFiniteEntriesIsAdmitted() {
        var guardrail = NonFiniteGradientGuard()
        var gradient = Pair(a: Tensor(shape: [2], scalars: [3e38, -3e38]), b: Tensor(shape: [1], scalars: [1]))
        XCTAssertTrue(guardrail.admit(&gradient, maxNorm: 1))
        XCTAssertEqual(gradient.a.scalars.array.map { abs($0) }, [0, 0])
        XCTAssertEqual(guardrail.inARow, 0)
    }
}
