import Core
import Foundation

/// The simulator's latent system: a multistable gradient flow driven by the task,
///
///     dz/dt = z - z^3 + gain * u_c(t) + noise,
///
/// per latent dimension a double well with minima at -1 and +1, so the autonomous system has
/// 3^K fixed points: corners of {-1, 1}^K (stable), the origin (unstable) and the rest
/// (saddles). Each task condition c has an input u_c in {-1, 1}^K that pushes the state toward
/// its own corner; at rest (u = 0) the state stays in the well it is in.
public struct LatentSystem: Sendable {
    public let dimension: Int
    /// Condition name -> input direction (entries -1 or +1).
    public let inputs: [String: [Double]]
    public var gain: Double = 1.5
    public var noise: Double = 0.15

    public static let motorConditions = ["left_hand", "right_hand", "left_foot", "right_foot", "tongue"]

    public init(dimension: Int, conditions: [String] = LatentSystem.motorConditions, seed: UInt64) {
        precondition(dimension >= 2, "the simulator needs at least two latent dimensions")
        self.dimension = dimension
        // Distinct corners for the conditions, chosen deterministically from the seed.
        var random = RandomSource(seed: seed ^ 0xC0DE)
        var used = Set<[Double]>()
        var inputs: [String: [Double]] = [:]
        for condition in conditions {
            var corner: [Double]
            repeat {
                corner = (0..<dimension).map { _ in random.uniform() < 0.5 ? -1.0 : 1.0 }
            } while used.contains(corner) && used.count < (1 << min(dimension, 20))
            used.insert(corner)
            inputs[condition] = corner
        }
        self.inputs = inputs
    }

    /// The drift without noise.
    public func drift(_ z: [Double], condition: String?) -> [Double] {
        let u = condition.flatMap { inputs[$0] }
        return z.indices.map { i in z[i] - z[i] * z[i] * z[i] + gain * (u?[i] ?? 0) }
    }

    /// Euler-Maruyama at `step` seconds, returning the state at each requested sample time.
    public func integrate(from z0: [Double], sampleTimes: [Double], condition: (Double) -> String?, step: Double = 0.02,
                          random: inout RandomSource) -> [[Double]] {
        var z = z0
        var t = 0.0
        var samples: [[Double]] = []
        samples.reserveCapacity(sampleTimes.count)
        let scale = noise * step.squareRoot()
        for sample in sampleTimes {
            while t + step <= sample + 1e-12 {
                let f = drift(z, condition: condition(t))
                for i in z.indices { z[i] += step * f[i] + scale * random.normal() }
                t += step
            }
            samples.append(z)
        }
        return samples
    }

    /// Every fixed point of the autonomous system with its Jacobian's eigenvalues (1 - 3 z_i^2,
    /// the Jacobian being diagonal) and classification.
    public var fixedPoints: [(point: [Double], eigenvalues: [Double], kind: String)] {
        var result: [(point: [Double], eigenvalues: [Double], kind: String)] = []
        let total = Int(pow(3.0, Double(dimension)))
        for index in 0..<total {
            var code = index
            let point = (0..<dimension).map { _ -> Double in
                defer { code /= 3 }
                return Double(code % 3 - 1)
            }
            let eigenvalues = point.map { 1 - 3 * $0 * $0 }
            let kind = eigenvalues.allSatisfy { $0 < 0 } ? "stable" : (eigenvalues.allSatisfy { $0 > 0 } ? "unstable" : "saddle")
            result.append((point, eigenvalues, kind))
        }
        return result
    }
}
