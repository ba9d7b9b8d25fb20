import Core
import Dynamics
import Foundation

/// Timings of the tensor engine's kernels, as PyTorch's and torchdiffeq's benchmarks measure
/// them (`bench/*.py` run the peer side by side).
public enum KernelBenchmarks {
    /// A square single-precision product (N x N times N x N).
    /// - Returns: median seconds and GFLOP/s (2 N^3 flops).
    public static func gemm(size: Int, timing: Timing) -> (seconds: Double, gflops: Double) {
        var random = RandomSource(seed: 1)
        let a = Tensor<Float>(shape: [size, size], scalars: (0..<(size * size)).map { _ in Float(random.uniform(-1, 1)) })
        let b = Tensor<Float>(shape: [size, size], scalars: (0..<(size * size)).map { _ in Float(random.uniform(-1, 1)) })
        var checksum: Float = 0
        let seconds = timing.median { checksum += a.matmul(b).scalars[0] }
        _ = checksum
        return (seconds, 2 * Double(size) * Double(size) * Double(size) / seconds / 1e9)
    }

    /// Forward plus backward of a GRU over [batch, time, input] (loss = sum of outputs).
    /// - Returns: median seconds per step, and the tape's bookkeeping per recorded operation
    ///   (a tiny op timed in bulk), in seconds.
    public static func gru(batch: Int, time: Int, input: Int, hidden: Int, bidirectional: Bool, timing: Timing) -> (seconds: Double, overheadPerOperation: Double) {
        var random = RandomSource(seed: 2)
        let gru = GRU<Float>(inputSize: input, hiddenSize: hidden, random: &random)
        let both = BidirectionalGRU<Float>(inputSize: input, hiddenSize: hidden, random: &random)
        let x = Tensor<Float>(shape: [batch, time, input], scalars: (0..<(batch * time * input)).map { _ in Float(random.normal()) })
        var checksum: Float = 0
        // The bidirectional GRU is timed as training runs it: one BLAS thread for the whole
        // loop, the two directions on the two cores.
        let seconds = bidirectional
            ? ComputeThreads.withSingleThreadedBLAS {
                timing.median {
                    let (value, gradient) = valueAndGradient(of: both) { $0(x).sum() }
                    checksum += value + gradient.forward.weightHH.scalars[0]
                }
            }
            : timing.median {
                let (value, gradient) = valueAndGradient(of: gru) { $0(x).sum() }
                checksum += value + gradient.weightHH.scalars[0]
            }
        let small = Tensor<Float>(shape: [1], scalars: [1])
        let overhead = timing.median {
            _ = valueAndGradient(at: small) { value in
                var y = value
                for _ in 0..<1000 { y = y * Float(1.0001) }
                return y.sum()
            }
        } / 1001
        _ = checksum
        return (seconds, overhead)
    }

    /// The solver names `ode` accepts.
    public static var solvers: [String] { ODEMethod.allCases.map(\.rawValue) }

    /// Forward plus backward of a 2-hidden-layer tanh MLP field over `time` unit steps (loss =
    /// sum of the states at t = 1...time), by backpropagation through the solver or the adjoint.
    /// dopri5 uses torchdiffeq's default tolerances; fixed-step solvers use `step`.
    /// - Parameter weights: a safetensors file with the field's weights
    ///   (network.layers.N.weight/bias) and z0 [batch, latent], e.g. from bench/ode_bench.py.
    /// - Returns: median seconds and the field evaluations of one solve.
    public static func ode(solver method: ODEMethod, batch: Int, latent: Int, hidden: Int, time: Int, step: Double, adjoint: Bool,
                           weights: String?, timing: Timing) throws -> (seconds: Double, evaluations: Int) {
        var random = RandomSource(seed: 3)
        var field = MLPVectorField<Float>(dimension: latent, hidden: [hidden, hidden], activation: .tanh, random: &random)
        var z0 = Tensor<Float>(shape: [batch, latent], scalars: (0..<(batch * latent)).map { _ in Float(random.normal()) })
        if let weights {
            let (tensors, _) = try SafeTensors.read(weights)
            for (name, path) in field.parameters {
                guard let entry = tensors[name], entry.shape == field[keyPath: path].shape else {
                    throw BenchmarkInputError("\(weights) has no tensor \(name) of shape \(field[keyPath: path].shape)")
                }
                field[keyPath: path] = Tensor(shape: entry.shape, scalars: entry.values.map(Float.init))
            }
            guard let start = tensors["z0"], start.shape == [batch, latent] else {
                throw BenchmarkInputError("\(weights) has no tensor z0 of shape [\(batch), \(latent)]")
            }
            z0 = Tensor(shape: start.shape, scalars: start.values.map(Float.init))
        }
        let times = (0...time).map(Double.init)
        let options = ODEOptions(stepSize: method.isAdaptive ? nil : step)
        var evaluations = 0
        let seconds = try timing.median {
            var count = 0
            _ = try valueAndGradient(of: field) { model -> Tensor<Float> in
                let solution = adjoint ? try odeSolveAdjoint(model, initial: z0, times: times, method: method, options: options)
                    : try odeSolve(model, initial: z0, times: times, method: method, options: options)
                count = solution.evaluations
                return solution.states.dropFirst().reduce(Tensor<Float>(0)) { $0 + $1.sum() }
            }
            evaluations = count
        }
        return (seconds, evaluations)
    }
}
