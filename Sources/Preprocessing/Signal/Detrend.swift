/// Mean and linear-trend removal, column by column (nilearn's `_detrend`, type "linear").
///
/// With t centred and normalised to unit norm (r = (t - mean t) / ||t - mean t||), each
/// signal x becomes (x - mean x) - <r, x - mean x> r: its least-squares residual on [1, t].
public enum Detrend {
    /// Removes the mean, and the linear trend when `linear` is true, in place.
    public static func apply(_ signal: UnsafeMutableBufferPointer<Double>, linear: Bool = true) {
        let n = signal.count
        guard n > 1 else { return }
        var mean = 0.0
        for value in signal { mean += value }
        mean /= Double(n)
        for index in 0..<n { signal[index] -= mean }
        guard linear else { return }
        let centre = Double(n - 1) / 2
        var norm = 0.0
        for index in 0..<n { norm += (Double(index) - centre) * (Double(index) - centre) }
        norm = norm.squareRoot()
        guard norm >= Double.ulpOfOne else { return }
        var projection = 0.0
        for index in 0..<n { projection += (Double(index) - centre) / norm * signal[index] }
        for index in 0..<n { signal[index] -= projection * (Double(index) - centre) / norm }
    }

    /// Every column of `matrix`.
    public static func apply(_ matrix: inout SignalMatrix, linear: Bool = true) {
        let n = matrix.timePoints
        matrix.values.withUnsafeMutableBufferPointer { all in
            for column in 0..<matrix.columns {
                apply(UnsafeMutableBufferPointer(rebasing: all[(column * n)..<((column + 1) * n)]), linear: linear)
            }
        }
    }
}
