import ArgumentParser
import Core
import Dynamics
import Foundation

/// `fmridyn bench ode`: forward plus backward of a neural ODE, as torchdiffeq's benchmark.
struct BenchODE: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ode",
        abstract: "Time forward + backward of a 2-hidden-layer tanh MLP field over unit time steps.",
        discussion: """
            The loss is the sum of the states at t = 1...time; gradients by backpropagation through \
            the solver (or --adjoint). dopri5 uses torchdiffeq's default tolerances (rtol 1e-7, \
            atol 1e-9); fixed-step solvers use --step (default 1).

            Example: fmridyn bench ode --solver dopri5 --batch 32 --latent 8 --hidden 64 --time 32 --json
            """
    )

    @Option(help: "euler, midpoint, rk4 or dopri5.")
    var solver: String = "rk4"
    @Option var batch = 32
    @Option var latent = 8
    @Option var hidden = 64
    @Option(help: "Number of unit time steps.")
    var time = 32
    @Option(help: "Step size of fixed-step solvers.")
    var step = 1.0
    @Flag(help: "Gradients by the adjoint method.")
    var adjoint = false
    @Option(help: "safetensors file with the field's weights (network.layers.N.weight/bias) and z0, e.g. from bench/ode_bench.py.")
    var weights: String?
    @OptionGroup var timing: BenchRunOptions

    func validate() throws {
        guard ODEMethod(rawValue: solver) != nil else { throw ValidationError("--solver must be euler, midpoint, rk4 or dopri5.") }
        try NumericOptions.positive("--step", step)
    }

    func run() throws {
        let method = ODEMethod(rawValue: solver) ?? .rk4
        var random = RandomSource(seed: 3)
        var field = MLPVectorField<Float>(dimension: latent, hidden: [hidden, hidden], activation: .tanh, random: &random)
        var z0 = Tensor<Float>(shape: [batch, latent], scalars: (0..<(batch * latent)).map { _ in Float(random.normal()) })
        if let weights {
            let (tensors, _) = try SafeTensors.read(weights)
            for (name, path) in field.parameters {
                guard let entry = tensors[name], entry.shape == field[keyPath: path].shape else {
                    throw ValidationError("\(weights) has no tensor \(name) of shape \(field[keyPath: path].shape)")
                }
                field[keyPath: path] = Tensor(shape: entry.shape, scalars: entry.values.map(Float.init))
            }
            guard let start = tensors["z0"], start.shape == [batch, latent] else {
                throw ValidationError("\(weights) has no tensor z0 of shape [\(batch), \(latent)]")
            }
            z0 = Tensor(shape: start.shape, scalars: start.values.map(Float.init))
        }
        let times = (0...time).map(Double.init)
        let options = ODEOptions(stepSize: method.isAdaptive ? nil : step)
        var evaluations = 0
        var failure: Error?
        let seconds = timing.measure {
            do {
                var count = 0
                _ = try valueAndGradient(of: field) { model -> Tensor<Float> in
                    let solution = adjoint ? try odeSolveAdjoint(model, initial: z0, times: times, method: method, options: options)
                        : try odeSolve(model, initial: z0, times: times, method: method, options: options)
                    count = solution.evaluations
                    return solution.states.dropFirst().reduce(Tensor<Float>(0)) { $0 + $1.sum() }
                }
                evaluations = count
            } catch {
                failure = error
            }
        }
        if let failure { throw failure }
        timing.report([("ms_per_step", .number(seconds * 1e3)), ("nfe", .integer(evaluations)), ("solver", .string(solver)),
                       ("adjoint", .bool(adjoint))],
                      text: String(format: "ode %@ B%d D%d H%d T%d: %.2f ms per forward+backward, %d evaluations", solver, batch, latent, hidden, time, seconds * 1e3, evaluations))
    }
}
