import Core
import Foundation

/// The families of true latent dynamics the simulator can generate (`fmridyn simulate --system`).
/// Times are in seconds.
public enum SystemKind: String, Codable, Sendable, CaseIterable {
    /// dz_i/dt = z_i - z_i^3 + 1.5 u_i(t): a double well per dimension, 3^K fixed points (corners
    /// of {-1, 1}^K stable); the task input is held for the whole block.
    case multistable
    /// dz/dt = A z + g u(t), A = [[-0.15, -w], [w, -0.15]], w = 2 pi / 16 s: one stable spiral at
    /// the origin; each condition holds the state at its own displaced equilibrium.
    case rotation
    /// Hopf normal form dz/dt = 0.5 (1 - |z|^2) z + w J z + g u(t), w = 2 pi / 20 s: an unstable
    /// spiral at the origin inside a stable cycle of radius 1 and period 20 s.
    case limitCycle = "limit-cycle"
    /// The double wells of `multistable`, but the task only kicks the state (2 s pulses of gain
    /// 3 at block onsets): the autonomous field holds it in the condition's corner through the
    /// block and the following rest.
    case switching
    /// Van der Pol oscillator (mu = 1) slowed to a 20 s period: x' = s y, y' = s ((1 - x^2) y - x),
    /// s = 6.6633 / 20; an unstable point inside a non-circular cycle. Held out of tuning.
    case vanDerPol = "vanderpol"

    /// Systems whose dimension is fixed at 2 (the others take `--latent-dim`).
    public var isPlanar: Bool { [.rotation, .limitCycle, .vanDerPol].contains(self) }
}

/// The simulator's latent system: one of `SystemKind`, driven by the task's condition inputs and
/// Euler-Maruyama noise.
public struct LatentSystem: Sendable {
    public let kind: SystemKind
    public let dimension: Int
    /// Condition name -> input direction (entries -1 or +1 for the wells; unit vectors on the
    /// circle for the planar systems).
    public let inputs: [String: [Double]]
    public var gain: Double = 1.5
    public var noise: Double = 0.15

    public static let motorConditions = ["left_hand", "right_hand", "left_foot", "right_foot", "tongue"]

    /// Angular frequencies (rad/s) and rates of the planar systems.
    static let rotationFrequency = 2 * Double.pi / 16, rotationDecay = 0.15
    static let cycleSeconds = 20.0
    static let cycleFrequency = 2 * Double.pi / cycleSeconds, cycleRate = 0.5
    /// Van der Pol's period at mu = 1 is 6.6633 time units; this scale makes it 20 s.
    static let vanDerPolPeriod = 6.6633, vanDerPolScale = vanDerPolPeriod / cycleSeconds
    /// Pulse length (s) of `switching`'s kicks.
    public static let pulseLength = 2.0

    public init(dimension: Int, conditions: [String] = LatentSystem.motorConditions, seed: UInt64) {
        self.init(kind: .multistable, dimension: dimension, conditions: conditions, seed: seed)
    }

    /// `dimension` is ignored (2) for the planar systems.
    public init(kind: SystemKind, dimension: Int, conditions: [String] = LatentSystem.motorConditions, seed: UInt64) {
        precondition(dimension >= 2, "the simulator needs at least two latent dimensions")
        self.kind = kind
        self.dimension = kind.isPlanar ? 2 : dimension
        var inputs: [String: [Double]] = [:]
        if kind.isPlanar {
            // Directions evenly around the circle, rotated by a seed-dependent phase.
            var random = RandomSource(seed: seed ^ 0xC0DE)
            let phase = random.uniform() * 2 * Double.pi
            for (index, condition) in conditions.enumerated() {
                let angle = phase + 2 * Double.pi * Double(index) / Double(conditions.count)
                inputs[condition] = [cos(angle), sin(angle)]
            }
            switch kind {
            case .rotation: gain = 0.45
            case .limitCycle: gain = 0.8
            default: gain = 0.3
            }
        } else {
            // Distinct corners for the conditions, chosen deterministically from the seed.
            var random = RandomSource(seed: seed ^ 0xC0DE)
            var used = Set<[Double]>()
            for condition in conditions {
                var corner: [Double]
                repeat {
                    corner = (0..<dimension).map { _ in random.uniform() < 0.5 ? -1.0 : 1.0 }
                } while used.contains(corner) && used.count < (1 << min(dimension, 20))
                used.insert(corner)
                inputs[condition] = corner
            }
            if kind == .switching { gain = 3 }
        }
        self.inputs = inputs
    }

    /// The equations, for ground-truth files.
    public var equation: String {
        switch kind {
        case .multistable: return "dz/dt = z - z^3 + \(gain) u_c(t) + noise (per dimension)"
        case .switching: return "dz/dt = z - z^3 + \(gain) u_c(t) + noise (per dimension; u_c only in the first \(Self.pulseLength) s of each block)"
        case .rotation: return "dz/dt = [[-0.15, -w], [w, -0.15]] z + \(gain) u_c(t) + noise, w = 2 pi / 16 s"
        case .limitCycle: return "dz/dt = 0.5 (1 - |z|^2) z + w [-z2, z1] + \(gain) u_c(t) + noise, w = 2 pi / 20 s"
        case .vanDerPol: return "dx/dt = s y, dy/dt = s ((1 - x^2) y - x) + \(gain) u_c(t) + noise, s = 6.6633 / 20"
        }
    }

    /// The autonomous drift f(z) (no input, no noise), per second.
    public func field(_ z: [Double]) -> [Double] {
        switch kind {
        case .multistable, .switching:
            return z.map { $0 - $0 * $0 * $0 }
        case .rotation:
            let (a, w) = (Self.rotationDecay, Self.rotationFrequency)
            return [-a * z[0] - w * z[1], w * z[0] - a * z[1]]
        case .limitCycle:
            let radial = Self.cycleRate * (1 - z[0] * z[0] - z[1] * z[1])
            let w = Self.cycleFrequency
            return [radial * z[0] - w * z[1], w * z[0] + radial * z[1]]
        case .vanDerPol:
            let s = Self.vanDerPolScale
            return [s * z[1], s * ((1 - z[0] * z[0]) * z[1] - z[0])]
        }
    }

    /// The Jacobian of `field` at z, row-major [K][K].
    public func jacobian(_ z: [Double]) -> [[Double]] {
        switch kind {
        case .multistable, .switching:
            var rows = [[Double]](repeating: [Double](repeating: 0, count: dimension), count: dimension)
            for i in 0..<dimension { rows[i][i] = 1 - 3 * z[i] * z[i] }
            return rows
        case .rotation:
            let (a, w) = (Self.rotationDecay, Self.rotationFrequency)
            return [[-a, -w], [w, -a]]
        case .limitCycle:
            let (c, w) = (Self.cycleRate, Self.cycleFrequency)
            let (x, y) = (z[0], z[1])
            let radial: Double = c * (1 - x * x - y * y)
            let xx: Double = 2 * c * x * x, xy: Double = 2 * c * x * y, yy: Double = 2 * c * y * y
            return [[radial - xx, -xy - w], [w - xy, radial - yy]]
        case .vanDerPol:
            let s = Self.vanDerPolScale
            let (x, y) = (z[0], z[1])
            let lower: Double = s * (-2 * x * y - 1), corner: Double = s * (1 - x * x)
            return [[0, s], [lower, corner]]
        }
    }

    /// The input of `condition` at `elapsed` seconds into its block (nil at rest).
    func input(condition: String?, elapsed: Double) -> [Double]? {
        guard let condition, let u = inputs[condition] else { return nil }
        if kind == .switching, elapsed >= Self.pulseLength { return nil }
        return u
    }

    /// The drift without noise under the input of `condition` (held for the whole block).
    public func drift(_ z: [Double], condition: String?) -> [Double] {
        drift(z, input: condition.flatMap { inputs[$0] })
    }

    func drift(_ z: [Double], input u: [Double]?) -> [Double] {
        var f = field(z)
        if let u { for i in f.indices { f[i] += gain * u[i] } }
        return f
    }

    /// Euler-Maruyama at `step` seconds, returning the state at each requested sample time.
    /// `condition` gives the condition at a time and how long it has been on (nil at rest).
    public func integrate(from z0: [Double], sampleTimes: [Double], condition: (Double) -> (name: String, elapsed: Double)?,
                          step: Double = 0.02, random: inout RandomSource) -> [[Double]] {
        var z = z0
        var t = 0.0
        var samples: [[Double]] = []
        samples.reserveCapacity(sampleTimes.count)
        let scale = noise * step.squareRoot()
        for sample in sampleTimes {
            while t + step <= sample + 1e-12 {
                let current = condition(t)
                let f = drift(z, input: input(condition: current?.name, elapsed: current?.elapsed ?? 0))
                for i in z.indices { z[i] += step * f[i] + scale * random.normal() }
                t += step
            }
            samples.append(z)
        }
        return samples
    }

    /// Every fixed point of the autonomous system with its Jacobian's eigenvalues (real parts,
    /// and imaginary parts for the planar systems) and classification.
    public var fixedPoints: [(point: [Double], eigenvalues: [Double], kind: String)] {
        detailedFixedPoints.map { ($0.point, $0.eigenvalues.map(\.re), $0.kind) }
    }

    /// Fixed points with complex eigenvalues (re, im).
    public var detailedFixedPoints: [(point: [Double], eigenvalues: [(re: Double, im: Double)], kind: String)] {
        func classify(_ real: [Double]) -> String {
            real.allSatisfy { $0 < 0 } ? "stable" : (real.allSatisfy { $0 > 0 } ? "unstable" : "saddle")
        }
        switch kind {
        case .multistable, .switching:
            var result: [(point: [Double], eigenvalues: [(re: Double, im: Double)], kind: String)] = []
            let total = Int(pow(3.0, Double(dimension)))
            for index in 0..<total {
                var code = index
                let point = (0..<dimension).map { _ -> Double in
                    defer { code /= 3 }
                    return Double(code % 3 - 1)
                }
                let real = point.map { 1 - 3 * $0 * $0 }
                result.append((point, real.map { ($0, 0) }, classify(real)))
            }
            return result
        case .rotation, .limitCycle, .vanDerPol:
            let j = jacobian([0, 0])
            let trace = j[0][0] + j[1][1], determinant = j[0][0] * j[1][1] - j[0][1] * j[1][0]
            let discriminant = trace * trace / 4 - determinant
            let eigenvalues: [(re: Double, im: Double)] = discriminant >= 0
                ? [(trace / 2 + discriminant.squareRoot(), 0), (trace / 2 - discriminant.squareRoot(), 0)]
                : [(trace / 2, (-discriminant).squareRoot()), (trace / 2, -(-discriminant).squareRoot())]
            return [([0, 0], eigenvalues, classify(eigenvalues.map(\.re)))]
        }
    }

    /// The period (s) of the stable cycle, nil for systems without one.
    public var cyclePeriod: Double? {
        switch kind {
        case .limitCycle, .vanDerPol: return Self.cycleSeconds
        default: return nil
        }
    }
}
