/// Causal convolution along time, for observation models that delay and smooth their inputs
/// (the haemodynamic response).
extension Tensor {
    /// x [B, T, C] convolved along axis 1 with `kernel` h (L taps, h_0 at lag 0), each channel
    /// alike: y[b, t, c] = sum_{l < L} h_l x[b, max(t - l, 0), c]. Steps before the start take
    /// the first value (the state is taken as steady before the window), so a constant input
    /// gives a constant output times sum(h).
    ///
    /// Backward: the gradient of x_s collects h_l from every y_{s + l}; x_0 also collects the
    /// clamped tail sum_{l >= t} h_l from every y_t.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func causalConvolution(kernel: [Scalar]) -> Tensor {
        precondition(rank == 3, "causalConvolution needs [batch, time, channels], shape is \(shape)")
        let (batch, steps, channels) = (shape[0], shape[1], shape[2])
        let taps = kernel.count
        // tail[t] = sum of the taps at lags >= t (what the clamped first step receives at t).
        var tail = [Scalar](repeating: 0, count: steps + 1)
        for t in stride(from: steps - 1, through: 0, by: -1) {
            var sum = Scalar(0)
            for l in t..<max(t, taps) { sum += kernel[l] }
            tail[t] = sum
        }
        let output = TensorStorage<Scalar>(uninitializedCount: count) { y in
            scalars.withUnsafeBufferPointer { x in
                for b in 0..<batch {
                    let base = b * steps * channels
                    for t in 0..<steps {
                        let row = base + t * channels
                        for c in 0..<channels { y[row + c] = tail[t] * x[base + c] }
                        for l in 0..<min(taps, t) {
                            let weight = kernel[l], source = base + (t - l) * channels
                            for c in 0..<channels { y[row + c] += weight * x[source + c] }
                        }
                    }
                }
            }
        }
        let inputShape = shape
        return Tensor.result(shape: inputShape, scalars: output, inputs: [self]) { gradient in
            let input = TensorStorage<Scalar>(uninitializedCount: gradient.count) { g in
                gradient.scalars.withUnsafeBufferPointer { gy in
                    for b in 0..<batch {
                        let base = b * steps * channels
                        for s in 0..<steps {
                            let row = base + s * channels
                            for c in 0..<channels { g[row + c] = 0 }
                            // y_t with t = s + l for l in 0..<taps, lag l < t (s >= 1) or clamped (s == 0).
                            if s == 0 {
                                for t in 0..<steps {
                                    let weight = tail[t], source = base + t * channels
                                    for c in 0..<channels { g[row + c] += weight * gy[source + c] }
                                }
                            } else {
                                for l in 0..<min(taps, steps - s) {
                                    let weight = kernel[l], source = base + (s + l) * channels
                                    for c in 0..<channels { g[row + c] += weight * gy[source + c] }
                                }
                            }
                        }
                    }
                }
            }
            return [Tensor(shape: inputShape, scalars: input)]
        }
    }
}
