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
    public var learningRate = 0.01
    public var newtonSteps = 20
    /// Points with q below this (but above tolQ) are reported as slow points.
    public var slowQ = 1e-4
    public init() {}
}

/// Finds fixed points by joint Adam minimisation of q over all starts, Newton polishing with
/// the exact Jacobian, outlier exclusion, de-duplication within `tolUnique`, and eigen-analysis.
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
        var z = Tensor<Double>(shape: [starts.count, dimension], scalars: starts.flatMap { $0 })
        // Joint Adam on the sum of q over starts (rows are independent, so each row follows its own gradient).
        var model = SingleTensor(value: z)
        var adam = Adam<Double>(learningRate: options.learningRate)
        for _ in 0..<options.maxIterations {
            let (_, gradient) = valueAndGradient(of: model) { residual($0.value).squared().sum() * 0.5 }
            let q = qValues(residual, model.value, dimension)
            if q.max() ?? 0 < options.tolQ { break }
            adam.update(&model, along: gradient)
        }
        z = model.value
        // Newton polishing with the exact Jacobian.
        for _ in 0..<options.newtonSteps {
            let values = residual(z)
            let jacobian = Jacobian.evaluate(at: z, residual)
            var next = z.scalars
            for row in 0..<starts.count {
                var a = Array(jacobian.scalars[(row * dimension * dimension)..<((row + 1) * dimension * dimension)])
                var b = Array(values.scalars[(row * dimension)..<((row + 1) * dimension)])
                var pivots = [Int32](repeating: 0, count: dimension)
                guard LAPACKE_dgesv(LAPACK_ROW_MAJOR, Int32(dimension), 1, &a, Int32(dimension), &pivots, &b, 1) == 0 else { continue }
                for d in 0..<dimension { next[row * dimension + d] -= b[d] }
            }
            let candidate = Tensor<Double>(shape: z.shape, scalars: next)
            let before = qValues(residual, z, dimension), after = qValues(residual, candidate, dimension)
            var merged = z.scalars
            for row in 0..<starts.count where after[row] < before[row] {
                for d in 0..<dimension { merged[row * dimension + d] = next[row * dimension + d] }
            }
            z = Tensor(shape: z.shape, scalars: merged)
        }
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
                result.eigenvalues = eigenvalues(jacobian.scalars, dimension: dimension)
                result.classification = classify(result.eigenvalues, system: system)
                return result
            }.sorted { $0.count > $1.count || ($0.count == $1.count && $0.z.lexicographicallyPrecedes($1.z)) }
        }
        return (analyse(fixed), analyse(slow))
    }

    static func qValues(_ residual: (Tensor<Double>) -> Tensor<Double>, _ z: Tensor<Double>, _ dimension: Int) -> [Double] {
        let values = residual(z).scalars
        return (0..<(values.count / dimension)).map { row in
            0.5 * values[(row * dimension)..<((row + 1) * dimension)].reduce(0) { $0 + $1 * $1 }
        }
    }

    /// Eigenvalues of a row-major square matrix (LAPACK dgeev).
    public static func eigenvalues(_ matrix: [Double], dimension n: Int) -> [(Double, Double)] {
        var a = matrix
        var real = [Double](repeating: 0, count: n), imaginary = [Double](repeating: 0, count: n)
        var left = [Double](repeating: 0, count: 1), right = [Double](repeating: 0, count: 1)
        let status = LAPACKE_dgeev(LAPACK_ROW_MAJOR, Int8(UInt8(ascii: "N")), Int8(UInt8(ascii: "N")), Int32(n), &a, Int32(n),
                                   &real, &imaginary, &left, 1, &right, 1)
        guard status == 0 else { return [] }
        return zip(real, imaginary).map { ($0, $1) }.sorted { $0.0 > $1.0 || ($0.0 == $1.0 && $0.1 > $1.1) }
    }

    public static func classify(_ eigenvalues: [(Double, Double)], system: System, tolerance: Double = 1e-9) -> String {
        let measures = eigenvalues.map { system == .flow ? $0.0 : ($0.0 * $0.0 + $0.1 * $0.1).squareRoot() - 1 }
        if measures.allSatisfy({ $0 < -tolerance }) { return "stable" }
        if measures.allSatisfy({ $0 > tolerance }) { return "unstable" }
        if measures.contains(where: { $0 > tolerance }) && measures.contains(where: { $0 < -tolerance }) { return "saddle" }
        return "marginal"
    }
}
