import Core

/// The inference network: a bidirectional GRU over the window, and heads that turn its states
/// (and, for the sequential scheme, the previous latent) into Gaussian posterior parameters.
public struct Encoder<Scalar: TensorScalar>: Module {
    public var recurrent: BidirectionalGRU<Scalar>
    /// [2H] -> [2K]: posterior mean and log-variance.
    public var posterior: Linear<Scalar>
    /// Sequential scheme: z_{t-1} [K] -> [2H], combined with the GRU state (deep Markov model combiner).
    public var combiner: Linear<Scalar>

    public var parameters: [(name: String, path: WritableKeyPath<Encoder, Tensor<Scalar>>)] {
        nested(\.recurrent, prefix: "recurrent") + nested(\.posterior, prefix: "posterior") + nested(\.combiner, prefix: "combiner")
    }

    public init(observations: Int, hidden: Int, latent: Int, random: inout RandomSource) {
        recurrent = BidirectionalGRU(inputSize: observations, hiddenSize: hidden, random: &random)
        posterior = Linear(inputs: 2 * hidden, outputs: 2 * latent, random: &random)
        combiner = Linear(inputs: latent, outputs: 2 * hidden, random: &random)
    }

    /// Mean and log-variance [B, K] from a summary [B, 2H].
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    func gaussian(_ summary: Tensor<Scalar>, latent: Int) -> (mean: Tensor<Scalar>, logVariance: Tensor<Scalar>) {
        let parameters = posterior(summary)
        return (parameters.slice(alongAxis: 1, 0..<latent), parameters.slice(alongAxis: 1, latent..<(2 * latent)))
    }
}
