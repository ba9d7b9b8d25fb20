import Core
import Dynamics
import Foundation
import Model

/// Fixed points of a fitted SVAE's latent dynamics, and their JSON/CSV forms.
public enum ModelFixedPoints {
    /// The system the model's dynamics define, in Float64: the NODE field (flow) or the RNN
    /// one-step map with its hidden memory reset to zero (map; `find(model:)` analyses the
    /// RNN's full state instead).
    public static func system(of model: SVAE<Float>) -> ((Tensor<Double>) -> Tensor<Double>, FixedPointFinder.System) {
        if let node = model.dynamics.node {
            let field: MLPVectorField<Double> = node.field.converted()
            return ({ field(0, $0) }, .flow)
        }
        let rnn = model.dynamics.rnn!
        let cell = GRU<Double>(weightIH: rnn.cell.weightIH.converted(), weightHH: rnn.cell.weightHH.converted(),
                               biasIH: rnn.cell.biasIH.converted(), biasHH: rnn.cell.biasHH.converted())
        let readout = Linear<Double>(weight: rnn.readout.weight.converted(), bias: nil)
        return ({ z in z + readout(cell.step(z, Tensor(zeros: [z.shape[0], cell.hiddenSize]))) }, .map)
    }

    /// Fixed points of the model's latent dynamics from latent `starts`, under an optional
    /// constant drive d (B u of an input-driven model; nil for none).
    ///
    /// NODE: zeros of f(z) + d. GRU baseline: fixed points of its full state map
    /// (z, h) -> (z + W h' + d, h') with h' = GRU(z, h), i.e. h* = GRU(z*, h*) and W h* + d = 0;
    /// starts begin with h = 0, eigenvalues are those of the (K + H)-dimensional map, and each
    /// point's `z` is its latent part with the memory h* in `memory`.
    public static func find(model: SVAE<Float>, starts: [[Double]], drive: [Double]? = nil,
                            options: FixedPointOptions = FixedPointOptions()) -> (fixed: [FixedPoint], slow: [FixedPoint], system: FixedPointFinder.System) {
        let k = model.configuration.latent
        let driveTensor = drive.map { Tensor<Double>(shape: [1, $0.count], scalars: $0) }
        guard let rnn = model.dynamics.rnn else {
            let (field, system) = self.system(of: model)
            let function: (Tensor<Double>) -> Tensor<Double> = { z in driveTensor.map { field(z) + $0 } ?? field(z) }
            let (fixed, slow) = FixedPointFinder.find(function, system: system, starts: starts, options: options)
            return (fixed, slow, system)
        }
        let cell = GRU<Double>(weightIH: rnn.cell.weightIH.converted(), weightHH: rnn.cell.weightHH.converted(),
                               biasIH: rnn.cell.biasIH.converted(), biasHH: rnn.cell.biasHH.converted())
        let readout = Linear<Double>(weight: rnn.readout.weight.converted(), bias: nil)
        let h = cell.hiddenSize
        let map: (Tensor<Double>) -> Tensor<Double> = { state in
            let z = state.slice(alongAxis: 1, 0..<k), memory = state.slice(alongAxis: 1, k..<(k + h))
            let next = cell.step(z, memory)
            var latent = z + readout(next)
            if let driveTensor { latent = latent + driveTensor }
            return Tensor.concatenate([latent, next], alongAxis: 1)
        }
        let joint = starts.map { $0 + [Double](repeating: 0, count: h) }
        let (fixed, slow) = FixedPointFinder.find(map, system: .map, starts: joint, options: options)
        func split(_ point: FixedPoint) -> FixedPoint {
            var result = point
            result.z = Array(point.z.prefix(k))
            result.memory = Array(point.z.dropFirst(k))
            return result
        }
        return (fixed.map(split), slow.map(split), .map)
    }

    /// Starts: up to `count` latent states drawn from `trajectories` (posterior means) plus
    /// Gaussian noise of `noiseScale`, or standard normal states when there are none.
    public static func starts(from trajectories: [[Double]], dimension: Int, count: Int = 1024, noiseScale: Double = 0.1,
                              seed: UInt64 = 1) -> [[Double]] {
        var random = RandomSource(seed: seed)
        guard !trajectories.isEmpty else { return (0..<count).map { _ in (0..<dimension).map { _ in random.normal() } } }
        return (0..<count).map { _ in
            let state = trajectories[Int(random.next() % UInt64(trajectories.count))]
            return state.map { $0 + noiseScale * random.normal() }
        }
    }

    /// The `fixed_points.json` report of a search.
    public static func report(fixed: [FixedPoint], slow: [FixedPoint], system: FixedPointFinder.System, starts: Int) -> FixedPointReport {
        FixedPointReport(fixed: fixed, slow: slow, system: system, starts: starts)
    }

    public static func csv(_ points: [FixedPoint]) -> String {
        let dimension = points.first?.z.count ?? 0
        var text = "index,classification,count,q,max_real_eigenvalue" + (0..<dimension).map { ",z\($0 + 1)" }.joined() + "\n"
        for (index, point) in points.enumerated() {
            let maxReal = point.eigenvalues.map(\.0).max() ?? .nan
            text += "\(index),\(point.classification),\(point.count),\(point.q),\(maxReal)" + point.z.map { ",\($0)" }.joined() + "\n"
        }
        return text
    }
}
