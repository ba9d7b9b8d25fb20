import ArgumentParser
import Benchmarks
import Foundation
import Model
import Pipeline

/// `fmridyn bench train`: full training steps of the SVAE on random data.
struct BenchTrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Time full SVAE training steps (forward, backward, Adam) on random data.",
        discussion: """
            The default is the reference configuration bench/train_bench.py implements in PyTorch: \
            --inference initial, bidirectional GRU encoder (hidden 64), NODE MLP 8-64-64-8 tanh, \
            rk4 step 1 over 32 outputs, linear decoder to 400 regions, Adam lr 1e-3.

            Example: fmridyn bench train --rois 400 --window 32 --batch 32 --latent 8 --hidden 64 --dynamics node --solver rk4 --steps 30 --json
            """
    )

    @Option var rois = 400
    @Option var window = 32
    @Option var batch = 32
    @Option var latent = 8
    @Option var hidden = 64
    @Option(help: "node or rnn.")
    var dynamics: SVAEConfiguration.DynamicsKind = .node
    @Option(help: "euler, midpoint, rk4 or dopri5.")
    var solver: SVAEConfiguration.Solver = .rk4
    @Option(help: "initial (the PyTorch reference) or sequential.")
    var inference: SVAEConfiguration.Inference = .initial
    @Option(help: "Timed training steps.")
    var steps = 30
    @Option var threads: Int?
    @Option(help: "Also time steps with random global masks at this sparsity (masked Adam update) and report the overhead.")
    var sparsity: Double?
    @Flag var json = false

    func validate() throws {
        if let sparsity, !(sparsity >= 0 && sparsity < 1) { throw ValidationError("--sparsity must be in [0, 1) (got \(sparsity)).") }
        guard steps >= 1 else { throw ValidationError("--steps must be at least 1.") }
        if let sparsity, !(0..<1).contains(sparsity) { throw ValidationError("--sparsity must be in [0, 1).") }
    }

    func run() throws {
        if let threads { ComputeSettings.setThreads(threads) }
        var configuration = SVAEConfiguration(observations: rois)
        configuration.latent = latent
        configuration.hidden = hidden
        configuration.window = window
        configuration.dynamics = dynamics
        configuration.solver = solver
        configuration.inference = inference
        var benchmark = TrainingStepBenchmark(configuration: configuration)
        benchmark.batch = batch
        benchmark.steps = steps
        benchmark.sparsity = sparsity
        let result = try benchmark.run()
        let median = result.millisecondsPerStep, maskedMedian = result.maskedMillisecondsPerStep
        let (allocatedPerStep, reusedPerStep) = (result.buffersAllocatedPerStep, result.buffersReusedPerStep)
        if json {
            var object: [(String, JSONValue)] = [("ms_per_step", .number(median)), ("windows_per_s", .number(Double(batch) / median * 1000)),
                                                 ("inference", .string(inference.rawValue)), ("dynamics", .string(dynamics.rawValue)), ("solver", .string(solver.rawValue)),
                                                 ("buffers_allocated_per_step", .number(allocatedPerStep)),
                                                 ("buffers_reused_per_step", .number(reusedPerStep))]
            if let maskedMedian {
                object += [("ms_per_step_masked", .number(maskedMedian)), ("mask_overhead", .number(maskedMedian / median - 1)),
                           ("sparsity", .number(sparsity ?? 0))]
            }
            print(JSONValue.object(object).rendered(indent: nil))
        } else {
            print(String(format: "train %@ %@ %@: %.2f ms per step, %.0f windows/s; scalar buffers per step: %.0f from the pool, %.1f newly allocated",
                         inference.rawValue, dynamics.rawValue, solver.rawValue, median, Double(batch) / median * 1000, reusedPerStep, allocatedPerStep))
            if let maskedMedian {
                print(String(format: "with masks at sparsity %.2f: %.2f ms per step (overhead %+.1f%%; masked weights are still multiplied, so no speed-up)",
                             sparsity ?? 0, maskedMedian, 100 * (maskedMedian / median - 1)))
            }
        }
    }
}
