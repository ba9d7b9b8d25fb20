import Core

extension SVAE {
    /// The latent state at the last step of each window, from the window's data only (so it is
    /// causal with respect to that step): windows x [B, W, R] -> [B, K]. Sequential: the
    /// posterior means filtered through the window; initial: the mean of q(z_0 | x) integrated
    /// to the last step.
    @_specialize(where Scalar == Float)
    public func filteredStates(_ x: Tensor<Scalar>) throws -> Tensor<Scalar> {
        let (batch, window) = (x.shape[0], x.shape[1])
        let k = configuration.latent
        let states = encoderStates(x).detached
        switch configuration.inference {
        case .initial:
            let (mean, _) = encoder.gaussian(summary(states), latent: k)
            let path = try dynamics.path(mean.detached, steps: window - 1, drives: nil)
            return path.slice(alongAxis: 1, (window - 1)..<window).reshaped([batch, k]).detached
        case .sequential:
            var previous = Tensor<Scalar>(zeros: [batch, k])
            for t in 0..<window {
                let (mean, _) = posterior(states, step: t, previous: previous)
                previous = mean.detached
            }
            return previous
        }
    }

    /// Autonomous forecasts: the decoded means of the states 1...steps steps after z [B, K]
    /// (no external drive), [B, steps, R].
    @_specialize(where Scalar == Float)
    public func forecast(from z: Tensor<Scalar>, steps: Int) throws -> Tensor<Scalar> {
        let states = try dynamics.rollout(z, steps: steps)
        return decoder(Tensor.stackedInTime(states)).detached
    }
}
