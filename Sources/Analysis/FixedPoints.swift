import LinearAlgebra
import CLinearAlgebra
import Core
import Dynamics
import Foundation

/// A fixed (or slow) point of a vector field or map.
public struct FixedPoint: Sendable, Equatable {
    public var z: [Double]
    /// q = 1/2 |f(z)|^2 (flow) or 1/2 |F(z) - z|^2 (map).
    public var q: Double
    /// Jacobian eigenvalues (real, imaginary), by LAPACK dgeev.
    public var eigenvalues: [(Double, Double)]
    /// stable, unstable, saddle (or marginal when an eigenvalue sits on the boundary).
    public var classification: String
    /// Starts that converged to this point.
    public var count: Int
    /// For a recurrent map over (z, h): the recurrent memory h* at the point (z holds the
    /// latent part); empty for flows.
    public var memory: [Double] = []

    public static func == (a: FixedPoint, b: FixedPoint) -> Bool {
        a.z == b.z && a.q == b.q && a.classification == b.classification && a.count == b.count
    }
}

/// Settings in the spirit of FixedPointFinder (Golub and Sussillo 2018).
public struct FixedPointOptions: Sendable {
    public var tolQ = 1e-12
    public var maxIterations = 5000
    public var tolUnique = 1e-3
    /// Exclude points farther from the starts' centroid than this many median start distances.
    public var outlierScale = 10.0
    /// Adam's initial step size; with `adaptiveRate` each start's rate then grows by 10% per
    /// step while its q falls (up to `maxRate`) and halves when q rises.
    public var learningRate = 0.01
    public var adaptiveRate = true
    public var maxRate = 1.0
    public var newtonSteps = 20
    /// Adam steps between attempts to finish near rows by Newton polishing (and stagnation checks).
    public var newtonEvery = 50
    /// A row whose q fell by less than this fraction over `newtonEvery` steps sits in a local
    /// minimum of q (a slow point or a ghost) and stops iterating (FixedPointFinder's tol_dq, made
    /// relative and per start).
    public var tolDQ = 1e-6
    /// Rows with q below this try Newton polishing every `newtonEvery` steps (a step is kept
    /// only where it lowers q, so a failed attempt leaves the row's Adam state untouched).
    public var newtonQ = 1e-4
    /// Points with q below this (but above tolQ) are reported as slow points.
    public var slowQ = 1e-4
    public init() {}
}

/// Finds fixed points by joint Adam minimisation of q over all starts (rows near a point are
/// finished early by Newton steps and leave the batch), Newton polishing with the exact
/// Jacobian, outlier exclusion, de-duplication within `tolUnique`, and eigen-analysis.
public enum FixedPointFinder {
    public enum System {
        /// dz/dt = f(z): fixed points f(z) = 0; stability from the sign of Re(lambda).
        case flow
        /// z' = F(z): fixed points F(z) = z; stability from |lambda| against 1.
        case map
    }

    /// - Parameters:
    ///   - function: f (flow) or F (map) on a batch [N, D].
    ///   - starts: initial states.
    public static func find(_ function: @escaping (Tensor<Double>) -> Tensor<Double>, system: System, starts: [[Double]],
                            options: FixedPointOptions = FixedPointOptions()) -> (fixed: [FixedPoint], slow: [FixedPoint]) {
        guard let dimension = starts.first?.count, !starts.isEmpty else { return ([], []) }
        let residual: (Tensor<Double>) -> Tensor<Double> = { z in system == .flow ? function(z) : function(z) - z }
        let count = starts.count
        var points = starts.flatMap { $0 }
        // Adam on q, row by row (each start follows its own gradient; the moments are per entry).
        // Every `newtonEvery` steps, rows already near a point (q < slowQ) try Newton polishing;
        // rows it brings below tolQ leave the batch, so the remaining iterations only pay for
        // the starts still travelling. Rows Newton does not finish keep their Adam state.
        var active = Array(0..<count)
        var moment = [Double](repeating: 0, count: count * dimension), variance = moment
        let (beta1, beta2, epsilon) = (0.9, 0.999, 1e-8)
        var step = 0
        var lastCheck = [Double](repeating: .infinity, count: count)
        var rates = [Double](repeating: options.learningRate, count: count), previousQ = lastCheck
        var retired: [Int] = []
        while step < options.maxIterations && !active.isEmpty {
            step += 1
            let z = Tensor<Double>(shape: [active.count, dimension], scalars: active.flatMap { points[($0 * dimension)..<(($0 + 1) * dimension)] })
            var values: [Double] = []
            let (_, gradient) = valueAndGradient(at: z) { state -> Tensor<Double> in
                let r = residual(state)
                values = r.scalars.array
                return r.squared().sum() * 0.5
            }
            let q = (0..<active.count).map { row in 0.5 * values[(row * dimension)..<((row + 1) * dimension)].reduce(0) { $0 + $1 * $1 } }
            if q.allSatisfy({ $0 < options.tolQ }) { break }
            let correction1 = 1 - Foundation.pow(beta1, Double(step)), correction2 = 1 - Foundation.pow(beta2, Double(step))
            for (row, index) in active.enumerated() {
                // Per-start adaptive rate (FixedPointFinder adapts one global rate the same way):
                // grow while q falls, halve when it rises.
                if options.adaptiveRate {
                    rates[index] = q[row] < previousQ[index] ? min(rates[index] * 1.1, options.maxRate) : max(rates[index] * 0.5, 1e-6)
                    previousQ[index] = q[row]
                }
                let rate = rates[index]
                for d in 0..<dimension {
                    let g = gradient.scalars[row * dimension + d], e = index * dimension + d
                    moment[e] = beta1 * moment[e] + (1 - beta1) * g
                    variance[e] = beta2 * variance[e] + (1 - beta2) * g * g
                    points[e] -= rate * (moment[e] / correction1) / ((variance[e] / correction2).squareRoot() + epsilon)
                }
            }
            if step % options.newtonEvery == 0 {
                let rows = Array(zip(active, q))
                let near = rows.filter { $0.1 < options.newtonQ }.map(\.0)
                if !near.isEmpty {
                    let (polished, finalQ) = polish(near, points: points, dimension: dimension, residual: residual, steps: options.newtonSteps)
                    var done = Set<Int>()
                    for (position, index) in near.enumerated() where finalQ[position] < options.tolQ {
                        for d in 0..<dimension { points[index * dimension + d] = polished[position * dimension + d] }
                        done.insert(index)
                    }
                    active.removeAll { done.contains($0) }
                }
                // Rows stuck in a local minimum of q above tolerance stop here.
                var stuck = Set<Int>()
                for (index, value) in rows where active.contains(index) {
                    if lastCheck[index] - value < options.tolDQ * value { stuck.insert(index) }
                    lastCheck[index] = value
                }
                retired += active.filter { stuck.contains($0) }
                active.removeAll { stuck.contains($0) }
            }
        }
        active += retired
        // Newton polishing of the rest with the exact Jacobian.
        if !active.isEmpty {
            let (polished, _) = polish(active, points: points, dimension: dimension, residual: residual, steps: options.newtonSteps)
            for (position, index) in active.enumerated() {
                for d in 0..<dimension { points[index * dimension + d] = polished[position * dimension + d] }
            }
        }
        let z = Tensor<Double>(shape: [count, dimension], scalars: points)
        let q = qValues(residual, z, dimension)
        // Outliers: far from the starts' centroid.
        let centroid = (0..<dimension).map { d in starts.reduce(0) { $0 + $1[d] } / Double(starts.count) }
        func distance(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }.squareRoot() }
        let startDistances = starts.map { distance($0, centroid) }.sorted()
        let median = max(startDistances[startDistances.count / 2], 1e-12)
        var fixed: [FixedPoint] = [], slow: [FixedPoint] = []
        for row in 0..<starts.count {
            let point = Array(z.scalars[(row * dimension)..<((row + 1) * dimension)])
            guard point.allSatisfy(\.isFinite), distance(point, centroid) <= options.outlierScale * median else { continue }
            let isFixed = q[row] < options.tolQ
            guard isFixed || q[row] < options.slowQ else { continue }
            var list = isFixed ? fixed : slow
            if let index = list.firstIndex(where: { distance($0.z, point) < options.tolUnique }) {
                list[index].count += 1
                if q[row] < list[index].q { list[index].z = point; list[index].q = q[row] }
            } else {
                list.append(FixedPoint(z: point, q: q[row], eigenvalues: [], classification: "", count: 1))
            }
            if isFixed { fixed = list } else { slow = list }
        }
        func analyse(_ points: [FixedPoint]) -> [FixedPoint] {
            points.map { point in
                var result = point
                let jacobian = Jacobian.evaluate(at: Tensor(shape: [1, dimension], scalars: point.z), function)
                result.eigenvalues = eigenvalues(jacobian.scalars.array, dimension: dimension)
                result.classification = classify(result.eigenvalues, system: system)
                return result
            }.sorted { $0.count > $1.count || ($0.count == $1.count && $0.z.lexicographicallyPrecedes($1.z)) }
        }
        return (analyse(fixed), analyse(slow))
    }

    /// Up to `steps` Newton steps z <- z - J^-1 r(z) on the rows `indices` of `points`, each
    /// step kept for a row only where it lowers q. Returns the rows' states and their q.
    static func polish(_ indices: [Int], points: [Double], dimension: Int, residual: (Tensor<Double>) -> Tensor<Double>,
                       steps: Int) -> (states: [Double], q: [Double]) {
        var z = Tensor<Double>(shape: [indices.count, dimension], scalars: indices.flatMap { points[($0 * dimension)..<(($0 + 1) * dimension)] })
        var q = qValues(residual, z, dimension)
        for _ in 0..<steps {
            let values = residual(z)
            let jacobian = Jacobian.evaluate(at: z, residual)
            var next = z.scalars
            for row in 0..<indices.count {
                var a = Array(jacobian.scalars[(row * dimension * dimension)..<((row + 1) * dimension * dimension)])
                var b = Array(values.scalars[(row * dimension)..<((row + 1) * dimension)])
                guard (try? DenseLinearAlgebra.solve(&a, &b, n: dimension)) != nil else { continue }
                for d in 0..<dimension { next[row * dimension + d] -= b[d] }
            }
            let after = qValues(residual, Tensor(shape: z.shape, scalars: next), dimension)
            var merged = z.scalars
            var improved = false
            for row in 0..<indices.count where after[row] < q[row] {
                for d in 0..<dimension { merged[row * dimension + d] = next[row * dimension + d] }
                q[row] = after[row]
                improved = true
            }
            z = Tensor(shape: z.shape, scalars: merged)
            if !improved || q.allSatisfy({ $0 < 1e-3 * Double.ulpOfOne }) { break }
        }
        return (z.scalars.array, q)
    }

    static func qValues(_ residual: (Tensor<Double>) -> Tensor<Double>, _ z: Tensor<Double>, _ dimension: Int) -> [Double] {
        let values = residual(z).scalars
        return (0..<(values.count / dimension)).map { row in
            0.5 * values[(row * dimension)..<((row + 1) * dimension)].reduce(0) { $0 + $1 * $1 }
        }
    }

    /// Eigenvalues of a row-major square matrix (LAPACK dgeev).
    public static func eigenvalues(_ matrix: [Double], dimension n: Int) -> [(Double, Double)] {
        guard let values = try? DenseLinearAlgebra.eigenvalues(matrix, n: n) else { return [] }
        return values.sorted { $0.0 > $1.0 || ($0.0 == $1.0 && $0.1 > $1.1) }
    }

    public static func classify(_ eigenvalues: [(Double, Double)], system: System, tolerance: Double = 1e-9) -> String {
        let measures = eigenvalues.map { system == .flow ? $0.0 : ($0.0 * $0.0 + $0.1 * $0.1).squareRoot() - 1 }
        if measures.allSatisfy({ $0 < -tolerance }) { return "stable" }
        if measures.allSatisfy({ $0 > tolerance }) { return "unstable" }
        if measures.contains(where: { $0 > tolerance }) && measures.contains(where: { $0 < -tolerance }) { return "saddle" }
        return "marginal"
    }
}
