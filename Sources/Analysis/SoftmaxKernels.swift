import Foundation

/// Contiguous-buffer kernels for the multinomial logistic-regression objective: a vectorised
/// double-precision exp and SIMD dot products (Swift does not reassociate floating-point
/// reductions, so the compiler would otherwise keep them scalar).
enum SoftmaxKernels {
    typealias V = SIMD4<Double>
    /// Eight lanes for exp: independent lanes hide the latency of its polynomial chain.
    typealias W = SIMD8<Double>

    /// e^x, 8 lanes: x = k ln 2 + r with k = round(x log2 e) (the 1.5 x 2^52 rounding trick),
    /// |r| <= ln2 / 2 after a Cody-Waite split of ln 2, e^r by its degree-13 Taylor polynomial
    /// (truncation below 1e-17 relative), scaled by 2^k through the exponent bits. Inputs are
    /// clamped to [-708, 709] so 2^k stays a normal double; agrees with libm to a few ulp.
    @inline(__always)
    static func exp(_ input: W) -> W {
        var x = input
        x.replace(with: W(repeating: -708), where: x .< -708)
        x.replace(with: W(repeating: 709), where: x .> 709)
        let magic = 6_755_399_441_055_744.0  // 1.5 x 2^52
        let shifted = x * 1.442_695_040_888_963_4 + magic
        let k = shifted - magic
        let r = x - k * 0.693_147_180_369_123_8 - k * 1.908_214_929_270_587_7e-10
        var p = W(repeating: 1.0 / 6_227_020_800)
        p = p * r + 1.0 / 479_001_600
        p = p * r + 1.0 / 39_916_800
        p = p * r + 1.0 / 3_628_800
        p = p * r + 1.0 / 362_880
        p = p * r + 1.0 / 40_320
        p = p * r + 1.0 / 5_040
        p = p * r + 1.0 / 720
        p = p * r + 1.0 / 120
        p = p * r + 1.0 / 24
        p = p * r + 1.0 / 6
        p = p * r + 0.5
        p = p * r + 1
        p = p * r + 1
        let integer = unsafeBitCast(shifted, to: SIMD8<Int64>.self) &- 0x4338_0000_0000_0000  // k, two's complement
        let scale = (integer &+ 1023) &<< 52
        return p * unsafeBitCast(scale, to: W.self)
    }

    /// x[i] = e^{x[i]} for i < count.
    static func exponentiate(_ x: UnsafeMutablePointer<Double>, count: Int) {
        var i = 0
        while i + 8 <= count {
            let raw = UnsafeMutableRawPointer(x + i)
            raw.storeBytes(of: exp(raw.loadUnaligned(as: W.self)), as: W.self)
            i += 8
        }
        while i < count { x[i] = Foundation.exp(x[i]); i += 1 }
    }

    /// ln x for positive normal x, 4 lanes: x = 2^e m with m in [sqrt(1/2), sqrt(2)), then
    /// ln m = 2 atanh(s) = 2 (s + s^3/3 + ... + s^21/21) with s = (m - 1) / (m + 1), |s| <= 0.172
    /// (truncation below 1e-17), plus e ln 2 split in two parts.
    @inline(__always)
    static func log(_ x: V) -> V {
        let bits = unsafeBitCast(x, to: SIMD4<Int64>.self)
        var exponent = (bits &>> 52) &- 1023
        var mantissa = unsafeBitCast((bits & 0x000F_FFFF_FFFF_FFFF) | 0x3FF0_0000_0000_0000, to: V.self)
        let high = mantissa .> 1.414_213_562_373_095_1
        mantissa.replace(with: mantissa * 0.5, where: high)
        exponent.replace(with: exponent &+ 1, where: unsafeBitCast(high, to: SIMDMask<SIMD4<Int64>>.self))
        let s = (mantissa - 1) / (mantissa + 1)
        let s2 = s * s
        var p = V(repeating: 1.0 / 21)
        p = p * s2 + 1.0 / 19
        p = p * s2 + 1.0 / 17
        p = p * s2 + 1.0 / 15
        p = p * s2 + 1.0 / 13
        p = p * s2 + 1.0 / 11
        p = p * s2 + 1.0 / 9
        p = p * s2 + 1.0 / 7
        p = p * s2 + 1.0 / 5
        p = p * s2 + 1.0 / 3
        p = p * s2 + 1
        // The exponent as a double through the 1.5 x 2^52 trick (no int-to-float conversion).
        let e = unsafeBitCast(exponent &+ 0x4338_0000_0000_0000, to: V.self) - 6_755_399_441_055_744.0
        return e * 0.693_147_180_369_123_8 + (2 * s * p + e * 1.908_214_929_270_587_7e-10)
    }

    /// sum_i ln x[i] for positive x.
    static func sumOfLogs(_ x: UnsafePointer<Double>, count: Int) -> Double {
        var s = V()
        var i = 0
        while i + 4 <= count { s += log(UnsafeRawPointer(x + i).loadUnaligned(as: V.self)); i += 4 }
        var total = s.sum()
        while i < count { total += Foundation.log(x[i]); i += 1 }
        return total
    }

    /// sum_i a[i] b[i].
    static func dot(_ a: UnsafePointer<Double>, _ b: UnsafePointer<Double>, count: Int) -> Double {
        var s0 = V(), s1 = V()
        var i = 0
        while i + 8 <= count {
            s0 += UnsafeRawPointer(a + i).loadUnaligned(as: V.self) * UnsafeRawPointer(b + i).loadUnaligned(as: V.self)
            s1 += UnsafeRawPointer(a + i + 4).loadUnaligned(as: V.self) * UnsafeRawPointer(b + i + 4).loadUnaligned(as: V.self)
            i += 8
        }
        var total = (s0 + s1).sum()
        while i < count { total += a[i] * b[i]; i += 1 }
        return total
    }

    /// sum_i a[i].
    static func sum(_ a: UnsafePointer<Double>, count: Int) -> Double {
        var s = V()
        var i = 0
        while i + 4 <= count { s += UnsafeRawPointer(a + i).loadUnaligned(as: V.self); i += 4 }
        var total = s.sum()
        while i < count { total += a[i]; i += 1 }
        return total
    }
}
