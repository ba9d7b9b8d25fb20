/// How cleaned signals are scaled (nilearn's `standardize`).
public enum Standardization: String, Sendable, CaseIterable {
    /// Mean 0, sample standard deviation 1 (ddof 1); a std below machine epsilon is left at 1.
    case zscore
    /// Percent signal change: 100 (x - mean) / |mean|; signals with mean ~0 are set to 0.
    case psc
    case none
}

extension Standardization {
    /// Standardises one signal in place; returns false when psc met a zero-mean signal.
    @discardableResult
    public func apply(_ signal: UnsafeMutableBufferPointer<Double>) -> Bool {
        let n = signal.count
        guard n > 1, self != .none else { return true }
        var mean = 0.0
        for value in signal { mean += value }
        mean /= Double(n)
        switch self {
        case .zscore:
            var squares = 0.0
            for index in 0..<n {
                signal[index] -= mean
                squares += signal[index] * signal[index]
            }
            var std = (squares / Double(n - 1)).squareRoot()
            if std < Double.ulpOfOne { std = 1 }
            for index in 0..<n { signal[index] /= std }
            return true
        case .psc:
            guard abs(mean) >= Double.ulpOfOne else {
                for index in 0..<n { signal[index] = 0 }
                return false
            }
            for index in 0..<n { signal[index] = (signal[index] - mean) / abs(mean) * 100 }
            return true
        case .none:
            return true
        }
    }
}
