import Core
import Foundation

/// Gradients by the adjoint method (optimise-then-discretise, Chen et al. 2018): the forward
/// solve keeps only the outputs; the backward pass integrates the augmented system
///
///     dz/dt = f(t, z),   da/dt = -a^T df/dz,   dg/dt = -a^T df/dtheta
///
/// backwards from each output time to the previous one (adding dL/dz(t_i) to a at each), so
/// memory does not grow with the number of solver steps. a(t_0) = dL/dz0, g(t_0) = dL/dtheta.
public func odeSolveAdjoint<F: VectorField>(_ field: F, initial z0: Tensor<F.Scalar>, times: [Double], method: ODEMethod,
                                            options: ODEOptions = ODEOptions(), adjointOptions: ODEOptions? = nil) throws -> ODESolution<F.Scalar> {
    typealias S = F.Scalar
    var constantField = field
    for (_, path) in field.parameters { constantField[keyPath: path] = field[keyPath: path].detached }
    let forward = try odeSolve(constantField, initial: z0.detached, times: times, method: method, options: options)
    let (batch, dimension) = (z0.shape[0], z0.shape[1])
    let trajectory: [S] = forward.states.flatMap(\.scalars)
    let parameterShapes = field.parameters.map { field[keyPath: $0.path].shape }
    let backwardOptions = adjointOptions ?? options
    let inputs = [z0] + field.parameters.map { field[keyPath: $0.path] }
    let stacked = Tensor<S>.customOperation(shape: [times.count, batch, dimension], scalars: trajectory, inputs: inputs) { gradient in
        let gradients = (try? AdjointBackward.run(field: constantField, trajectory: trajectory, outputGradient: gradient.scalars.array,
                                                  times: times, batch: batch, dimension: dimension, method: method,
                                                  options: backwardOptions)) ?? nil
        guard let (dz0, dtheta) = gradients else { return Array(repeating: nil, count: inputs.count) }
        var results: [Tensor<S>?] = [Tensor(shape: [batch, dimension], scalars: dz0)]
        var offset = 0
        for shape in parameterShapes {
            let count = shape.reduce(1, *)
            results.append(Tensor(shape: shape, scalars: Array(dtheta[offset..<(offset + count)])))
            offset += count
        }
        return results
    }
    let states = (0..<times.count).map { stacked.slice(alongAxis: 0, $0..<($0 + 1)).reshaped([batch, dimension]) }
    return ODESolution(states: states, evaluations: forward.evaluations, steps: forward.steps)
}

/// The augmented system in reversed time tau = -t, flattened into one state
/// [z (B*D), a (B*D), g (P)] so the forward solvers integrate it.
struct AugmentedAdjointField<F: VectorField>: VectorField {
    typealias Scalar = F.Scalar
    let field: F
    let batch: Int
    let dimension: Int
    var parameters: [(name: String, path: WritableKeyPath<AugmentedAdjointField, Tensor<Scalar>>)] { [] }

    func callAsFunction(_ tau: Double, _ state: Tensor<Scalar>) -> Tensor<Scalar> {
        let n = batch * dimension
        // Views of the flat state (no copies).
        let z = Tensor<Scalar>(shape: [batch, dimension], scalars: state.scalars.view(0..<n))
        let a = Tensor<Scalar>(shape: [batch, dimension], scalars: state.scalars.view(n..<(2 * n)))
        var probe = AdjointProbe(field: field, state: z)
        var value: Tensor<Scalar>? = nil
        let (_, gradient) = valueAndGradient(of: probe) { model in
            let f = model.field(-tau, model.state)
            value = f
            return (f * a).sum()
        }
        probe = gradient
        // d/dtau = -(d/dt): [-f, +a^T df/dz, +a^T df/dtheta], written block by block (this
        // code is generic over the field, so element loops would go through protocol witnesses).
        let parts = [probe.state.scalars] + probe.field.parameters.map { probe.field[keyPath: $0.path].scalars }
        var derivative = TensorStorage<Scalar>(zeros: state.count)
        derivative.withUnsafeMutableBufferPointer { out in
            guard let base = out.baseAddress else { return }
            value?.scalars.withUnsafeBufferPointer { f in Scalar.axpy(-1, f.baseAddress!, base, count: f.count) }
            var position = n
            for part in parts {
                part.withUnsafeBufferPointer { block in
                    UnsafeMutableRawPointer(base + position).copyMemory(from: UnsafeRawPointer(block.baseAddress!),
                                                                        byteCount: block.count * MemoryLayout<Scalar>.stride)
                    position += block.count
                }
            }
        }
        return Tensor(shape: state.shape, scalars: derivative)
    }
}

/// The field's parameters and the state, as one module, for vector-Jacobian products.
struct AdjointProbe<F: VectorField>: Module {
    typealias Scalar = F.Scalar
    var field: F
    var state: Tensor<Scalar>
    var parameters: [(name: String, path: WritableKeyPath<AdjointProbe, Tensor<Scalar>>)] {
        nested(\.field, prefix: "field") + [("state", \.state)]
    }
}

enum AdjointBackward {
    static func run<F: VectorField>(field: F, trajectory: [F.Scalar], outputGradient: [F.Scalar], times: [Double],
                                    batch: Int, dimension: Int, method: ODEMethod, options: ODEOptions) throws -> ([F.Scalar], [F.Scalar]) {
        let n = batch * dimension
        let parameterCount = field.parameterCount
        let augmented = AugmentedAdjointField(field: field, batch: batch, dimension: dimension)
        var adjoint = Array(outputGradient[((times.count - 1) * n)..<(times.count * n)])
        var parameterGradient = [F.Scalar](repeating: 0, count: parameterCount)
        var z = Array(trajectory[((times.count - 1) * n)..<(times.count * n)])
        for index in stride(from: times.count - 1, to: 0, by: -1) {
            let state = Tensor<F.Scalar>(shape: [1, 2 * n + parameterCount], scalars: z + adjoint + parameterGradient)
            let solution = try odeSolve(augmented, initial: state, times: [-times[index], -times[index - 1]], method: method, options: options)
            let end = solution.states[1].scalars.array
            // Restart z from the stored forward value (as torchdiffeq does) to limit drift.
            z = Array(trajectory[((index - 1) * n)..<(index * n)])
            adjoint = Array(end[n..<(2 * n)])
            parameterGradient = Array(end[(2 * n)...])
            for i in 0..<n { adjoint[i] += outputGradient[(index - 1) * n + i] }
        }
        return (adjoint, parameterGradient)
    }
}
