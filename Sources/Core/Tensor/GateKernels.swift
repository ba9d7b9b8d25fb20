/// The element-wise part of a GRU step for one batch row, per scalar type:
/// r = sigmoid(xr + hr), z = sigmoid(xz + hz), n = tanh(xn + r hn), h' = (1 - z) n + z h.
/// `x` and `h` point at the row's 3H gate pre-activations (r, z, n blocks).
public protocol GRUGateKernel {
    static func gruGates(x: UnsafePointer<Self>, h: UnsafePointer<Self>, previous: UnsafePointer<Self>, hidden: Int,
                         r: UnsafeMutablePointer<Self>, z: UnsafeMutablePointer<Self>, n: UnsafeMutablePointer<Self>,
                         hn: UnsafeMutablePointer<Self>, next: UnsafeMutablePointer<Self>)

    /// Backward of `gruGates` for one row: from dL/dh' (`gradient`) and the saved gates, the
    /// pre-activation gradients of the input gates `gx` (3H), the recurrent gates `gh` (3H,
    /// the n block multiplied by r) and the direct part of dL/dh (`direct` = dL/dh' * z).
    static func gruGatesBackward(gradient: UnsafePointer<Self>, r: UnsafePointer<Self>, z: UnsafePointer<Self>, n: UnsafePointer<Self>,
                                 hn: UnsafePointer<Self>, previous: UnsafePointer<Self>, hidden: Int,
                                 gx: UnsafeMutablePointer<Self>, gh: UnsafeMutablePointer<Self>, direct: UnsafeMutablePointer<Self>)
}

extension GRUGateKernel where Self: BinaryFloatingPoint {
    @inline(__always)
    static func scalarGatesBackward(_ j: Int, gradient: UnsafePointer<Self>, r: UnsafePointer<Self>, z: UnsafePointer<Self>, n: UnsafePointer<Self>,
                                    hn: UnsafePointer<Self>, previous: UnsafePointer<Self>, hidden: Int,
                                    gx: UnsafeMutablePointer<Self>, gh: UnsafeMutablePointer<Self>, direct: UnsafeMutablePointer<Self>) {
        let g = gradient[j], rj = r[j], zj = z[j], nj = n[j]
        let dan = g * (1 - zj) * (1 - nj * nj)
        let daz = g * (previous[j] - nj) * zj * (1 - zj)
        let dar = dan * hn[j] * rj * (1 - rj)
        gx[j] = dar; gx[hidden + j] = daz; gx[2 * hidden + j] = dan
        gh[j] = dar; gh[hidden + j] = daz; gh[2 * hidden + j] = dan * rj
        direct[j] = g * zj
    }
}

extension Double: GRUGateKernel {
    public static func gruGatesBackward(gradient: UnsafePointer<Double>, r: UnsafePointer<Double>, z: UnsafePointer<Double>, n: UnsafePointer<Double>,
                                        hn: UnsafePointer<Double>, previous: UnsafePointer<Double>, hidden: Int,
                                        gx: UnsafeMutablePointer<Double>, gh: UnsafeMutablePointer<Double>, direct: UnsafeMutablePointer<Double>) {
        for j in 0..<hidden {
            scalarGatesBackward(j, gradient: gradient, r: r, z: z, n: n, hn: hn, previous: previous, hidden: hidden, gx: gx, gh: gh, direct: direct)
        }
    }

    public static func gruGates(x: UnsafePointer<Double>, h: UnsafePointer<Double>, previous: UnsafePointer<Double>, hidden: Int,
                         r: UnsafeMutablePointer<Double>, z: UnsafeMutablePointer<Double>, n: UnsafeMutablePointer<Double>,
                         hn: UnsafeMutablePointer<Double>, next: UnsafeMutablePointer<Double>) {
        for j in 0..<hidden {
            let rj = 1 / (1 + exponential(-(x[j] + h[j])))
            let zj = 1 / (1 + exponential(-(x[hidden + j] + h[hidden + j])))
            let nj = hyperbolicTangent(x[2 * hidden + j] + rj * h[2 * hidden + j])
            r[j] = rj; z[j] = zj; n[j] = nj; hn[j] = h[2 * hidden + j]
            next[j] = (1 - zj) * nj + zj * previous[j]
        }
    }
}

extension Float: GRUGateKernel {
    public static func gruGatesBackward(gradient: UnsafePointer<Float>, r: UnsafePointer<Float>, z: UnsafePointer<Float>, n: UnsafePointer<Float>,
                                        hn: UnsafePointer<Float>, previous: UnsafePointer<Float>, hidden: Int,
                                        gx: UnsafeMutablePointer<Float>, gh: UnsafeMutablePointer<Float>, direct: UnsafeMutablePointer<Float>) {
        typealias V = SIMD8<Float>
        @inline(__always) func load(_ p: UnsafePointer<Float>) -> V { UnsafeRawPointer(p).loadUnaligned(as: V.self) }
        @inline(__always) func store(_ v: V, _ p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: v, as: V.self) }
        var j = 0
        while j + 8 <= hidden {
            let g = load(gradient + j), rv = load(r + j), zv = load(z + j), nv = load(n + j)
            let dan = g * (1 - zv) * (1 - nv * nv)
            let daz = g * (load(previous + j) - nv) * zv * (1 - zv)
            let dar = dan * load(hn + j) * rv * (1 - rv)
            store(dar, gx + j); store(daz, gx + hidden + j); store(dan, gx + 2 * hidden + j)
            store(dar, gh + j); store(daz, gh + hidden + j); store(dan * rv, gh + 2 * hidden + j)
            store(g * zv, direct + j)
            j += 8
        }
        while j < hidden {
            scalarGatesBackward(j, gradient: gradient, r: r, z: z, n: n, hn: hn, previous: previous, hidden: hidden, gx: gx, gh: gh, direct: direct)
            j += 1
        }
    }

    /// Eight lanes at a time with `FastMath` exp (relative error below 2e-7); the tail scalar.
    public static func gruGates(x: UnsafePointer<Float>, h: UnsafePointer<Float>, previous: UnsafePointer<Float>, hidden: Int,
                         r: UnsafeMutablePointer<Float>, z: UnsafeMutablePointer<Float>, n: UnsafeMutablePointer<Float>,
                         hn: UnsafeMutablePointer<Float>, next: UnsafeMutablePointer<Float>) {
        typealias V = SIMD8<Float>
        @inline(__always) func load(_ p: UnsafePointer<Float>) -> V { UnsafeRawPointer(p).loadUnaligned(as: V.self) }
        @inline(__always) func store(_ v: V, _ p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: v, as: V.self) }
        var j = 0
        while j + 8 <= hidden {
            let rv = FastMath.sigmoid(load(x + j) + load(h + j))
            let zv = FastMath.sigmoid(load(x + hidden + j) + load(h + hidden + j))
            let hnv = load(h + 2 * hidden + j)
            let nv = FastMath.tanh(load(x + 2 * hidden + j) + rv * hnv)
            store(rv, r + j); store(zv, z + j); store(nv, n + j); store(hnv, hn + j)
            store((1 - zv) * nv + zv * load(previous + j), next + j)
            j += 8
        }
        while j < hidden {
            let rj = 1 / (1 + exponential(-(x[j] + h[j])))
            let zj = 1 / (1 + exponential(-(x[hidden + j] + h[hidden + j])))
            let nj = hyperbolicTangent(x[2 * hidden + j] + rj * h[2 * hidden + j])
            r[j] = rj; z[j] = zj; n[j] = nj; hn[j] = h[2 * hidden + j]
            next[j] = (1 - zj) * nj + zj * previous[j]
            j += 1
        }
    }
}

/// Vectorised single-precision exp, sigmoid and tanh for the recurrent hot loops.
///
/// exp: x = k ln 2 + r with k = round(x / ln 2), |r| <= ln2/2 (Cody-Waite split of ln 2), e^r by its degree-6
/// Taylor polynomial (truncation below 1e-8 relative), scaled by 2^k through the exponent bits;
/// inputs clamped to [-87, 88] so 2^k stays a normal float. tanh(x) = 1 - 2 / (e^{2x} + 1).
enum FastMath {
    typealias V = SIMD8<Float>

    @inline(__always)
    static func exp(_ input: V) -> V {
        // Clamped by compare-and-select: SIMD `clamped` goes through the standard library's
        // pointwise min/max, which were not inlined and took 4% of a training step.
        let low = V(repeating: -87), high = V(repeating: 88)
        let x = input.replacing(with: low, where: input .< low).replacing(with: high, where: input .> high)
        // Round x log2(e) to the nearest integer with the 1.5 * 2^23 trick: the integer lands
        // in the low mantissa bits, readable without a float-to-int conversion.
        let shifted = x * 1.442_695_04 + 12_582_912
        let k = shifted - 12_582_912
        let r = x - k * 0.693_145_751_953_125 - k * 1.428_606_765_330_187e-06
        var p = V(repeating: 1.0 / 720)
        p = p * r + 1.0 / 120
        p = p * r + 1.0 / 24
        p = p * r + 1.0 / 6
        p = p * r + 0.5
        p = p * r + 1
        p = p * r + 1
        let integer = unsafeBitCast(shifted, to: SIMD8<UInt32>.self) &- 0x4B40_0000  // k, two's complement
        let scale = (integer &+ 127) &<< 23
        return p * unsafeBitCast(scale, to: V.self)
    }

    @inline(__always)
    static func sigmoid(_ x: V) -> V { 1 / (1 + exp(-x)) }

    @inline(__always)
    static func tanh(_ x: V) -> V { 1 - 2 / (exp(2 * x) + 1) }
}
