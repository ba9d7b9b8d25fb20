import Core
import Foundation

/// The Gaussian terms of the ELBO as single recorded operations.
///
/// Written out of element-wise operations, the sequential KL is eleven operations per time
/// step and the likelihood five over the whole [B, W, R] window; each of those allocates its
/// output and a gradient buffer. Fused, each term is one pass forward and one backward.
public enum GaussianTerms {
    /// sum_b KL(N(m, e^lv) || N(pm, e^plv)) per latent dimension: [K].
    ///
    /// KL = 0.5 ((e^lv + (m - pm)^2) e^-plv - lv + plv - 1). Without a prior mean and log-variance
    /// the prior is N(0, I).
    /// - Parameters:
    ///   - mean, logVariance: the posterior's [B, K].
    ///   - priorMean: [B, K] or nil (zero); `priorLogVariance`: [K] or nil (zero).
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func klPerDimension<Scalar: TensorScalar>(mean: Tensor<Scalar>, logVariance: Tensor<Scalar>,
                                                            priorMean: Tensor<Scalar>? = nil,
                                                            priorLogVariance: Tensor<Scalar>? = nil) -> Tensor<Scalar> {
        precondition(mean.rank == 2 && logVariance.shape == mean.shape, "KL: mean and log-variance must both be [B, K]")
        precondition(priorMean.map { $0.shape == mean.shape } ?? true, "KL: the prior mean must be [B, K] like the mean")
        let (batch, k) = (mean.shape[0], mean.shape[1])
        precondition(priorLogVariance.map { $0.shape == [k] } ?? true, "KL: the prior log-variance must be [K]")
        // [B, K] is small: plain arrays keep the element loops simple.
        let m = mean.scalars.array, lv = logVariance.scalars.array
        let pm = priorMean?.scalars.array ?? [Scalar](repeating: 0, count: batch * k)
        let plv = priorLogVariance?.scalars.array ?? [Scalar](repeating: 0, count: k)
        let precision = plv.map { Scalar.exponential(-$0) }
        var output = [Scalar](repeating: 0, count: k)
        for b in 0..<batch {
            for j in 0..<k {
                let i = b * k + j
                let difference = m[i] - pm[i]
                output[j] += ((Scalar.exponential(lv[i]) + difference * difference) * precision[j] - lv[i] + plv[j] - 1) / 2
            }
        }
        var inputs = [mean, logVariance]
        if let priorMean { inputs.append(priorMean) }
        if let priorLogVariance { inputs.append(priorLogVariance) }
        // The closure keeps plain values only: a tracked tensor would hold the recording that holds the closure.
        let hasPriorMean = priorMean != nil, hasPriorLogVariance = priorLogVariance != nil
        return Tensor.customOperation(shape: [k], scalars: output, inputs: inputs) { gradient in
            let g = gradient.scalars.array
            var dMean = [Scalar](repeating: 0, count: batch * k), dLogVariance = dMean
            var dPriorLogVariance = [Scalar](repeating: 0, count: k)
            for b in 0..<batch {
                for j in 0..<k {
                    let i = b * k + j
                    let difference = m[i] - pm[i], variance = Scalar.exponential(lv[i])
                    dMean[i] = g[j] * difference * precision[j]
                    dLogVariance[i] = g[j] * (variance * precision[j] - 1) / 2
                    dPriorLogVariance[j] += g[j] * (1 - (variance + difference * difference) * precision[j]) / 2
                }
            }
            var gradients: [Tensor<Scalar>?] = [Tensor(shape: [batch, k], scalars: dMean), Tensor(shape: [batch, k], scalars: dLogVariance)]
            if hasPriorMean { gradients.append(Tensor(shape: [batch, k], scalars: dMean.map { -$0 })) }
            if hasPriorLogVariance { gradients.append(Tensor(shape: [k], scalars: dPriorLogVariance)) }
            return gradients
        }
    }

    /// Gaussian negative log-likelihood summed over everything:
    /// 0.5 sum ((x - mean)^2 e^-lv + lv + log 2 pi), lv [R] repeating over the rows of x [..., R].
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func negativeLogLikelihood<Scalar: TensorScalar>(_ x: Tensor<Scalar>, mean: Tensor<Scalar>,
                                                                   logVariance: Tensor<Scalar>) -> Tensor<Scalar> {
        precondition(x.shape == mean.shape, "likelihood: data \(x.shape) and mean \(mean.shape) differ")
        let features = logVariance.count
        precondition(x.shape.last == features, "likelihood: \(features) log-variances for \(x.shape.last ?? 0) features")
        let rows = x.count / features
        let precision = logVariance.scalars.map { Scalar.exponential(-$0) }
        let xs = x.scalars, ms = mean.scalars
        // Per-feature accumulators, so the inner loop over features runs in vector lanes.
        var perFeature = [Scalar](repeating: 0, count: features)
        xs.withUnsafeBufferPointer { px in
            ms.withUnsafeBufferPointer { pm in
                precision.withUnsafeBufferPointer { pp in
                    perFeature.withUnsafeMutableBufferPointer { acc in
                        guard let xb = px.baseAddress, let mb = pm.baseAddress, let pb = pp.baseAddress, let ab = acc.baseAddress else { return }
                        for r in 0..<rows {
                            let (xr, mr) = (xb + r * features, mb + r * features)
                            for f in 0..<features {
                                let residual = xr[f] - mr[f]
                                ab[f] += residual * residual * pb[f]
                            }
                        }
                    }
                }
            }
        }
        let weighted = perFeature.reduce(0.0) { $0 + Double($1) }
        let logVarianceSum = logVariance.scalars.reduce(0.0) { $0 + Double($1) }
        let value = 0.5 * (weighted + Double(rows) * logVarianceSum + Double(x.count) * Foundation.log(2 * Double.pi))
        let needsData = x.isTracked, shape = x.shape
        return Tensor.customOperation(shape: [], scalars: [Scalar(value)], inputs: [x, mean, logVariance]) { gradient in
            let g = gradient.scalars[0], half = g / 2
            var dMean = TensorStorage<Scalar>(uninitializedCount: rows * features)  // every element written
            var dLogVariance = [Scalar](repeating: 0, count: features)
            xs.withUnsafeBufferPointer { px in
                ms.withUnsafeBufferPointer { pm in
                    precision.withUnsafeBufferPointer { pp in
                        dMean.withUnsafeMutableBufferPointer { dm in
                            dLogVariance.withUnsafeMutableBufferPointer { dl in
                                guard let xb = px.baseAddress, let mb = pm.baseAddress, let pb = pp.baseAddress, let db = dm.baseAddress,
                                      let lb = dl.baseAddress else { return }
                                for r in 0..<rows {
                                    let (xr, mr, dr) = (xb + r * features, mb + r * features, db + r * features)
                                    for f in 0..<features {
                                        let residual = xr[f] - mr[f]
                                        let scaled = residual * pb[f]
                                        dr[f] = -g * scaled
                                        lb[f] += half * (1 - scaled * residual)
                                    }
                                }
                            }
                        }
                    }
                }
            }
            let dData = needsData ? Tensor(shape: shape, scalars: dMean) * -1 : nil
            return [dData, Tensor(shape: shape, scalars: dMean),
                    Tensor(shape: [features], scalars: dLogVariance)]
        }
    }
}
