/// Parameter initialisation schemes (PyTorch's formulas; fmridyn's deterministic generator).
public enum Initializer: Sendable {
    /// Xavier/Glorot uniform: U(-a, a), a = gain sqrt(6 / (fanIn + fanOut)).
    case xavierUniform(gain: Double = 1)
    /// Kaiming/He normal: N(0, std^2), std = gain / sqrt(fanIn) (gain sqrt(2) for ReLU).
    case kaimingNormal(gain: Double = 2.0.squareRoot())
    /// PyTorch's default for Linear and GRU: U(-1/sqrt(fanIn), 1/sqrt(fanIn)).
    case uniformFanIn
    /// A (semi-)orthogonal matrix from the QR decomposition of a Gaussian matrix (sign-fixed).
    case orthogonal(gain: Double = 1)
    case zeros

    /// A tensor of `shape` ([fanOut, fanIn] for matrices: PyTorch's weight layout).
    public func make<Scalar: TensorScalar>(_ shape: [Int], using random: inout RandomSource) -> Tensor<Scalar> {
        let count = shape.reduce(1, *)
        let fanOut = shape.first ?? 1
        let fanIn = shape.count > 1 ? shape.dropFirst().reduce(1, *) : shape.first ?? 1
        switch self {
        case .zeros:
            return Tensor(zeros: shape)
        case .xavierUniform(let gain):
            let bound = gain * (6.0 / Double(fanIn + fanOut)).squareRoot()
            return Tensor(shape: shape, scalars: (0..<count).map { _ in Scalar(random.uniform(-bound, bound)) })
        case .uniformFanIn:
            let bound = 1 / Double(fanIn).squareRoot()
            return Tensor(shape: shape, scalars: (0..<count).map { _ in Scalar(random.uniform(-bound, bound)) })
        case .kaimingNormal(let gain):
            let std = gain / Double(fanIn).squareRoot()
            return Tensor(shape: shape, scalars: (0..<count).map { _ in Scalar(std * random.normal()) })
        case .orthogonal(let gain):
            return Tensor(shape: shape, scalars: Self.orthogonal(rows: fanOut, columns: fanIn, gain: gain, random: &random).map { Scalar($0) })
        }
    }

    /// Modified Gram-Schmidt on a Gaussian matrix (deterministic, no LAPACK): rows orthonormal
    /// when rows <= columns, columns orthonormal otherwise; signs follow the diagonal of R as
    /// in PyTorch's orthogonal_.
    static func orthogonal(rows: Int, columns: Int, gain: Double, random: inout RandomSource) -> [Double] {
        let transposed = rows < columns
        let (n, m) = transposed ? (columns, rows) : (rows, columns)  // n x m, n >= m, orthonormal columns
        var a = (0..<(n * m)).map { _ in random.normal() }  // row-major n x m
        for j in 0..<m {
            for previous in 0..<j {
                var dot = 0.0
                for i in 0..<n { dot += a[i * m + j] * a[i * m + previous] }
                for i in 0..<n { a[i * m + j] -= dot * a[i * m + previous] }
            }
            var norm = 0.0
            for i in 0..<n { norm += a[i * m + j] * a[i * m + j] }
            norm = norm.squareRoot()
            for i in 0..<n { a[i * m + j] /= norm }
        }
        var output = [Double](repeating: 0, count: rows * columns)
        for i in 0..<n {
            for j in 0..<m {
                if transposed { output[j * columns + i] = gain * a[i * m + j] } else { output[i * columns + j] = gain * a[i * m + j] }
            }
        }
        return output
    }
}

extension Tensor {
    /// The reparameterisation trick: mean + exp(logVariance / 2) * epsilon, epsilon ~ N(0, I)
    /// drawn from `random` (gradients flow to mean and logVariance).
    /// One recorded operation: d/dmean = 1, d/dlogVariance = (z - mean) / 2.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func reparameterized(mean: Tensor, logVariance: Tensor, using random: inout RandomSource) -> Tensor {
        precondition(mean.shape == logVariance.shape, "reparameterized: mean \(mean.shape) and log-variance \(logVariance.shape) differ")
        let n = mean.count
        var noise = [Scalar](repeating: 0, count: n)
        for i in 0..<n { noise[i] = Scalar(random.normal()) }
        var z = [Scalar](repeating: 0, count: n)
        let m = mean.scalars, lv = logVariance.scalars
        for i in 0..<n { z[i] = m[i] + Scalar.exponential(lv[i] / 2) * noise[i] }
        let shape = mean.shape
        return result(shape: shape, scalars: z, inputs: [mean, logVariance]) { gradient in
            let g = gradient.scalars
            var dLogVariance = [Scalar](repeating: 0, count: n)
            for i in 0..<n { dLogVariance[i] = g[i] * Scalar.exponential(lv[i] / 2) * noise[i] / 2 }
            return [gradient.detached, Tensor(shape: shape, scalars: dLogVariance)]
        }
    }
}
