import Core

/// Scores a model on windows without training it: the mean ELBO per window with fixed
/// reparameterisation noise, so that two models (a base and its adapter, a dense and a pruned
/// one) are compared on the same draws. The trainer scores its validation and test splits
/// with it.
public struct Evaluator: Sendable {
    /// Seed of the noise draws (the trainer's: the model seed mixed with a constant).
    public var seed: UInt64
    /// Windows per forward pass.
    public var batchSize: Int

    public init(seed: UInt64, batchSize: Int = TrainingConfiguration().batchSize) {
        self.seed = seed
        self.batchSize = batchSize
    }

    /// The evaluator a trainer of `model` uses.
    public init(model: SVAEConfiguration, batchSize: Int = TrainingConfiguration().batchSize) {
        self.init(seed: model.seed ^ 0x0A11_DA7E, batchSize: batchSize)
    }

    /// Mean ELBO per window over `windows` of `data` (nats per window; higher is better).
    public func meanELBO(_ svae: SVAE<Float>, _ data: WindowDataset, windows: [WindowDataset.Window]) throws -> Double {
        guard !windows.isEmpty else { return .nan }
        var noise = RandomSource(seed: seed)
        var total = 0.0
        for start in stride(from: 0, to: windows.count, by: batchSize) {
            let slice = Array(windows[start..<min(windows.count, start + batchSize)])
            let inputs: Tensor<Float>? = svae.configuration.inputCount > 0 ? data.inputBatch(slice) : nil
            let objective = try svae.objective(data.batch(slice), inputs: inputs, klWeight: 1, random: &noise)
            total += Double(objective.reconstruction + objective.kl) * Double(slice.count)
        }
        return -total / Double(windows.count)
    }
}
