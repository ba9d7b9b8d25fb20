import ComplexModule

/// A digital IIR filter as cascaded second-order sections: each row is
/// (b0, b1, b2, a0 = 1, a1, a2), as scipy's `sos` arrays.
public struct SecondOrderSections: Equatable, Sendable {
    public var sections: [[Double]]

    public init(sections: [[Double]]) { self.sections = sections }
}

/// Butterworth filter design, following scipy.signal.butter(N, Wn, btype, output="sos", fs):
/// analog prototype poles, frequency transform, bilinear transform with pre-warping, and
/// zpk2sos "nearest" pairing.
public enum Butterworth {
    public enum Band: Equatable, Sendable {
        case lowPass(Double)
        case highPass(Double)
        /// (low edge, high edge) in Hz: keeps frequencies between them.
        case bandPass(Double, Double)
    }

    /// Designs an order-`order` filter for `band` (Hz) at `samplingRate` (Hz).
    /// Cutoffs must lie strictly between 0 and Nyquist (callers validate and explain).
    public static func design(order: Int, band: Band, samplingRate: Double) -> SecondOrderSections {
        precondition(order >= 1)
        // Normalise to Nyquist = 1 and pre-warp for the bilinear transform at fs = 2.
        func warp(_ frequency: Double) -> Double { 4 * Double.tan(Double.pi * (2 * frequency / samplingRate) / 2) }
        var zeros: [Complex<Double>] = []
        var poles: [Complex<Double>] = (0..<order).map { index in
            let angle = Double.pi * Double(-order + 1 + 2 * index) / Double(2 * order)
            return -Complex(Double.cos(angle), Double.sin(angle))  // -exp(i * angle)
        }
        var gain = 1.0
        switch band {
        case .lowPass(let cutoff):
            let wo = warp(cutoff)
            poles = poles.map { $0 * Complex(wo) }
            gain *= Double.pow(wo, Double(poles.count - zeros.count))
        case .highPass(let cutoff):
            let wo = warp(cutoff)
            let degree = poles.count - zeros.count
            var numerator = Complex<Double>.one, denominator = Complex<Double>.one
            for z in zeros { numerator = numerator * -z }
            for p in poles { denominator = denominator * -p }
            gain *= (numerator / denominator).real
            zeros = zeros.map { Complex(wo) / $0 } + [Complex<Double>](repeating: .zero, count: degree)
            poles = poles.map { Complex(wo) / $0 }
        case .bandPass(let low, let high):
            let lowWarped = warp(low), highWarped = warp(high)
            let wo = (lowWarped * highWarped).squareRoot(), bandwidth = highWarped - lowWarped
            let degree = poles.count - zeros.count
            func split(_ roots: [Complex<Double>]) -> [Complex<Double>] {
                let scaled = roots.map { $0 * Complex(bandwidth / 2) }
                let offsets = scaled.map { Complex.sqrt($0 * $0 - Complex(wo * wo)) }
                return zip(scaled, offsets).map { $0 + $1 } + zip(scaled, offsets).map { $0 - $1 }
            }
            zeros = split(zeros) + [Complex<Double>](repeating: .zero, count: degree)
            poles = split(poles)
            gain *= Double.pow(bandwidth, Double(degree))
        }
        // Bilinear transform at fs = 2 (fs2 = 4).
        let fs2 = Complex(4.0)
        let degree = poles.count - zeros.count
        var numerator = Complex<Double>.one, denominator = Complex<Double>.one
        for z in zeros { numerator = numerator * (fs2 - z) }
        for p in poles { denominator = denominator * (fs2 - p) }
        gain *= (numerator / denominator).real
        let digitalZeros = zeros.map { (fs2 + $0) / (fs2 - $0) } + [Complex<Double>](repeating: -.one, count: degree)
        let digitalPoles = poles.map { (fs2 + $0) / (fs2 - $0) }
        return pairIntoSections(zeros: digitalZeros, poles: digitalPoles, gain: gain)
    }

    /// scipy's zpk2sos with "nearest" pairing, for filters whose zeros are all real
    /// (true of Butterworth low-, high- and band-pass designs).
    static func pairIntoSections(zeros inputZeros: [Complex<Double>], poles inputPoles: [Complex<Double>], gain: Double) -> SecondOrderSections {
        let tolerance = 100 * Double.ulpOfOne
        var zeros = inputZeros.map(\.real)
        var poles = inputPoles
        if poles.count % 2 == 1 {
            poles.append(.zero)
            zeros.append(0)
        }
        let sectionCount = poles.count / 2
        // One representative per conjugate pair (positive imaginary part), plus real poles.
        var remaining = poles.filter { abs($0.imaginary) <= tolerance * max(1, $0.length) || $0.imaginary > 0 }
            .map { abs($0.imaginary) <= tolerance * max(1, $0.length) ? Complex($0.real) : $0 }
        func isReal(_ p: Complex<Double>) -> Bool { p.imaginary == 0 }
        func worstIndex(_ candidates: [Int]) -> Int {
            candidates.min { abs(1 - remaining[$0].length) < abs(1 - remaining[$1].length) } ?? 0
        }
        func takeNearestZero(to target: Complex<Double>) -> Double {
            let index = zeros.indices.min { (Complex(zeros[$0]) - target).length < (Complex(zeros[$1]) - target).length } ?? 0
            return zeros.remove(at: index)
        }
        var sections = [[Double]](repeating: [], count: sectionCount)
        for section in stride(from: sectionCount - 1, through: 0, by: -1) {
            let firstIndex = worstIndex(Array(remaining.indices))
            let first = remaining.remove(at: firstIndex)
            let a: [Double]
            if isReal(first) {
                // Pair with the worst remaining real pole.
                let realIndices = remaining.indices.filter { isReal(remaining[$0]) }
                let secondIndex = worstIndex(realIndices)
                let second = remaining.remove(at: secondIndex).real
                a = [1, -(first.real + second), first.real * second]
            } else {
                a = [1, -2 * first.real, first.lengthSquared]
            }
            let z1 = takeNearestZero(to: first)
            let z2 = takeNearestZero(to: first)
            sections[section] = [1, -(z1 + z2), z1 * z2] + a
        }
        for index in 0..<3 { sections[0][index] *= gain }
        return SecondOrderSections(sections: sections)
    }
}

extension Complex where RealType == Double {
    fileprivate static func sqrt(_ z: Complex<Double>) -> Complex<Double> {
        // Principal square root.
        let r = z.length
        let real = ((r + z.real) / 2).squareRoot()
        let imaginary = ((r - z.real) / 2).squareRoot()
        return Complex(real, z.imaginary < 0 ? -imaginary : imaginary)
    }
}
