import Core

extension SVAE {
    /// Autonomous forecasts from windows x [B, W, R(+Q)]: the state at each window's last step
    /// rolled out `steps` steps without drive and decoded, [B, steps, R]. With an observation
    /// kernel the forecast volumes see the window's filtered path too (the response to the
    /// past). Covariates of the forecast volumes, when the model has them, are `future`
    /// [B, steps, Q] (known nuisance, as the confounds are).
    @_specialize(where Scalar == Float)
    public func forecast(_ x: Tensor<Scalar>, steps: Int, future covariates: Tensor<Scalar>? = nil) throws -> Tensor<Scalar> {
        let (batch, window) = (x.shape[0], x.shape[1])
        let k = configuration.latent
        let path = try filteredPath(x)
        let last = path.slice(alongAxis: 1, (window - 1)..<window).reshaped([batch, k])
        let future = Tensor.stackedInTime(try dynamics.rollout(last, steps: steps))
        var mean: Tensor<Scalar>
        if configuration.observationKernel != nil {
            let joined = Tensor.concatenate([path, future], alongAxis: 1)
            mean = decoder(haemodynamic(joined)).slice(alongAxis: 1, window..<(window + steps))
        } else {
            mean = decoder(future)
        }
        if let map = decoder.covariateMap, let covariates { mean = mean + map(covariates) }
        return mean.detached
    }

    /// The latent path [B, W, K] of each window inferred from the window alone (sequential:
    /// posterior means filtered through it; initial: the rollout from q(z_0 | x)'s mean).
    /// `inputs` [B, W, U] are the known inputs of a model that has them (they drive the
    /// prediction of a predictive posterior and the initial scheme's rollout).
    @_specialize(where Scalar == Float)
    public func filteredPath(_ x: Tensor<Scalar>, inputs: Tensor<Scalar>? = nil) throws -> Tensor<Scalar> {
        let (batch, window) = (x.shape[0], x.shape[1])
        let k = configuration.latent
        let states = encoderStates(x).detached
        switch configuration.inference {
        case .initial:
            let (mean, _) = encoder.gaussian(summary(states), latent: k)
            return try dynamics.path(mean.detached, steps: window - 1, drives: drives(inputs, steps: window - 1)).detached
        case .sequential:
            let predictive = configuration.predictivePosterior == true
            let drive = predictive ? drives(inputs, steps: window - 1) : nil
            var previous = Tensor<Scalar>(zeros: [batch, k])
            var memory: Tensor<Scalar>? = nil
            var path: [Tensor<Scalar>] = []
            for t in 0..<window {
                var prediction: Tensor<Scalar>? = nil
                if predictive && t > 0 {
                    let (next, nextMemory) = try dynamics.step(previous, memory: memory, drive: drive?[t - 1])
                    memory = nextMemory
                    prediction = next.detached
                }
                if let prediction, !isShootingNode(t) {
                    previous = prediction
                    path.append(previous)
                    continue
                }
                let (mean, _) = posterior(states, step: t, previous: previous, prediction: prediction)
                previous = mean.detached
                path.append(previous)
            }
            return Tensor.stackedInTime(path)
        }
    }
}
