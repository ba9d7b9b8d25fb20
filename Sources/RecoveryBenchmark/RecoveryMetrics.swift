import Analysis
import Core
import Foundation
import Simulation

/// The benchmark's scores, in the spirit of the Computation-through-Dynamics Benchmark
/// (Versteeg et al. 2024). Every alignment is the least-squares affine map from a method's
/// states to the true ones.
public enum RecoveryMetrics {
    /// Leave-one-group-out affine R^2: for each group (subject), the affine map from `features`
    /// to `truth` is fitted on the other groups' rows and scored on the group's; pooled
    /// 1 - sum of squared residuals / sum of squares about each held-out group's mean.
    /// features[run][t][f], truth[run][t][k], groups[run].
    public static func crossValidatedR2(features: [[[Double]]], truth: [[[Double]]], groups: [String]) -> Double {
        let distinct = Array(Set(groups)).sorted()
        guard distinct.count >= 2 else { return Recovery.affineR2(recovered: features.flatMap { $0 }, truth: truth.flatMap { $0 }) }
        var residual = 0.0, total = 0.0
        for group in distinct {
            let train = groups.indices.filter { groups[$0] != group }, test = groups.indices.filter { groups[$0] == group }
            guard let map = Recovery.affineMap(recovered: train.flatMap { features[$0] }, truth: train.flatMap { truth[$0] }) else { return .nan }
            let rows = test.flatMap { truth[$0] }
            let predicted = test.flatMap { features[$0] }.map { Recovery.apply(map, to: $0) }
            guard let k = rows.first?.count else { continue }
            for c in 0..<k {
                let mean = rows.reduce(0) { $0 + $1[c] } / Double(rows.count)
                for (p, r) in zip(predicted, rows) { residual += (p[c] - r[c]) * (p[c] - r[c]); total += (r[c] - mean) * (r[c] - mean) }
            }
        }
        return total > 0 ? 1 - residual / total : .nan
    }

    /// An affine map [(K_r + 1) x K_t] split into its linear part and offset.
    struct Alignment {
        /// `Recovery.affineMap`'s coefficients: K_r rows of the linear part, then the offset.
        var coefficients: [[Double]]
        init?(_ coefficients: [[Double]]?) {
            guard let coefficients, coefficients.count >= 2 else { return nil }
            self.coefficients = coefficients
        }
        func point(_ z: [Double]) -> [Double] { Recovery.apply(coefficients, to: z) }
        /// A velocity maps through the linear part only.
        func vector(_ v: [Double]) -> [Double] {
            var p = [Double](repeating: 0, count: coefficients[0].count)
            for (i, vi) in v.enumerated() { for j in p.indices { p[j] += vi * coefficients[i][j] } }
            return p
        }
    }

    /// Normalised vector-field error: at the method's states z (rows), the model's velocity
    /// mapped by the alignment's linear part and divided by the TR (true units per second),
    /// against the true autonomous field at the aligned point:
    /// sum |L' v(z) / TR - f(A z)|^2 / sum |f(A z)|^2. `velocity` returns dz per TR.
    static func vectorFieldError(states: [[Double]], velocity: ([[Double]]) -> [[Double]], alignment: Alignment, system: LatentSystem,
                                 repetitionTime: Double) -> Double {
        vectorFieldError(states: states, velocities: velocity(states), alignment: alignment, system: system, repetitionTime: repetitionTime)
    }

    /// The same error from the model's velocities at `states` computed once (so that one model
    /// can be scored under several alignments without evaluating its field again).
    static func vectorFieldError(states: [[Double]], velocities: [[Double]], alignment: Alignment, system: LatentSystem,
                                 repetitionTime: Double) -> Double {
        var error = 0.0, norm = 0.0
        for (z, v) in zip(states, velocities) {
            let truth = system.field(alignment.point(z))
            let mapped = alignment.vector(v).map { $0 / repetitionTime }
            for (a, b) in zip(mapped, truth) { error += (a - b) * (a - b); norm += b * b }
        }
        return norm > 0 ? error / norm : .nan
    }

    /// Fixed-point scores in the aligned (true) space.
    public struct FixedPointScores: Codable, Sendable {
        public var found: Int
        public var stable: Int
        /// Fraction of the true stable points with a found stable point within the radius.
        public var recall: Double?
        /// Fraction of the found stable points within the radius of a true stable point.
        public var precision: Double?
        /// Among found points within the radius of a true fixed point, the fraction whose
        /// classification (stable, unstable, saddle) equals the nearest true point's.
        public var classificationAgreement: Double?
        /// The found stable points, aligned (for the across-seed match).
        public var alignedStable: [[Double]]
        /// The true stable points the true path visits (`visitedWells`), and the fraction of them
        /// with a found stable point within the radius (nil without the true path).
        public var visited: Int? = nil
        public var recallOfVisited: Double? = nil
    }

    /// The true stable points near which the true states [N][K] spend at least 1% of their
    /// volumes (within `radius`): the wells the data can show.
    static func visitedWells(_ trueStable: [[Double]], trajectories: [[Double]], radius: Double) -> [[Double]] {
        trueStable.filter { well in
            Double(trajectories.filter { distance($0, well) <= radius }.count) >= 0.01 * Double(trajectories.count)
        }
    }

    static func distance(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }.squareRoot() }

    /// `fixedPointScores` with the alignment given as `Recovery.affineMap`'s coefficients (nil
    /// scores nothing found).
    public static func fixedPointScores(found: [FixedPoint], affine: [[Double]]?, system: LatentSystem, radius: Double) -> FixedPointScores {
        guard let alignment = Alignment(affine) else {
            return FixedPointScores(found: found.count, stable: 0, recall: nil, precision: nil, classificationAgreement: nil, alignedStable: [])
        }
        return fixedPointScores(found: found, alignment: alignment, system: system, radius: radius)
    }

    /// `trajectories`: the true states [N][K], for the recall of the visited wells (nil: not scored).
    static func fixedPointScores(found: [FixedPoint], alignment: Alignment, system: LatentSystem, radius: Double,
                                 trajectories: [[Double]]? = nil) -> FixedPointScores {
        let truth = system.fixedPoints
        let trueStable = truth.filter { $0.kind == "stable" }.map(\.point)
        let aligned = found.map { (point: alignment.point($0.z), kind: $0.classification) }
        let stable = aligned.filter { $0.kind == "stable" }.map(\.point)
        let recall = trueStable.isEmpty ? nil : Double(trueStable.filter { t in stable.contains { distance($0, t) <= radius } }.count) / Double(trueStable.count)
        let precision = stable.isEmpty ? nil : Double(stable.filter { s in trueStable.contains { distance($0, s) <= radius } }.count) / Double(stable.count)
        var agreeing = 0, near = 0
        for point in aligned {
            guard let nearest = truth.min(by: { distance($0.point, point.point) < distance($1.point, point.point) }),
                  distance(nearest.point, point.point) <= radius else { continue }
            near += 1
            if nearest.kind == point.kind { agreeing += 1 }
        }
        var scores = FixedPointScores(found: found.count, stable: stable.count, recall: recall, precision: precision,
                                      classificationAgreement: near > 0 ? Double(agreeing) / Double(near) : nil, alignedStable: stable)
        if let trajectories {
            let visited = visitedWells(trueStable, trajectories: trajectories, radius: radius)
            scores.visited = visited.count
            scores.recallOfVisited = visited.isEmpty ? nil
                : Double(visited.filter { well in stable.contains { distance($0, well) <= radius } }.count) / Double(visited.count)
        }
        return scores
    }

    /// Whether an autonomous rollout settles on a cycle, and its period.
    public struct CycleScores: Codable, Sendable {
        /// Period (s) of the rollout's tail, nil when it does not oscillate.
        public var period: Double?
        public var truePeriod: Double
        /// Mean distance from the tail's centre, relative to the true cycle's.
        public var amplitudeRatio: Double
        /// An oscillation of at least half the true amplitude with the period within 10%.
        public var found: Bool
    }

    /// Mean radius and period (in steps) of a trajectory's tail [T][K]: the period from the
    /// upward crossings of its centre by the first coordinate (linearly interpolated).
    static func oscillation(_ tail: [[Double]]) -> (radius: Double, period: Double?) {
        guard let k = tail.first?.count else { return (0, nil) }
        let centre = (0..<k).map { c in tail.reduce(0) { $0 + $1[c] } / Double(tail.count) }
        let radius = tail.reduce(0) { $0 + distance($1, centre) } / Double(tail.count)
        var crossings: [Double] = []
        for t in 1..<tail.count {
            let a = tail[t - 1][0] - centre[0], b = tail[t][0] - centre[0]
            if a < 0, b >= 0 { crossings.append(Double(t - 1) + a / (a - b)) }
        }
        guard crossings.count >= 3 else { return (radius, nil) }
        return (radius, (crossings[crossings.count - 1] - crossings[0]) / Double(crossings.count - 1))
    }

    /// The true cycle's radius (about its centre) and period, from a long noise-free run.
    static func trueOscillation(_ system: LatentSystem) -> (radius: Double, period: Double?) {
        var z = [1.0, 0.0]
        let step = 0.01
        var samples: [[Double]] = []
        for index in 0..<40_000 {
            let f = system.field(z)
            for i in z.indices { z[i] += step * f[i] }
            if index >= 20_000, index % 10 == 0 { samples.append(z) }
        }
        let (radius, period) = oscillation(samples)
        return (radius, period.map { $0 * step * 10 })
    }

    static func cycleScores(rollout tail: [[Double]], alignment: Alignment, system: LatentSystem, repetitionTime: Double) -> CycleScores? {
        guard system.cyclePeriod != nil else { return nil }
        let truth = trueOscillation(system)
        let mapped = tail.map { alignment.point($0) }
        let (radius, steps) = oscillation(mapped)
        let period = steps.map { $0 * repetitionTime }
        let truePeriod = truth.period ?? .nan
        let ratio = truth.radius > 0 ? radius / truth.radius : .nan
        let found = period.map { abs($0 - truePeriod) <= 0.1 * truePeriod } == true && ratio >= 0.5
        return CycleScores(period: period, truePeriod: truePeriod, amplitudeRatio: ratio, found: found)
    }

    /// Across seeds: the mean over seed pairs of the fraction of one seed's aligned stable points
    /// matched (Hungarian, within `radius`) by the other's, and the same with the other's points
    /// randomly rotated about their centre (the null of `fmridyn robustness`), over `nullSamples`;
    /// no null when every set has at most one point.
    public static func seedMatch(_ sets: [[[Double]]], radius: Double, nullSamples: Int = 50, seed: UInt64 = 1) -> (matched: Double?, null: Double?) {
        var random = RandomSource(seed: seed)
        var matched: [Double] = [], null: [Double] = []
        for i in sets.indices {
            for j in sets.indices where j > i {
                let (a, b) = (sets[i], sets[j])
                guard !a.isEmpty, !b.isEmpty, let k = b.first?.count else {
                    if !(a.isEmpty && b.isEmpty) { matched.append(0); null.append(0) }
                    continue
                }
                let forward = SeedRobustness.match(a, b, threshold: radius).fractionMatched
                let backward = SeedRobustness.match(b, a, threshold: radius).fractionMatched
                matched.append(min(forward, backward))
                let centre = (0..<k).map { c in b.reduce(0) { $0 + $1[c] } / Double(b.count) }
                var fractions: [Double] = []
                for _ in 0..<nullSamples {
                    let rotation = SeedRobustness.randomRotation(dimension: k, random: &random)
                    let rotated = b.map { p -> [Double] in
                        var q = centre
                        for i in 0..<k { for j in 0..<k { q[j] += (p[i] - centre[i]) * rotation[i][j] } }
                        return q
                    }
                    fractions.append(min(SeedRobustness.match(a, rotated, threshold: radius).fractionMatched,
                                         SeedRobustness.match(rotated, a, threshold: radius).fractionMatched))
                }
                null.append(fractions.reduce(0, +) / Double(fractions.count))
            }
        }
        func mean(_ values: [Double]) -> Double? { values.isEmpty ? nil : values.reduce(0, +) / Double(values.count) }
        // A single point rotated about itself does not move: no null to compare against.
        let informative = sets.contains { $0.count > 1 }
        return (mean(matched), informative ? mean(null) : nil)
    }
}
