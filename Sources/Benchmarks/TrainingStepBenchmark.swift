import Core
import Dynamics
import Foundation
import Model
import Sparse

/// Full SVAE training steps (forward, backward, Adam) on random data, split across the cores
/// as `fit` splits a batch; bench/train_bench.py implements the reference in PyTorch.
public struct TrainingStepBenchmark: Sendable {
    public var configuration: SVAEConfiguration
    /// Windows per step.
    public var batch = 32
    /// Timed steps.
    public var steps = 30
    /// Also time steps with random global masks at this sparsity (masked Adam update).
    public var sparsity: Double?

    public struct Result: Sendable {
        /// Median milliseconds per dense step.
        public let millisecondsPerStep: Double
        /// Median milliseconds per masked step (with a sparsity).
        public let maskedMillisecondsPerStep: Double?
        /// Scalar buffers per timed step newly allocated, and taken from the pool.
        public let buffersAllocatedPerStep: Double
        public let buffersReusedPerStep: Double
    }

    public init(configuration: SVAEConfiguration) {
        self.configuration = configuration
    }

    public func run() throws -> Result {
        var model = SVAE<Float>(configuration: configuration)
        var adam = Adam<Float>(learningRate: 1e-3)
        var random = RandomSource(seed: 4)
        let (window, rois) = (configuration.window, configuration.observations)
        let x = Tensor<Float>(shape: [batch, window, rois], scalars: (0..<(batch * window * rois)).map { _ in Float(random.normal()) })
        var masks: ParameterMasks<Float>? = nil
        if let sparsity {
            let names = prunableParameters(model)
            let shapes = Dictionary(uniqueKeysWithValues: model.parameters.filter { names.contains($0.name) }.map { ($0.name, model[keyPath: $0.path].shape) })
            masks = Pruning.masks(scores: Pruning.scores(model, names: names, criterion: .random(seed: 9)), order: names, shapes: shapes,
                                  sparsity: sparsity, scope: .global)
            masks?.apply(to: &model)
        }
        // As in `fit`: the batch split across the cores, BLAS on one thread in each part.
        let parts = ComputeThreads.cores
        func step(masked: Bool) throws {
            try ComputeThreads.withSingleThreadedBLAS {
                let result = try model.objectiveAndGradient(x, klWeight: 1, random: &random, parts: parts)
                adam.update(&model, along: result.gradient, masks: masked ? masks : nil)
            }
        }
        for _ in 0..<3 { try step(masked: masks != nil) }
        ScalarPool.shared.resetStatistics()
        // Dense and masked steps alternate so that both see the same machine state.
        var times: [Double] = [], maskedTimes: [Double] = []
        for _ in 0..<max(steps, 1) {
            for masked in masks == nil ? [false] : [false, true] {
                let start = DispatchTime.now().uptimeNanoseconds
                try step(masked: masked)
                let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
                if masked { maskedTimes.append(elapsed) } else { times.append(elapsed) }
            }
        }
        // Scalar buffers per timed step: taken from the pool, or newly allocated (0 once warm).
        let pool = ScalarPool.shared.statistics, timedSteps = Double(times.count + maskedTimes.count)
        return Result(millisecondsPerStep: times.sorted()[times.count / 2],
                      maskedMillisecondsPerStep: maskedTimes.isEmpty ? nil : maskedTimes.sorted()[maskedTimes.count / 2],
                      buffersAllocatedPerStep: Double(pool.allocated) / timedSteps, buffersReusedPerStep: Double(pool.reused) / timedSteps)
    }
}
