import Core
import Dispatch

extension SVAE {
    /// One training step's objective and gradient.
    public struct StepGradient {
        /// The objective's terms (nats per window; `loss` with the KL weight applied).
        public var loss: Scalar
        public var reconstruction: Scalar
        public var kl: Scalar
        /// d loss / d parameter, shaped like the model.
        public var gradient: SVAE
    }

    /// The objective of a batch and its gradient, with the batch split across cores.
    ///
    /// Each part of the batch is differentiated on its own core, on its own recording; the
    /// result is the window-weighted mean of the parts, which is the full batch's objective
    /// and gradient because both are means over windows. The time loop of a step is a chain of
    /// small operations that one core runs one after another, so splitting the batch is the
    /// way to use a second core there (`fmridyn bench train --dynamics rnn` on 2 cores: 10.5 ms
    /// in one part, 8.8 ms in two; docs/model.md).
    ///
    /// Each part draws its reparameterisation noise from its own seed, taken from `random`,
    /// so a result depends on the seed and on `parts` (the core count), as the issue allows.
    /// One part (the plain computation with `random` itself) is used when `parts` is 1, the
    /// batch has one window, or free bits are on: their clamp acts on the batch mean, which a
    /// split would change.
    ///
    /// - Parameters:
    ///   - x: windows [B, W, R]; `inputs`: external inputs [B, W, U] or nil.
    ///   - parts: how many parts to run concurrently (at most B).
    public func objectiveAndGradient(_ x: Tensor<Scalar>, inputs: Tensor<Scalar>? = nil, klWeight: Double, freeBits: Double = 0,
                                     random: inout RandomSource, parts requested: Int) throws -> StepGradient {
        let batch = x.shape[0]
        let parts = freeBits > 0 ? 1 : max(1, min(requested, batch))
        if parts == 1 {
            var terms: Objective?
            let (value, gradient) = try valueAndGradient(of: self) { model -> Tensor<Scalar> in
                let objective = try model.objective(x, inputs: inputs, klWeight: klWeight, freeBits: freeBits, random: &random)
                terms = objective
                return objective.loss
            }
            return StepGradient(loss: value, reconstruction: terms?.reconstruction ?? 0, kl: terms?.kl ?? 0, gradient: gradient)
        }
        // Contiguous parts whose sizes differ by at most one window.
        let bounds = (0...parts).map { $0 * batch / parts }
        let seeds = (0..<parts).map { _ in random.next() }
        var results = [Result<StepGradient, any Error>?](repeating: nil, count: parts)
        results.withUnsafeMutableBufferPointer { slots in
            nonisolated(unsafe) let output = slots
            nonisolated(unsafe) let shared = (self, x, inputs)
            DispatchQueue.concurrentPerform(iterations: parts) { part in
                let range = bounds[part]..<bounds[part + 1]
                // Each part's loss is weighted by its share of the windows, so its gradient
                // arrives weighted and the parts only need adding.
                let weight = Scalar(Double(range.count) / Double(batch))
                var noise = RandomSource(seed: seeds[part])
                output[part] = Result {
                    try ComputeThreads.withSingleThreadedBLAS {
                        var terms: Objective?
                        let (value, gradient) = try valueAndGradient(of: shared.0) { model -> Tensor<Scalar> in
                            let objective = try model.objective(shared.1.slice(alongAxis: 0, range), inputs: shared.2?.slice(alongAxis: 0, range),
                                                                klWeight: klWeight, freeBits: freeBits, random: &noise)
                            terms = objective
                            return objective.loss * weight
                        }
                        return StepGradient(loss: value, reconstruction: (terms?.reconstruction ?? 0) * weight, kl: (terms?.kl ?? 0) * weight,
                                            gradient: gradient)
                    }
                }
            }
        }
        var combined: StepGradient?
        for result in results {
            guard let result else { continue }
            let step = try result.get()
            guard var total = combined else {
                combined = step
                continue
            }
            total.loss += step.loss
            total.reconstruction += step.reconstruction
            total.kl += step.kl
            for (_, path) in parameters { total.gradient[keyPath: path] += step.gradient[keyPath: path] }
            combined = total
        }
        guard let combined else { preconditionFailure("a batch split into parts yields a result per part") }
        return combined
    }
}
