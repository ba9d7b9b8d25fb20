import Model

/// A named model configuration the benchmark fits in every cell. The training settings are the
/// demo's (hidden 32, windows 32/8, batch 16, Adam 5e-3, KL warm-up 3 epochs, patience 20).
public struct ModelVariant: Sendable, Hashable {
    public var name: String
    public var configure: @Sendable (inout SVAEConfiguration, inout TrainingConfiguration) -> Void

    public static func == (a: ModelVariant, b: ModelVariant) -> Bool { a.name == b.name }
    public func hash(into hasher: inout Hasher) { hasher.combine(name) }

    public init(name: String, configure: @escaping @Sendable (inout SVAEConfiguration, inout TrainingConfiguration) -> Void) {
        self.name = name
        self.configure = configure
    }

    /// `fit`'s defaults with the demo's sizes, neural-ODE dynamics.
    public static let node = ModelVariant(name: "node") { _, _ in }
    /// The GRU baseline.
    public static let rnn = ModelVariant(name: "rnn") { model, _ in model.dynamics = .rnn }

    public static let all: [ModelVariant] = [.node, .rnn]

    public static func named(_ name: String) -> ModelVariant? { all.first { $0.name == name } }

    /// The configurations for `observations` features and `latent` dimensions.
    public func configurations(observations: Int, latent: Int, seed: UInt64, epochs: Int) -> (SVAEConfiguration, TrainingConfiguration) {
        var model = SVAEConfiguration(observations: observations)
        model.latent = latent
        model.hidden = 32
        model.window = 32
        model.stride = 8
        model.seed = seed
        var training = TrainingConfiguration()
        training.epochs = epochs
        training.batchSize = 16
        training.learningRate = 5e-3
        training.klWarmupEpochs = 3
        training.patience = 20
        configure(&model, &training)
        return (model, training)
    }
}
