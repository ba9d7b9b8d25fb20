/// fmridyn's seeded random numbers, bit-identical on every IEEE-754 machine.
///
/// Generator: xoshiro256** (Blackman and Vigna), seeded by expanding a 64-bit seed with
/// SplitMix64. Uniform doubles take the top 53 bits. Normals use Marsaglia's polar method
/// with a logarithm computed here from +, *, / only (no platform libm), so the same seed gives
/// the same parameters everywhere.
public struct RandomSource: RandomNumberGenerator, Sendable {
    private var state: (UInt64, UInt64, UInt64, UInt64)
    private var spareNormal: Double?

    public init(seed: UInt64) {
        var mix = seed
        func splitMix() -> UInt64 {
            mix &+= 0x9E37_79B9_7F4A_7C15
            var z = mix
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        state = (splitMix(), splitMix(), splitMix(), splitMix())
    }

    public mutating func next() -> UInt64 {
        let result = rotate(state.1 &* 5, 7) &* 9
        let t = state.1 << 17
        state.2 ^= state.0
        state.3 ^= state.1
        state.1 ^= state.2
        state.0 ^= state.3
        state.2 ^= t
        state.3 = rotate(state.3, 45)
        return result
    }

    private func rotate(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// Uniform in [0, 1).
    public mutating func uniform() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// Uniform in [low, high).
    public mutating func uniform(_ low: Double, _ high: Double) -> Double { low + (high - low) * uniform() }

    /// Standard normal (Marsaglia polar method).
    public mutating func normal() -> Double {
        if let spare = spareNormal {
            spareNormal = nil
            return spare
        }
        while true {
            let u = 2 * uniform() - 1, v = 2 * uniform() - 1
            let s = u * u + v * v
            guard s > 0 && s < 1 else { continue }
            let factor = (-2 * Self.log(s) / s).squareRoot()
            spareNormal = v * factor
            return u * factor
        }
    }

    /// Natural logarithm of a positive finite x from exact operations only:
    /// x = m 2^e with m in [1, 2); log m = 2 atanh((m - 1)/(m + 1)) by its series.
    static func log(_ x: Double) -> Double {
        precondition(x > 0 && x.isFinite)
        let exponent = Double(x.exponent)
        let m = x.significand  // [1, 2)
        let z = (m - 1) / (m + 1), z2 = z * z
        var term = z, sum = 0.0
        var k = 1.0
        for _ in 0..<30 {
            sum += term / k
            term *= z2
            k += 2
        }
        return 2 * sum + exponent * 0.693_147_180_559_945_309_417_232_121_458_176_568
    }
}
