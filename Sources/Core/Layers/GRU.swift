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
/// concatenated along features ([B, T, 2H]); the two directions run concurrently.
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

    /// x [B, T, I] -> [B, T, 2H], or time-major [T, B, 2H] with `timeMajorOutput` (then the
    /// states of one step are contiguous and slicing a step out is a view, not a copy); at
    /// step t, the backward half has read steps T-1 ... t.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func callAsFunction(_ x: Tensor<Scalar>, timeMajorOutput: Bool = false) -> Tensor<Scalar> {
        precondition(x.rank == 3 && x.shape[2] == forward.inputSize, "GRU input must be [B, T, \(forward.inputSize)], got \(x.shape)")
        return GRUSequence.runBidirectional(x: x, forward: forward, backward: backward, timeMajor: timeMajorOutput)
    }
}

extension Tensor {
    /// [B, T, F] with the time axis reversed.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func reversedInTime() -> Tensor {
        let (batch, steps, features) = (shape[0], shape[1], shape[2])
        let output = TensorStorage<Scalar>(uninitializedCount: count) { output in
            scalars.withUnsafeBufferPointer { input in
                for b in 0..<batch {
                    for t in 0..<steps {
                        let source = (b * steps + t) * features, target = (b * steps + steps - 1 - t) * features
                        (output.baseAddress! + target).update(from: input.baseAddress! + source, count: features)
                    }
                }
            }
        }
        return Tensor.result(shape: shape, scalars: output, inputs: [self]) { gradient in [gradient.reversedInTime()] }
    }
}

/// The fused sequence operation behind `GRU`: a forward pass that keeps what the backward
/// pass through time needs, and that backward pass, as plain functions on buffers so that the
/// two directions of a bidirectional GRU can run concurrently.
enum GRUSequence {
    /// What one direction's forward pass saves (time-major [T, B, H] gate values).
    struct Trace<Scalar: TensorScalar> {
        var previous: TensorStorage<Scalar>, resetGate: TensorStorage<Scalar>, updateGate: TensorStorage<Scalar>, candidate: TensorStorage<Scalar>, hiddenNew: TensorStorage<Scalar>
        /// [B, T, H] hidden states.
        var outputs: TensorStorage<Scalar>
    }

    /// The weights of one direction as tensor storages.
    struct Weights<Scalar: TensorScalar>: @unchecked Sendable {
        var wih: TensorStorage<Scalar>, whh: TensorStorage<Scalar>, bih: TensorStorage<Scalar>, bhh: TensorStorage<Scalar>
        var inputSize: Int, hidden: Int
    }

    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    static func forwardPass<Scalar: TensorScalar>(x: TensorStorage<Scalar>, h0: TensorStorage<Scalar>, weights w: Weights<Scalar>, batch: Int, steps: Int) -> Trace<Scalar> {
        let (inputSize, hidden) = (w.inputSize, w.hidden)
        let gates = 3 * hidden, rows = batch * steps
        // Input projections for every (b, t): [B*T, 3H] = X W_ih^T + b_ih.
        var projected = TensorStorage<Scalar>(uninitializedCount: rows * gates)
        fillRows(&projected, with: w.bih, rows: rows)
        Tensor<Scalar>.gemm(false, true, rows, gates, inputSize, x, w.wih, &projected, beta: 1)
        // Every element of these is written below, so they start undefined.
        let stepValues = steps * batch * hidden
        var trace = Trace<Scalar>(previous: TensorStorage(uninitializedCount: stepValues), resetGate: TensorStorage(uninitializedCount: stepValues),
                                  updateGate: TensorStorage(uninitializedCount: stepValues), candidate: TensorStorage(uninitializedCount: stepValues),
                                  hiddenNew: TensorStorage(uninitializedCount: stepValues),  // W_hn h + b_hn
                                  outputs: TensorStorage(uninitializedCount: stepValues))
        var h = h0
        var recurrent = TensorStorage<Scalar>(uninitializedCount: batch * gates)
        // The per-step GEMMs are small: BLAS threads would spend more time synchronising
        // than computing, so the time loop runs on one thread.
        ComputeThreads.withSingleThreadedBLAS {
            for t in 0..<steps {
                fillRows(&recurrent, with: w.bhh, rows: batch)
                Tensor<Scalar>.gemm(false, true, batch, gates, hidden, h, w.whh, &recurrent, beta: 1)
                let base = t * batch * hidden
                projected.withUnsafeBufferPointer { px in
                    recurrent.withUnsafeBufferPointer { ph in
                        h.withUnsafeMutableBufferPointer { hp in
                            trace.previous.withUnsafeMutableBufferPointer { saved in
                                trace.resetGate.withUnsafeMutableBufferPointer { rp in
                                    trace.updateGate.withUnsafeMutableBufferPointer { zp in
                                        trace.candidate.withUnsafeMutableBufferPointer { np in
                                            trace.hiddenNew.withUnsafeMutableBufferPointer { hnp in
                                                trace.outputs.withUnsafeMutableBufferPointer { op in
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
        }
        return trace
    }

    /// Gradients for (x, h0, W_ih, W_hh, b_ih, b_hh) given the output gradient [B, T, H];
    /// entries whose `needs` flag is false are nil.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    static func backwardPass<Scalar: TensorScalar>(_ trace: Trace<Scalar>, gradient: TensorStorage<Scalar>, x: TensorStorage<Scalar>, weights w: Weights<Scalar>,
                                                   batch: Int, steps: Int, needs: [Bool]) -> [TensorStorage<Scalar>?] {
        let (inputSize, hidden) = (w.inputSize, w.hidden)
        let gates = 3 * hidden, rows = batch * steps
        // Gate-input gradients of every step, time-major: [T, B, 3H].
        // Every row is written by the gate backward kernel.
        var gradGatesX = TensorStorage<Scalar>(uninitializedCount: steps * batch * gates)
        var gradGatesH = TensorStorage<Scalar>(uninitializedCount: steps * batch * gates)
        var dh = TensorStorage<Scalar>(zeros: batch * hidden)
        var incoming = [Scalar](repeating: 0, count: hidden)
        ComputeThreads.withSingleThreadedBLAS {
            for t in stride(from: steps - 1, through: 0, by: -1) {
                let base = t * batch * hidden
                for b in 0..<batch {
                    let index = b * hidden
                    gradient.withUnsafeBufferPointer { g in
                        dh.withUnsafeBufferPointer { d in
                            for j in 0..<hidden { incoming[j] = g[(b * steps + t) * hidden + j] + d[index + j] }
                        }
                    }
                    let row = (t * batch + b) * gates
                    incoming.withUnsafeBufferPointer { g in
                        trace.resetGate.withUnsafeBufferPointer { rp in
                            trace.updateGate.withUnsafeBufferPointer { zp in
                                trace.candidate.withUnsafeBufferPointer { np in
                                    trace.hiddenNew.withUnsafeBufferPointer { hnp in
                                        trace.previous.withUnsafeBufferPointer { pp in
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
                // dh_prev = direct + dGatesH_t W_hh  ([B, 3H] x [3H, H]), added by the GEMM itself.
                gradGatesH.withUnsafeBufferPointer { gh in
                    w.whh.withUnsafeBufferPointer { whh in
                        dh.withUnsafeMutableBufferPointer { out in
                            Scalar.gemm(transposeA: false, transposeB: false, m: batch, n: hidden, k: gates, alpha: 1,
                                        a: gh.baseAddress! + t * batch * gates, lda: gates, b: whh.baseAddress!, ldb: hidden,
                                        beta: 1, c: out.baseAddress!, ldc: hidden)
                        }
                    }
                }
            }
        }
        var results: [TensorStorage<Scalar>?] = [nil, nil, nil, nil, nil, nil]
        // Reorder dGatesX to batch-first rows (b, t) to match X.
        var gatesXBatchFirst = TensorStorage<Scalar>(uninitializedCount: rows * gates)
        copyRows(from: gradGatesX, to: &gatesXBatchFirst, length: gates, outer: steps, inner: batch) { t, b in (b * steps + t) }
        if needs[0] {
            var values = TensorStorage<Scalar>(uninitializedCount: rows * inputSize)
            Tensor<Scalar>.gemm(false, false, rows, inputSize, gates, gatesXBatchFirst, w.wih, &values)
            results[0] = values
        }
        if needs[1] { results[1] = dh }
        if needs[2] {
            var values = TensorStorage<Scalar>(uninitializedCount: gates * inputSize)
            Tensor<Scalar>.gemm(true, false, gates, inputSize, rows, gatesXBatchFirst, x, &values)
            results[2] = values
        }
        if needs[3] {
            var values = TensorStorage<Scalar>(uninitializedCount: gates * hidden)
            Tensor<Scalar>.gemm(true, false, gates, hidden, steps * batch, gradGatesH, trace.previous, &values)
            results[3] = values
        }
        if needs[4] {
            results[4] = columnSums(gradGatesX, rows: rows, columns: gates)
        }
        if needs[5] {
            results[5] = columnSums(gradGatesH, rows: rows, columns: gates)
        }
        return results
    }

    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    static func run<Scalar: TensorScalar>(x: Tensor<Scalar>, h0: Tensor<Scalar>, weightIH: Tensor<Scalar>, weightHH: Tensor<Scalar>,
                                          biasIH: Tensor<Scalar>, biasHH: Tensor<Scalar>, batch: Int, steps: Int) -> Tensor<Scalar> {
        let weights = Weights(wih: weightIH.scalars, whh: weightHH.scalars, bih: biasIH.scalars, bhh: biasHH.scalars,
                              inputSize: weightIH.shape[1], hidden: weightHH.shape[1])
        let xValues = x.scalars
        let trace = forwardPass(x: xValues, h0: h0.scalars, weights: weights, batch: batch, steps: steps)
        let needs = [x.isTracked, h0.isTracked, weightIH.isTracked, weightHH.isTracked, biasIH.isTracked, biasHH.isTracked]
        let shapes = [x.shape, h0.shape, weightIH.shape, weightHH.shape, biasIH.shape, biasHH.shape]
        return Tensor.result(shape: [batch, steps, weights.hidden], scalars: trace.outputs, inputs: [x, h0, weightIH, weightHH, biasIH, biasHH]) { gradient in
            let values = backwardPass(trace, gradient: gradient.scalars, x: xValues, weights: weights, batch: batch, steps: steps, needs: needs)
            return zip(values, shapes).map { value, shape in value.map { Tensor(shape: shape, scalars: $0) } }
        }
    }

    /// target[row(o, i)] = source[o * inner + i] for rows of `length` scalars (row r of the target
    /// starts at r * targetStride + targetOffset; the source's rows are contiguous).
    @inline(__always)
    static func copyRows<Scalar>(from source: TensorStorage<Scalar>, to target: inout TensorStorage<Scalar>, length: Int, outer: Int, inner: Int,
                                 targetStride: Int? = nil, targetOffset: Int = 0, row: (Int, Int) -> Int) {
        let stride = targetStride ?? length
        source.withUnsafeBufferPointer { s in
            target.withUnsafeMutableBufferPointer { d in
                guard let sb = s.baseAddress, let db = d.baseAddress else { return }
                for o in 0..<outer {
                    for i in 0..<inner { (db + row(o, i) * stride + targetOffset).update(from: sb + (o * inner + i) * length, count: length) }
                }
            }
        }
    }

    /// target[o * inner + i] = source[row(o, i)] for rows of `length` scalars (row r of the source
    /// starts at r * sourceStride + sourceOffset; the target's rows are contiguous).
    @inline(__always)
    static func gatherRows<Scalar>(from source: TensorStorage<Scalar>, to target: inout TensorStorage<Scalar>, length: Int, outer: Int, inner: Int,
                                   sourceStride: Int, sourceOffset: Int = 0, row: (Int, Int) -> Int) {
        source.withUnsafeBufferPointer { s in
            target.withUnsafeMutableBufferPointer { d in
                guard let sb = s.baseAddress, let db = d.baseAddress else { return }
                for o in 0..<outer {
                    for i in 0..<inner { (db + (o * inner + i) * length).update(from: sb + row(o, i) * sourceStride + sourceOffset, count: length) }
                }
            }
        }
    }

    /// Every row of `target` set to `row`.
    @inline(__always)
    static func fillRows<Scalar>(_ target: inout TensorStorage<Scalar>, with row: TensorStorage<Scalar>, rows: Int) {
        let length = row.count
        row.withUnsafeBufferPointer { r in
            target.withUnsafeMutableBufferPointer { d in
                guard let rb = r.baseAddress, let db = d.baseAddress else { return }
                for index in 0..<rows { (db + index * length).update(from: rb, count: length) }
            }
        }
    }

    /// Sums over the rows of a row-major rows x columns matrix.
    static func columnSums<Scalar: TensorScalar>(_ matrix: TensorStorage<Scalar>, rows: Int, columns: Int) -> TensorStorage<Scalar> {
        var sums = TensorStorage<Scalar>(zeros: columns)
        matrix.withUnsafeBufferPointer { m in
            sums.withUnsafeMutableBufferPointer { out in
                guard let mb = m.baseAddress, let ob = out.baseAddress else { return }
                for r in 0..<rows { Scalar.axpy(1, mb + r * columns, ob, count: columns) }
            }
        }
        return sums
    }

    /// Runs `body` for direction 0 and 1: concurrently when two or more cores are allowed.
    static func eachDirection(_ body: @Sendable (Int) -> Void) {
        if ComputeThreads.cores >= 2 {
            DispatchQueue.concurrentPerform(iterations: 2, execute: body)
        } else {
            body(0)
            body(1)
        }
    }

    /// Both directions of a bidirectional GRU as one operation, the two directions computed
    /// concurrently (BLAS single-threaded inside, one direction per core): [B, T, 2H] (or
    /// [T, B, 2H] when `timeMajor`) with the backward direction's states re-reversed so step t
    /// of both halves refers to input t.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    static func runBidirectional<Scalar: TensorScalar>(x: Tensor<Scalar>, forward: GRU<Scalar>, backward: GRU<Scalar>,
                                                       timeMajor: Bool = false) -> Tensor<Scalar> {
        let (batch, steps, features) = (x.shape[0], x.shape[1], x.shape[2])
        let hidden = forward.hiddenSize
        func weights(_ gru: GRU<Scalar>) -> Weights<Scalar> {
            Weights(wih: gru.weightIH.scalars, whh: gru.weightHH.scalars, bih: gru.biasIH.scalars, bhh: gru.biasHH.scalars,
                    inputSize: gru.inputSize, hidden: gru.hiddenSize)
        }
        let (forwardWeights, backwardWeights) = (weights(forward), weights(backward))
        let xValues = x.scalars
        var reversed = TensorStorage<Scalar>(uninitializedCount: xValues.count)  // every row written
        copyRows(from: xValues, to: &reversed, length: features, outer: batch, inner: steps) { b, t in b * steps + steps - 1 - t }
        let h0 = TensorStorage<Scalar>(zeros: batch * hidden)
        var traces: [Trace<Scalar>?] = [nil, nil]
        ComputeThreads.withSingleThreadedBLAS {
            traces.withUnsafeMutableBufferPointer { slots in
                nonisolated(unsafe) let output = slots
                nonisolated(unsafe) let inputs = (xValues, reversed, h0)
                eachDirection { direction in
                    output[direction] = forwardPass(x: direction == 0 ? inputs.0 : inputs.1, h0: inputs.2,
                                                    weights: direction == 0 ? forwardWeights : backwardWeights, batch: batch, steps: steps)
                }
            }
        }
        guard let forwardTrace = traces[0], let backwardTrace = traces[1] else { return x }
        // Rows of 2H: the forward direction's state, then the backward one's re-reversed in time.
        // Row of (batch b, step t) in the output: b * batchStride + t * stepStride.
        let (batchStride, stepStride) = timeMajor ? (1, batch) : (steps, 1)
        var combined = TensorStorage<Scalar>(uninitializedCount: batch * steps * 2 * hidden)  // both halves written
        copyRows(from: forwardTrace.outputs, to: &combined, length: hidden, outer: batch, inner: steps, targetStride: 2 * hidden) { b, t in b * batchStride + t * stepStride }
        copyRows(from: backwardTrace.outputs, to: &combined, length: hidden, outer: batch, inner: steps, targetStride: 2 * hidden, targetOffset: hidden) { b, t in
            b * batchStride + (steps - 1 - t) * stepStride
        }
        let inputs = [x, forward.weightIH, forward.weightHH, forward.biasIH, forward.biasHH,
                      backward.weightIH, backward.weightHH, backward.biasIH, backward.biasHH]
        let tracked = inputs.map(\.isTracked)
        let shapes = inputs.map(\.shape)
        let shape = timeMajor ? [steps, batch, 2 * hidden] : [batch, steps, 2 * hidden]
        return Tensor.result(shape: shape, scalars: combined, inputs: inputs) { gradient in
            // Split the gradient: forward half as is, backward half back into its reversed time.
            var forwardGradient = TensorStorage<Scalar>(uninitializedCount: batch * steps * hidden)  // every row gathered
            var backwardGradient = TensorStorage<Scalar>(uninitializedCount: batch * steps * hidden)
            let upstream = gradient.scalars
            gatherRows(from: upstream, to: &forwardGradient, length: hidden, outer: batch, inner: steps, sourceStride: 2 * hidden) { b, t in b * batchStride + t * stepStride }
            gatherRows(from: upstream, to: &backwardGradient, length: hidden, outer: batch, inner: steps, sourceStride: 2 * hidden, sourceOffset: hidden) { b, t in
                b * batchStride + (steps - 1 - t) * stepStride
            }
            let forwardNeeds = [tracked[0], false, tracked[1], tracked[2], tracked[3], tracked[4]]
            let backwardNeeds = [tracked[0], false, tracked[5], tracked[6], tracked[7], tracked[8]]
            var results: [[TensorStorage<Scalar>?]] = [[], []]
            ComputeThreads.withSingleThreadedBLAS {
                results.withUnsafeMutableBufferPointer { slots in
                    nonisolated(unsafe) let output = slots
                    nonisolated(unsafe) let inputs = (xValues, reversed, forwardGradient, backwardGradient)
                    eachDirection { direction in
                        output[direction] = direction == 0
                            ? backwardPass(forwardTrace, gradient: inputs.2, x: inputs.0, weights: forwardWeights, batch: batch, steps: steps, needs: forwardNeeds)
                            : backwardPass(backwardTrace, gradient: inputs.3, x: inputs.1, weights: backwardWeights, batch: batch, steps: steps, needs: backwardNeeds)
                    }
                }
            }
            var dx: TensorStorage<Scalar>? = nil
            if tracked[0], let forwardDx = results[0][0], let backwardDx = results[1][0] {
                // x reached the backward GRU reversed in time.
                var sum = forwardDx
                sum.withUnsafeMutableBufferPointer { target in
                    backwardDx.withUnsafeBufferPointer { source in
                        for b in 0..<batch {
                            for t in 0..<steps {
                                Scalar.axpy(1, source.baseAddress! + (b * steps + steps - 1 - t) * features,
                                            target.baseAddress! + (b * steps + t) * features, count: features)
                            }
                        }
                    }
                }
                dx = sum
            }
            let flat: [TensorStorage<Scalar>?] = [dx, results[0][2], results[0][3], results[0][4], results[0][5],
                                     results[1][2], results[1][3], results[1][4], results[1][5]]
            return zip(flat, shapes).map { value, shape in value.map { Tensor(shape: shape, scalars: $0) } }
        }
    }
}

import Foundation
