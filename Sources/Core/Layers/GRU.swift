/// A gated recurrent unit layer with PyTorch's equations, weight layout and names:
///
///     r = sigmoid(W_ir x + b_ir + W_hr h + b_hr)
///     z = sigmoid(W_iz x + b_iz + W_hz h + b_hz)
///     n = tanh(W_in x + b_in + r * (W_hn h + b_hn))
///     h' = (1 - z) * n + z * h
///
/// `weight_ih` [3H, I] and `weight_hh` [3H, H] stack the (r, z, n) gates. The whole sequence
/// is one recorded operation: the input projections of all steps are one GEMM, each step one
/// [B, H] x [H, 3H] GEMM, and the backward pass runs through time by hand, with the weight
/// gradients of all steps accumulated in single GEMMs.
public struct GRU<Scalar: TensorScalar>: Module {
    public var weightIH: Tensor<Scalar>
    public var weightHH: Tensor<Scalar>
    public var biasIH: Tensor<Scalar>
    public var biasHH: Tensor<Scalar>

    public var inputSize: Int { weightIH.shape[1] }
    public var hiddenSize: Int { weightHH.shape[1] }

    public var parameters: [(name: String, path: WritableKeyPath<GRU, Tensor<Scalar>>)] {
        [("weight_ih", \.weightIH), ("weight_hh", \.weightHH), ("bias_ih", \.biasIH), ("bias_hh", \.biasHH)]
    }

    /// PyTorch's initialisation U(-1/sqrt(H), 1/sqrt(H)) for everything, or orthogonal
    /// recurrent weights (per gate) with `orthogonalRecurrent`.
    public init(inputSize: Int, hiddenSize: Int, orthogonalRecurrent: Bool = false, random: inout RandomSource) {
        let bound = 1 / Double(hiddenSize).squareRoot()
        func uniform(_ shape: [Int]) -> Tensor<Scalar> {
            Tensor(shape: shape, scalars: (0..<shape.reduce(1, *)).map { _ in Scalar(random.uniform(-bound, bound)) })
        }
        weightIH = uniform([3 * hiddenSize, inputSize])
        if orthogonalRecurrent {
            var blocks: [Scalar] = []
            for _ in 0..<3 { blocks += (Initializer.orthogonal().make([hiddenSize, hiddenSize], using: &random) as Tensor<Scalar>).scalars }
            weightHH = Tensor(shape: [3 * hiddenSize, hiddenSize], scalars: blocks)
        } else {
            weightHH = uniform([3 * hiddenSize, hiddenSize])
        }
        biasIH = uniform([3 * hiddenSize])
        biasHH = uniform([3 * hiddenSize])
    }

    public init(weightIH: Tensor<Scalar>, weightHH: Tensor<Scalar>, biasIH: Tensor<Scalar>, biasHH: Tensor<Scalar>) {
        self.weightIH = weightIH
        self.weightHH = weightHH
        self.biasIH = biasIH
        self.biasHH = biasHH
    }

    /// Runs over a batch-first sequence.
    /// - Parameters:
    ///   - x: [B, T, I].
    ///   - initial: [B, H] (zeros when nil).
    /// - Returns: the hidden state at every step, [B, T, H].
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func callAsFunction(_ x: Tensor<Scalar>, initial: Tensor<Scalar>? = nil) -> Tensor<Scalar> {
        precondition(x.rank == 3 && x.shape[2] == inputSize, "GRU input must be [B, T, \(inputSize)], got \(x.shape)")
        let (batch, steps) = (x.shape[0], x.shape[1])
        let h0 = initial ?? Tensor(zeros: [batch, hiddenSize])
        return GRUSequence.run(x: x, h0: h0, weightIH: weightIH, weightHH: weightHH, biasIH: biasIH, biasHH: biasHH,
                               batch: batch, steps: steps)
    }

    /// One step: x [B, I], h [B, H] -> h' [B, H] (the GRU cell).
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func step(_ x: Tensor<Scalar>, _ h: Tensor<Scalar>) -> Tensor<Scalar> {
        let batch = x.shape[0]
        return self(x.reshaped([batch, 1, inputSize]), initial: h).reshaped([batch, hiddenSize])
    }
}

/// A bidirectional GRU: a forward and a backward (time-reversed) GRU whose outputs are
/// concatenated along features ([B, T, 2H]).
public struct BidirectionalGRU<Scalar: TensorScalar>: Module {
    public var forward: GRU<Scalar>
    public var backward: GRU<Scalar>

    public var parameters: [(name: String, path: WritableKeyPath<BidirectionalGRU, Tensor<Scalar>>)] {
        nested(\.forward, prefix: "forward") + nested(\.backward, prefix: "backward")
    }

    public init(inputSize: Int, hiddenSize: Int, random: inout RandomSource) {
        forward = GRU(inputSize: inputSize, hiddenSize: hiddenSize, random: &random)
        backward = GRU(inputSize: inputSize, hiddenSize: hiddenSize, random: &random)
    }

    public init(forward: GRU<Scalar>, backward: GRU<Scalar>) {
        self.forward = forward
        self.backward = backward
    }

    /// x [B, T, I] -> [B, T, 2H]; at step t, the backward half has read steps T-1 ... t.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
        let steps = x.shape[1]
        let reversedInput = x.reversedInTime()
        let forwardStates = forward(x)
        let backwardStates = backward(reversedInput).reversedInTime()
        _ = steps
        return Tensor.concatenate([forwardStates, backwardStates], alongAxis: 2)
    }
}

extension Tensor {
    /// [B, T, F] with the time axis reversed.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func reversedInTime() -> Tensor {
        let (batch, steps, features) = (shape[0], shape[1], shape[2])
        var output = [Scalar](repeating: 0, count: count)
        for b in 0..<batch {
            for t in 0..<steps {
                let source = (b * steps + t) * features, target = (b * steps + steps - 1 - t) * features
                for f in 0..<features { output[target + f] = scalars[source + f] }
            }
        }
        return Tensor.result(shape: shape, scalars: output, inputs: [self]) { gradient in [gradient.reversedInTime()] }
    }
}

/// The fused sequence operation behind `GRU`.
enum GRUSequence {
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    static func run<Scalar: TensorScalar>(x: Tensor<Scalar>, h0: Tensor<Scalar>, weightIH: Tensor<Scalar>, weightHH: Tensor<Scalar>,
                                          biasIH: Tensor<Scalar>, biasHH: Tensor<Scalar>, batch: Int, steps: Int) -> Tensor<Scalar> {
        let inputSize = weightIH.shape[1], hidden = weightHH.shape[1], gates = 3 * hidden
        let rows = batch * steps
        // Input projections for every (b, t): [B*T, 3H] = X W_ih^T + b_ih.
        var projected = [Scalar](repeating: 0, count: rows * gates)
        for r in 0..<rows { for g in 0..<gates { projected[r * gates + g] = biasIH.scalars[g] } }
        Tensor<Scalar>.gemm(false, true, rows, gates, inputSize, x.scalars, weightIH.scalars, &projected, beta: 1)

        // Saved per step (time-major [T, B, ...]) for the backward pass.
        var previous = [Scalar](repeating: 0, count: steps * batch * hidden)
        var resetGate = [Scalar](repeating: 0, count: steps * batch * hidden)
        var updateGate = [Scalar](repeating: 0, count: steps * batch * hidden)
        var candidate = [Scalar](repeating: 0, count: steps * batch * hidden)
        var hiddenNew = [Scalar](repeating: 0, count: steps * batch * hidden)  // W_hn h + b_hn
        var outputs = [Scalar](repeating: 0, count: batch * steps * hidden)   // [B, T, H]
        var h = h0.scalars
        var recurrent = [Scalar](repeating: 0, count: batch * gates)
        // The per-step GEMMs are small: BLAS threads would spend more time synchronising
        // than computing, so the time loop runs on one thread.
        let threads = ComputeThreads.current
        ComputeThreads.set(1)
        defer { ComputeThreads.set(threads) }
        for t in 0..<steps {
            for b in 0..<batch { for g in 0..<gates { recurrent[b * gates + g] = biasHH.scalars[g] } }
            Tensor<Scalar>.gemm(false, true, batch, gates, hidden, h, weightHH.scalars, &recurrent, beta: 1)
            let base = t * batch * hidden
            projected.withUnsafeBufferPointer { px in
                recurrent.withUnsafeBufferPointer { ph in
                    h.withUnsafeMutableBufferPointer { hp in
                        previous.withUnsafeMutableBufferPointer { saved in
                            resetGate.withUnsafeMutableBufferPointer { rp in
                                updateGate.withUnsafeMutableBufferPointer { zp in
                                    candidate.withUnsafeMutableBufferPointer { np in
                                        hiddenNew.withUnsafeMutableBufferPointer { hnp in
                                            outputs.withUnsafeMutableBufferPointer { op in
                                                for b in 0..<batch {
                                                    let index = base + b * hidden
                                                    // Keep h_{t-1} for the backward pass, then compute h_t in place.
                                                    (saved.baseAddress! + index).update(from: hp.baseAddress! + b * hidden, count: hidden)
                                                    Scalar.gruGates(x: px.baseAddress! + (b * steps + t) * gates, h: ph.baseAddress! + b * gates,
                                                                    previous: saved.baseAddress! + index, hidden: hidden,
                                                                    r: rp.baseAddress! + index, z: zp.baseAddress! + index, n: np.baseAddress! + index,
                                                                    hn: hnp.baseAddress! + index, next: hp.baseAddress! + b * hidden)
                                                    (op.baseAddress! + (b * steps + t) * hidden).update(from: hp.baseAddress! + b * hidden, count: hidden)
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }

        let needs = (x: x.isTracked, h0: h0.isTracked, wih: weightIH.isTracked, whh: weightHH.isTracked,
                     bih: biasIH.isTracked, bhh: biasHH.isTracked)
        let xValues = x.scalars, wih = weightIH.scalars, whh = weightHH.scalars
        let (xShape, hShape) = (x.shape, h0.shape)
        let (wihShape, whhShape) = (weightIH.shape, weightHH.shape)
        return Tensor.result(shape: [batch, steps, hidden], scalars: outputs, inputs: [x, h0, weightIH, weightHH, biasIH, biasHH]) { gradient in
            // Gate-input gradients of every step, time-major: [T, B, 3H].
            var gradGatesX = [Scalar](repeating: 0, count: steps * batch * gates)
            var gradGatesH = [Scalar](repeating: 0, count: steps * batch * gates)
            var dh = [Scalar](repeating: 0, count: batch * hidden)
            var dhRecurrent = [Scalar](repeating: 0, count: batch * hidden)
            let threads = ComputeThreads.current
            ComputeThreads.set(1)
            for t in stride(from: steps - 1, through: 0, by: -1) {
                let base = t * batch * hidden
                var incoming = [Scalar](repeating: 0, count: hidden)
                for b in 0..<batch {
                    let index = b * hidden
                    for j in 0..<hidden { incoming[j] = gradient.scalars[(b * steps + t) * hidden + j] + dh[index + j] }
                    let row = (t * batch + b) * gates
                    incoming.withUnsafeBufferPointer { g in
                        resetGate.withUnsafeBufferPointer { rp in
                            updateGate.withUnsafeBufferPointer { zp in
                                candidate.withUnsafeBufferPointer { np in
                                    hiddenNew.withUnsafeBufferPointer { hnp in
                                        previous.withUnsafeBufferPointer { pp in
                                            gradGatesX.withUnsafeMutableBufferPointer { gx in
                                                gradGatesH.withUnsafeMutableBufferPointer { gh in
                                                    dh.withUnsafeMutableBufferPointer { d in
                                                        Scalar.gruGatesBackward(
                                                            gradient: g.baseAddress!, r: rp.baseAddress! + base + index, z: zp.baseAddress! + base + index,
                                                            n: np.baseAddress! + base + index, hn: hnp.baseAddress! + base + index,
                                                            previous: pp.baseAddress! + base + index, hidden: hidden,
                                                            gx: gx.baseAddress! + row, gh: gh.baseAddress! + row, direct: d.baseAddress! + index)
                                                    }
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                // dh_prev += dGatesH_t W_hh  ([B, 3H] x [3H, H])
                gradGatesH.withUnsafeBufferPointer { gh in
                    whh.withUnsafeBufferPointer { w in
                        dhRecurrent.withUnsafeMutableBufferPointer { out in
                            Scalar.gemm(transposeA: false, transposeB: false, m: batch, n: hidden, k: gates, alpha: 1,
                                        a: gh.baseAddress! + t * batch * gates, lda: gates, b: w.baseAddress!, ldb: hidden,
                                        beta: 0, c: out.baseAddress!, ldc: hidden)
                        }
                    }
                }
                for index in 0..<(batch * hidden) { dh[index] += dhRecurrent[index] }
            }
            ComputeThreads.set(threads)
            var results: [Tensor<Scalar>?] = [nil, nil, nil, nil, nil, nil]
            // Reorder dGatesX to batch-first rows (b, t) to match X.
            var gatesXBatchFirst = [Scalar](repeating: 0, count: rows * gates)
            for t in 0..<steps {
                for b in 0..<batch {
                    let source = (t * batch + b) * gates, target = (b * steps + t) * gates
                    for g in 0..<gates { gatesXBatchFirst[target + g] = gradGatesX[source + g] }
                }
            }
            if needs.x {
                var values = [Scalar](repeating: 0, count: rows * inputSize)
                Tensor<Scalar>.gemm(false, false, rows, inputSize, gates, gatesXBatchFirst, wih, &values)
                results[0] = Tensor(shape: xShape, scalars: values)
            }
            if needs.h0 { results[1] = Tensor(shape: hShape, scalars: dh) }
            if needs.wih {
                var values = [Scalar](repeating: 0, count: gates * inputSize)
                Tensor<Scalar>.gemm(true, false, gates, inputSize, rows, gatesXBatchFirst, xValues, &values)
                results[2] = Tensor(shape: wihShape, scalars: values)
            }
            if needs.whh {
                var values = [Scalar](repeating: 0, count: gates * hidden)
                Tensor<Scalar>.gemm(true, false, gates, hidden, steps * batch, gradGatesH, previous, &values)
                results[3] = Tensor(shape: whhShape, scalars: values)
            }
            if needs.bih {
                var values = [Scalar](repeating: 0, count: gates)
                for r in 0..<rows { for g in 0..<gates { values[g] += gradGatesX[r * gates + g] } }
                results[4] = Tensor(shape: [gates], scalars: values)
            }
            if needs.bhh {
                var values = [Scalar](repeating: 0, count: gates)
                for r in 0..<rows { for g in 0..<gates { values[g] += gradGatesH[r * gates + g] } }
                results[5] = Tensor(shape: [gates], scalars: values)
            }
            return results
        }
    }
}

import Foundation
