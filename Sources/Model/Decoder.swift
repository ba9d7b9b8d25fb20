import Core

/// p(x_t | z_t) = N(decoder(z_t), diag(exp(logVariance))): a linear map (its columns are
/// spatial maps) or an MLP, with a learned per-feature variance.
public struct Decoder<Scalar: TensorScalar>: Module {
    public var linear: Linear<Scalar>?
    public var network: MLP<Scalar>?
    public var logVariance: Tensor<Scalar>
    /// D of x = decoder(z) + D c: how nuisance covariates c [Q] enter each feature (nil without).
    public var covariateMap: Linear<Scalar>?

    public var parameters: [(name: String, path: WritableKeyPath<Decoder, Tensor<Scalar>>)] {
        [(name: "log_variance", path: \.logVariance)] + nested(optional: \.linear, prefix: "linear") + nested(optional: \.network, prefix: "network")
            + nested(optional: \.covariateMap, prefix: "covariates")
    }

    public init(latent: Int, observations: Int, hidden: Int, kind: SVAEConfiguration.DecoderKind, random: inout RandomSource) {
        switch kind {
        case .linear: linear = Linear(inputs: latent, outputs: observations, random: &random)
        case .mlp: network = MLP(widths: [latent, hidden, observations], activation: .tanh, random: &random)
        }
        logVariance = Tensor(zeros: [observations])
    }

    /// z [..., K] -> mean [..., R].
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func callAsFunction(_ z: Tensor<Scalar>) -> Tensor<Scalar> {
        if let linear { return linear(z) }
        if let network { return network(z) }
        preconditionFailure("a decoder has a linear map or a network")
    }

    /// Gaussian negative log-likelihood of x under mean, summed over everything.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    func negativeLogLikelihood(_ x: Tensor<Scalar>, mean: Tensor<Scalar>) -> Tensor<Scalar> {
        GaussianTerms.negativeLogLikelihood(x, mean: mean, logVariance: logVariance)
    }
}

import Foundation
