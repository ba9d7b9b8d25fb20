import Core
import Foundation

/// Integration methods, with torchdiffeq's names and semantics.
public enum ODEMethod: String, Sendable, CaseIterable, Codable {
    /// Fixed step, order 1.
    case euler
    /// Fixed step, order 2.
    case midpoint
    /// Fixed step, order 4: Kutta's 3/8 rule (torchdiffeq's `rk4`).
    case rk4
    /// Adaptive Dormand-Prince 5(4) with FSAL and the 4th-order dense output.
    case dopri5

    public var isAdaptive: Bool { self == .dopri5 }
}

/// Solver options (torchdiffeq's defaults).
public struct ODEOptions: Sendable, Equatable {
    /// Fixed-step solvers: the step (nil: one step between consecutive output times).
    public var stepSize: Double? = nil
    public var relativeTolerance: Double = 1e-7
    public var absoluteTolerance: Double = 1e-9
    public var safety: Double = 0.9
    public var increaseFactor: Double = 10
    public var decreaseFactor: Double = 0.2
    /// Adaptive steps (accepted or rejected) allowed before giving up.
    public var maxSteps: Int = 100_000
    public var firstStep: Double? = nil

    public init(stepSize: Double? = nil, relativeTolerance: Double = 1e-7, absoluteTolerance: Double = 1e-9, maxSteps: Int = 100_000) {
        self.stepSize = stepSize
        self.relativeTolerance = relativeTolerance
        self.absoluteTolerance = absoluteTolerance
        self.maxSteps = maxSteps
    }
}

/// Why a solve stopped.
public struct ODEError: Error, CustomStringConvertible, Equatable, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// The states at the requested times and the cost of getting them.
public struct ODESolution<Scalar: TensorScalar> {
    /// One [B, D] state per requested time (the first is z0).
    public var states: [Tensor<Scalar>]
    /// Vector-field evaluations.
    public var evaluations: Int
    /// Adaptive steps taken (accepted and rejected).
    public var steps: Int

    /// States stacked as [B, T, D].
    public var trajectory: Tensor<Scalar> {
        let (batch, dimension) = (states[0].shape[0], states[0].shape[1])
        return Tensor.concatenate(states.map { $0.reshaped([batch, 1, dimension]) }, alongAxis: 1)
    }
}

/// Solves dz/dt = f(t, z) from z(times[0]) = z0 and returns z at every time in `times`
/// (increasing). One shared step for the whole batch, as torchdiffeq. Every step is made of
/// differentiable tensor operations, so gradients flow through the solver when z0 or the
/// field's parameters are tracked (discretise-then-optimise).
@_specialize(where F == MLPVectorField<Float>)
@_specialize(where F == MLPVectorField<Double>)
public func odeSolve<F: VectorField>(_ field: F, initial z0: Tensor<F.Scalar>, times: [Double], method: ODEMethod,
                                     options: ODEOptions = ODEOptions()) throws -> ODESolution<F.Scalar> {
    guard times.count >= 1, zip(times.dropFirst(), times).allSatisfy({ $0 > $1 }) else {
        throw ODEError("output times must be strictly increasing, got \(times.prefix(5))...")
    }
    guard z0.rank == 2 else { throw ODEError("the initial state must be [batch, dimension], got \(z0.shape)") }
    var counter = EvaluationCounter(field: field)
    if method.isAdaptive {
        return try DormandPrince.solve(&counter, z0: z0, times: times, options: options)
    }
    return try FixedGrid.solve(&counter, z0: z0, times: times, method: method, options: options)
}

/// Counts evaluations and stops on non-finite states.
struct EvaluationCounter<F: VectorField> {
    let field: F
    var evaluations = 0

    mutating func callAsFunction(_ t: Double, _ z: Tensor<F.Scalar>) throws -> Tensor<F.Scalar> {
        evaluations += 1
        let value = field(t, z)
        if !value.isFinite {
            throw ODEError("the vector field returned a non-finite value at t = \(t) (evaluation \(evaluations)); the dynamics diverged. Lower the learning rate, add weight decay, or use a smaller step")
        }
        return value
    }
}

enum FixedGrid {
    @_specialize(where F == MLPVectorField<Float>)
    @_specialize(where F == MLPVectorField<Double>)
    static func solve<F: VectorField>(_ f: inout EvaluationCounter<F>, z0: Tensor<F.Scalar>, times: [Double], method: ODEMethod,
                                      options: ODEOptions) throws -> ODESolution<F.Scalar> {
        typealias T = Tensor<F.Scalar>
        // torchdiffeq's grid: start + k * step for k < ceil((end - start) / step + 1), the last
        // point moved to the end time; without a step size the output times themselves.
        var grid = times
        if let step = options.stepSize {
            guard step > 0 else { throw ODEError("the step size must be positive, got \(step)") }
            let count = Int(((times.last! - times[0]) / step + 1).rounded(.up))
            grid = (0..<count).map { times[0] + Double($0) * step }
            grid[grid.count - 1] = times.last!
        }
        var states = [z0]
        var output = 1
        var y0 = z0
        for index in 0..<(grid.count - 1) {
            let t0 = grid[index], t1 = grid[index + 1], dt = t1 - t0
            let s = F.Scalar(dt)
            let dy: T
            switch method {
            case .euler:
                dy = try f(t0, y0) * s
            case .midpoint:
                let k1 = try f(t0, y0)
                dy = try f(t0 + dt / 2, y0 + k1 * F.Scalar(dt / 2)) * s
            case .rk4:
                let k1 = try f(t0, y0)
                let k2 = try f(t0 + dt / 3, y0 + k1 * F.Scalar(dt / 3))
                let k3 = try f(t0 + 2 * dt / 3, y0 + (k2 - k1 * F.Scalar(1.0 / 3)) * s)
                let k4 = try f(t1, y0 + (k1 - k2 + k3) * s)
                dy = (k1 + (k2 + k3) * F.Scalar(3) + k4) * F.Scalar(dt * 0.125)
            case .dopri5:
                preconditionFailure("adaptive")
            }
            let y1 = y0 + dy
            while output < times.count && t1 >= times[output] {
                // Linear interpolation between grid points (torchdiffeq's default).
                let fraction = (times[output] - t0) / dt
                states.append(fraction == 1 ? y1 : y0 + (y1 - y0) * F.Scalar(fraction))
                output += 1
            }
            y0 = y1
        }
        return ODESolution(states: states, evaluations: f.evaluations, steps: grid.count - 1)
    }
}
