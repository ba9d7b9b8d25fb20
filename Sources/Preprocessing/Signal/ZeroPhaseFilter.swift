/// Forward-backward (zero-phase) filtering with second-order sections, as
/// scipy.signal.sosfiltfilt(sos, x, padtype="odd", padlen=None) does:
/// odd extension of 3 x ntaps samples at each end, initial states from `sosfilt_zi`
/// scaled by the first sample, a forward pass, and a backward pass started from the last
/// output.
public struct ZeroPhaseFilter: Sendable {
    public let sections: SecondOrderSections
    /// Samples of odd extension at each end (scipy's default padlen).
    public let padLength: Int
    /// Steady-state section states for a unit step (`sosfilt_zi`), two per section.
    let steadyState: [Double]
    private let coefficients: [Double]

    public init(_ sections: SecondOrderSections, padLength: Int? = nil) {
        self.sections = sections
        let count = sections.sections.count
        let b2Zeros = sections.sections.filter { $0[2] == 0 }.count
        let a2Zeros = sections.sections.filter { $0[5] == 0 }.count
        self.padLength = padLength ?? 3 * (2 * count + 1 - min(b2Zeros, a2Zeros))
        coefficients = sections.sections.flatMap { $0 }
        // lfilter_zi per section (a0 = 1): solve (I - A^T) zi = b[1:] - a[1:] b0, scaled
        // by the DC gain of the sections before it.
        var states: [Double] = []
        var scale = 1.0
        for section in sections.sections {
            let (b0, b1, b2, a1, a2) = (section[0], section[1], section[2], section[4], section[5])
            let r1 = b1 - a1 * b0, r2 = b2 - a2 * b0
            // [[1 + a1, -1], [a2, 1]] * [z0, z1] = [r1, r2]
            let determinant = (1 + a1) + a2
            let z0 = (r1 + r2) / determinant
            let z1 = r2 - a2 * z0
            states += [scale * z0, scale * z1]
            scale *= (b0 + b1 + b2) / (1 + a1 + a2)
        }
        steadyState = states
    }

    /// Filters `signal` in place; `scratch` must hold `signal.count + 2 * padLength` values.
    /// Requires `signal.count > padLength` (scipy's rule).
    public func apply(_ signal: UnsafeMutableBufferPointer<Double>, scratch: UnsafeMutableBufferPointer<Double>) {
        let n = signal.count, pad = padLength
        precondition(n > pad, "the signal must be longer than the padding")
        let total = n + 2 * pad
        precondition(scratch.count >= total)
        let first = signal[0], last = signal[n - 1]
        for index in 0..<pad {
            scratch[index] = 2 * first - signal[pad - index]
            scratch[pad + n + index] = 2 * last - signal[n - 2 - index]
        }
        for index in 0..<n { scratch[pad + index] = signal[index] }
        let extended = UnsafeMutableBufferPointer(rebasing: scratch[0..<total])
        run(extended, initialScale: extended[0], reversed: false)
        run(extended, initialScale: extended[total - 1], reversed: true)
        for index in 0..<n { signal[index] = extended[pad + index] }
    }

    /// One pass of the cascade (direct form II transposed), forward or backward, in place.
    private func run(_ data: UnsafeMutableBufferPointer<Double>, initialScale: Double, reversed: Bool) {
        let n = data.count
        coefficients.withUnsafeBufferPointer { c in
            for section in 0..<(c.count / 6) {
                let b0 = c[6 * section], b1 = c[6 * section + 1], b2 = c[6 * section + 2]
                let a1 = c[6 * section + 4], a2 = c[6 * section + 5]
                var z0 = steadyState[2 * section] * initialScale
                var z1 = steadyState[2 * section + 1] * initialScale
                if reversed {
                    var index = n - 1
                    while index >= 0 {
                        let x = data[index]
                        let y = b0 * x + z0
                        z0 = b1 * x - a1 * y + z1
                        z1 = b2 * x - a2 * y
                        data[index] = y
                        index -= 1
                    }
                } else {
                    for index in 0..<n {
                        let x = data[index]
                        let y = b0 * x + z0
                        z0 = b1 * x - a1 * y + z1
                        z1 = b2 * x - a2 * y
                        data[index] = y
                    }
                }
            }
        }
    }

    /// Filters four equal-length signals at once (SIMD lanes): the recursion of one signal is a
    /// serial chain, so four independent chains keep the floating-point units busy.
    /// `scratch` must hold `signals[0].count + 2 * padLength` SIMD4 values.
    public func apply4(_ signals: [UnsafeMutableBufferPointer<Double>], scratch: UnsafeMutableBufferPointer<SIMD4<Double>>) {
        precondition(signals.count == 4)
        let n = signals[0].count, pad = padLength
        precondition(n > pad && scratch.count >= n + 2 * pad)
        @inline(__always) func lanes(_ index: Int) -> SIMD4<Double> {
            SIMD4(signals[0][index], signals[1][index], signals[2][index], signals[3][index])
        }
        let first = lanes(0), last = lanes(n - 1)
        for index in 0..<pad {
            scratch[index] = 2 * first - lanes(pad - index)
            scratch[pad + n + index] = 2 * last - lanes(n - 2 - index)
        }
        for index in 0..<n { scratch[pad + index] = lanes(index) }
        let total = n + 2 * pad
        let extended = UnsafeMutableBufferPointer(rebasing: scratch[0..<total])
        run4(extended, initialScale: extended[0], reversed: false)
        run4(extended, initialScale: extended[total - 1], reversed: true)
        for index in 0..<n {
            let value = extended[pad + index]
            signals[0][index] = value[0]; signals[1][index] = value[1]; signals[2][index] = value[2]; signals[3][index] = value[3]
        }
    }

    private func run4(_ data: UnsafeMutableBufferPointer<SIMD4<Double>>, initialScale: SIMD4<Double>, reversed: Bool) {
        let n = data.count
        coefficients.withUnsafeBufferPointer { c in
            for section in 0..<(c.count / 6) {
                let b0 = c[6 * section], b1 = c[6 * section + 1], b2 = c[6 * section + 2]
                let a1 = c[6 * section + 4], a2 = c[6 * section + 5]
                var z0 = steadyState[2 * section] * initialScale
                var z1 = steadyState[2 * section + 1] * initialScale
                var index = reversed ? n - 1 : 0
                let step = reversed ? -1 : 1
                for _ in 0..<n {
                    let x = data[index]
                    let y = b0 * x + z0
                    z0 = b1 * x - a1 * y + z1
                    z1 = b2 * x - a2 * y
                    data[index] = y
                    index += step
                }
            }
        }
    }
}
