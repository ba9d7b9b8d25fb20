import Numerics
import XCTest

/// Asserts |actual - expected| <= max(absolute, relative * max(|actual|, |expected|)),
/// using swift-numerics' `isApproximatelyEqual`.
public func XCTAssertClose<T: Real>(
    _ actual: T, _ expected: T, absolute: T = 0, relative: T = T.ulpOfOne.squareRoot(),
    _ message: @autoclosure () -> String = "", file: StaticString = #filePath, line: UInt = #line
) {
    let close = actual.isApproximatelyEqual(to: expected, absoluteTolerance: absolute, relativeTolerance: relative)
    XCTAssertTrue(close, "\(actual) is not within (abs \(absolute), rel \(relative)) of \(expected). \(message())", file: file, line: line)
}

/// Element-wise `XCTAssertClose` (arrays, tensor storage, any collection of reals) with a
/// report of the first element out of tolerance.
public func XCTAssertClose<T: Real, Actual: Collection<T>, Expected: Collection<T>>(
    _ actual: Actual, _ expected: Expected, absolute: T = 0, relative: T = T.ulpOfOne.squareRoot(),
    _ message: @autoclosure () -> String = "", file: StaticString = #filePath, line: UInt = #line
) {
    guard actual.count == expected.count else {
        XCTFail("count \(actual.count) != expected \(expected.count). \(message())", file: file, line: line)
        return
    }
    for (index, (a, e)) in zip(actual, expected).enumerated()
    where !a.isApproximatelyEqual(to: e, absoluteTolerance: absolute, relativeTolerance: relative) {
        XCTFail("element \(index): \(a) vs expected \(e) (abs \(absolute), rel \(relative)). \(message())", file: file, line: line)
        return
    }
}
