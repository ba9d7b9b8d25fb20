import ArgumentParser
import Benchmarks
import Foundation
import Model
import Pipeline

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
    var solver: SVAEConfiguration.Solver = .rk4
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
        try NumericOptions.positive("--step", step)
    }

    func run() throws {
        let (seconds, evaluations) = try KernelBenchmarks.ode(solver: solver, batch: batch, latent: latent, hidden: hidden, time: time, step: step,
                                                              adjoint: adjoint, weights: weights, timing: timing.timing)
        timing.report([("ms_per_step", .number(seconds * 1e3)), ("nfe", .integer(evaluations)), ("solver", .string(solver.rawValue)),
                       ("adjoint", .bool(adjoint))],
                      text: String(format: "ode %@ B%d D%d H%d T%d: %.2f ms per forward+backward, %d evaluations", solver.rawValue, batch, latent, hidden, time, seconds * 1e3, evaluations))
    }
}
