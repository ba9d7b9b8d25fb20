import ArgumentParser
import Core
import Dynamics
import Foundation
import Model

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
    var dynamics: String = "node"
    @Option(help: "euler, midpoint, rk4 or dopri5.")
    var solver: String = "rk4"
    @Option(help: "initial (the PyTorch reference) or sequential.")
    var inference: String = "initial"
    @Option(help: "Timed training steps.")
    var steps = 30
    @Option var threads: Int?
    @Flag var json = false

    func validate() throws {
        guard SVAEConfiguration.DynamicsKind(rawValue: dynamics) != nil else { throw ValidationError("--dynamics must be node or rnn.") }
        guard ODEMethod(rawValue: solver) != nil else { throw ValidationError("--solver must be euler, midpoint, rk4 or dopri5.") }
        guard SVAEConfiguration.Inference(rawValue: inference) != nil else { throw ValidationError("--inference must be initial or sequential.") }
        guard steps >= 1 else { throw ValidationError("--steps must be at least 1.") }
    }

    func run() throws {
        if let threads { ComputeThreads.set(threads) }
        var configuration = SVAEConfiguration(observations: rois)
        configuration.latent = latent
        configuration.hidden = hidden
        configuration.window = window
        configuration.dynamics = SVAEConfiguration.DynamicsKind(rawValue: dynamics) ?? .node
        configuration.solver = ODEMethod(rawValue: solver) ?? .rk4
        configuration.inference = SVAEConfiguration.Inference(rawValue: inference) ?? .initial
        var model = SVAE<Float>(configuration: configuration)
        var adam = Adam<Float>(learningRate: 1e-3)
        var random = RandomSource(seed: 4)
        let x = Tensor<Float>(shape: [batch, window, rois], scalars: (0..<(batch * window * rois)).map { _ in Float(random.normal()) })
        func step() throws {
            let (_, gradient) = try valueAndGradient(of: model) { try $0.objective(x, klWeight: 1, random: &random).loss }
            adam.update(&model, along: gradient)
        }
        for _ in 0..<3 { try step() }
        var times: [Double] = []
        for _ in 0..<steps {
            let start = DispatchTime.now().uptimeNanoseconds
            try step()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
        }
        let median = times.sorted()[times.count / 2]
        if json {
            print(JSONValue.object([("ms_per_step", .number(median)), ("windows_per_s", .number(Double(batch) / median * 1000)),
                                    ("inference", .string(inference)), ("dynamics", .string(dynamics)), ("solver", .string(solver))]).rendered(indent: nil))
        } else {
            print(String(format: "train %@ %@ %@: %.2f ms per step, %.0f windows/s", inference, dynamics, solver, median, Double(batch) / median * 1000))
        }
    }
}
