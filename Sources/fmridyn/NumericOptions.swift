import ArgumentParser

/// Range checks for numeric options, written so that NaN fails every one of them (a
/// comparison with NaN is false) and infinities fail all but the unbounded ones.
enum NumericOptions {
    /// A finite number above 0.
    static func positive(_ flag: String, _ value: Double?, unit: String = "") throws {
        guard let value else { return }
        guard value > 0, value.isFinite else { throw ValidationError("\(flag) must be a positive finite number\(unit.isEmpty ? "" : " of " + unit) (got \(value)).") }
    }

    /// A finite number, 0 or more.
    static func nonNegative(_ flag: String, _ value: Double?, unit: String = "") throws {
        guard let value else { return }
        guard value >= 0, value.isFinite else { throw ValidationError("\(flag) must be a finite number, 0 or more\(unit.isEmpty ? "" : " (" + unit + ")") (got \(value)).") }
    }

    /// A number in `range`.
    static func within(_ flag: String, _ value: Double?, _ range: ClosedRange<Double>, unit: String = "") throws {
        guard let value else { return }
        guard range.contains(value) else {
            throw ValidationError("\(flag) must be between \(range.lowerBound) and \(range.upperBound)\(unit.isEmpty ? "" : " " + unit) (got \(value)).")
        }
    }

    /// A whole number in `range`; `why` says what the upper bound protects (memory, time), so
    /// that a mistyped count is refused before anything is allocated.
    static func count(_ flag: String, _ value: Int?, _ range: ClosedRange<Int>, why: String) throws {
        guard let value else { return }
        guard range.contains(value) else {
            throw ValidationError("\(flag) must be between \(range.lowerBound) and \(range.upperBound) (got \(value)); \(why).")
        }
    }
}
