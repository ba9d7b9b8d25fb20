import Core

/// A polynomial vector field f(x) = Theta^T phi(x): phi(x) the M monomials of total degree at
/// most d in K variables (M = C(K + d, d); the constant term first), Theta [M x K].
///
/// The field class of the rollout fits (`RolloutFit`): few parameters (140 for K = 4, d = 3),
/// cheap exact Jacobians (for forward sensitivities and Newton), and the truth's class for the
/// simulator's cubic wells. `callAsFunction(_:)` evaluates it with differentiable tensor
/// operations, so the autodiff-based fixed-point finder can search it.
public struct PolynomialField: Sendable, Equatable {
    public let dimension: Int
    public let degree: Int
    /// [M][K]: the exponent of each variable in each monomial.
    public let exponents: [[Int]]
    /// Theta, row-major [M x K]: coefficient of monomial m in component k at m * K + k.
    public var coefficients: [Double]

    public var termCount: Int { exponents.count }

    /// A zero field (every coefficient 0) unless `coefficients` ([M x K]) is given.
    public init(dimension: Int, degree: Int = 3, coefficients: [Double]? = nil) {
        precondition(dimension >= 1 && degree >= 0, "a polynomial field needs at least one variable and a degree >= 0")
        self.dimension = dimension
        self.degree = degree
        var terms: [[Int]] = [[Int](repeating: 0, count: dimension)]
        // Graded order: every monomial of total degree 1, then 2, ... (each degree's exponents
        // in lexicographic order).
        func monomials(total: Int, variables: Int) -> [[Int]] {
            guard variables > 1 else { return [[total]] }
            return (0...total).reversed().flatMap { first in monomials(total: total - first, variables: variables - 1).map { [first] + $0 } }
        }
        if degree >= 1 { for total in 1...degree { terms += monomials(total: total, variables: dimension) } }
        exponents = terms
        let count = terms.count * dimension
        if let coefficients {
            precondition(coefficients.count == count, "a polynomial field of \(terms.count) terms in \(dimension) variables needs \(count) coefficients")
            self.coefficients = coefficients
        } else {
            self.coefficients = [Double](repeating: 0, count: count)
        }
    }

    /// phi(x) [M] into `features` (resized as needed).
    @inlinable
    public func features(_ x: [Double], into features: inout [Double]) {
        let m = exponents.count
        if features.count != m { features = [Double](repeating: 0, count: m) }
        for term in 0..<m {
            var value = 1.0
            for (j, power) in exponents[term].enumerated() where power > 0 {
                for _ in 0..<power { value *= x[j] }
            }
            features[term] = value
        }
    }

    public func features(_ x: [Double]) -> [Double] {
        var out: [Double] = []
        features(x, into: &out)
        return out
    }

    /// d phi_m / d x_j, row-major [M x K].
    public func featureDerivatives(_ x: [Double]) -> [Double] {
        let (m, k) = (exponents.count, dimension)
        var out = [Double](repeating: 0, count: m * k)
        for term in 0..<m {
            for j in 0..<k where exponents[term][j] > 0 {
                var value = Double(exponents[term][j])
                for (i, power) in exponents[term].enumerated() {
                    let p = i == j ? power - 1 : power
                    for _ in 0..<max(p, 0) { value *= x[i] }
                }
                out[term * k + j] = value
            }
        }
        return out
    }

    /// f(x) [K].
    public func velocity(_ x: [Double]) -> [Double] { velocity(features: features(x)) }

    /// f from phi(x) already computed (`features(_:into:)`).
    public func velocity(features phi: [Double]) -> [Double] {
        let k = dimension
        var out = [Double](repeating: 0, count: k)
        for (term, value) in phi.enumerated() where value != 0 {
            for d in 0..<k { out[d] += value * coefficients[term * k + d] }
        }
        return out
    }

    /// df_i / dx_j, row-major [K x K].
    public func jacobian(_ x: [Double]) -> [Double] {
        let derivatives = featureDerivatives(x)
        let k = dimension
        var out = [Double](repeating: 0, count: k * k)
        for term in 0..<exponents.count {
            for j in 0..<k {
                let dphi = derivatives[term * k + j]
                if dphi == 0 { continue }
                for i in 0..<k { out[i * k + j] += coefficients[term * k + i] * dphi }
            }
        }
        return out
    }

    /// f on a batch z [N, K] -> [N, K], by differentiable tensor operations (for autodiff:
    /// gradients of |f|^2 and Jacobians in the fixed-point finder).
    public func callAsFunction(_ z: Tensor<Double>) -> Tensor<Double> {
        let n = z.shape[0], k = dimension
        let columns = (0..<k).map { z.slice(alongAxis: 1, $0..<($0 + 1)) }
        var powers: [[Tensor<Double>]] = columns.map { [Tensor<Double>(repeating: 1, shape: [n, 1]), $0] }
        for j in 0..<k { while powers[j].count <= degree { powers[j].append(powers[j][powers[j].count - 1] * columns[j]) } }
        let terms = exponents.map { exponent -> Tensor<Double> in
            var value: Tensor<Double>? = nil
            for (j, power) in exponent.enumerated() where power > 0 { value = value.map { $0 * powers[j][power] } ?? powers[j][power] }
            return value ?? Tensor<Double>(repeating: 1, shape: [n, 1])
        }
        let phi = Tensor.concatenate(terms, alongAxis: 1)
        return phi.matmul(Tensor<Double>(shape: [exponents.count, k], scalars: coefficients))
    }
}
