extension GRU {
    /// The GRU baseline's latent rollout as one recorded operation.
    ///
    /// From z_0 [B, K] and h_0 = 0: h_{t+1} = GRU(z_t, h_t), z_{t+1} = z_t + h_{t+1} R^T with the
    /// readout R [K, H], for t = 0..<steps. Returns z_1 ... z_steps as [B, steps, K]. The GRU's
    /// input size must be K. Step by step this is five recorded operations per step and three
    /// weight-gradient products per step in the backward pass; here the forward keeps only the
    /// gates, the backward runs through time by hand, and the weight gradients of all steps
    /// are single products at the end.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func feedbackRollout(_ z0: Tensor<Scalar>, readout: Tensor<Scalar>, steps: Int) -> Tensor<Scalar> {
        let (batch, k, h) = (z0.shape[0], z0.shape[1], hiddenSize)
        precondition(z0.rank == 2 && k == inputSize && readout.shape == [k, h],
                     "feedback rollout: z0 [B, \(inputSize)] and readout [\(inputSize), \(h)] needed, got \(z0.shape) and \(readout.shape)")
        let trace = FeedbackTrace<Scalar>(batch: batch, latent: k, hidden: h, steps: steps, wih: weightIH.scalars, whh: weightHH.scalars,
                                          bih: biasIH.scalars, bhh: biasHH.scalars, readout: readout.scalars)
        trace.forward(z0: z0.scalars)
        // [B, steps, K] from the time-major states z_1...z_steps.
        let output = TensorStorage<Scalar>(uninitializedCount: batch * steps * k) { target in
            guard let out = target.baseAddress else { return }
            for t in 0..<steps {
                for b in 0..<batch { (out + (b * steps + t) * k).update(from: trace.z.pointer + ((t + 1) * batch + b) * k, count: k) }
            }
        }
        let inputs = [z0, weightIH, weightHH, biasIH, biasHH, readout]
        let needs = inputs.map(\.isTracked)
        let shapes = inputs.map(\.shape)
        return Tensor.result(shape: [batch, steps, k], scalars: output, inputs: inputs) { gradient in
            let values = trace.backward(gradient.scalars, needs: needs)
            return zip(values, shapes).map { value, shape in value.map { Tensor(shape: shape, scalars: $0) } }
        }
    }
}

/// Zero-filled pooled scalars owned by a trace, so the time loops work on plain pointers
/// instead of nesting one `withUnsafe...` closure per array.
final class ScalarBuffer<Scalar: TensorScalar> {
    private let block: StorageBlock
    let count: Int
    let pointer: UnsafeMutablePointer<Scalar>

    init(_ count: Int) {
        self.count = count
        block = StorageBlock(bytes: count * MemoryLayout<Scalar>.stride)
        pointer = block.raw.bindMemory(to: Scalar.self, capacity: count)
        pointer.initialize(repeating: 0, count: count)
    }

    /// The scalars as tensor storage sharing this buffer (the trace must not write them after).
    var storage: TensorStorage<Scalar> { TensorStorage(block: block, count: count) }
}

/// What the feedback rollout keeps for its backward pass, time-major.
final class FeedbackTrace<Scalar: TensorScalar> {
    let batch: Int, latent: Int, hidden: Int, steps: Int
    /// z_0 ... z_steps [steps + 1, B, K] and h_0 ... h_steps [steps + 1, B, H].
    let z: ScalarBuffer<Scalar>, h: ScalarBuffer<Scalar>
    /// Gates of every step [steps, B, H]: reset, update, candidate, W_hn h + b_hn.
    let reset: ScalarBuffer<Scalar>, update: ScalarBuffer<Scalar>, candidate: ScalarBuffer<Scalar>, hiddenNew: ScalarBuffer<Scalar>
    /// The weights, as the forward pass used them (the backward pass needs the same).
    let wih: TensorStorage<Scalar>, whh: TensorStorage<Scalar>, bih: TensorStorage<Scalar>, bhh: TensorStorage<Scalar>, readout: TensorStorage<Scalar>

    init(batch: Int, latent: Int, hidden: Int, steps: Int, wih: TensorStorage<Scalar>, whh: TensorStorage<Scalar>,
         bih: TensorStorage<Scalar>, bhh: TensorStorage<Scalar>, readout: TensorStorage<Scalar>) {
        (self.batch, self.latent, self.hidden, self.steps) = (batch, latent, hidden, steps)
        (self.wih, self.whh, self.bih, self.bhh, self.readout) = (wih, whh, bih, bhh, readout)
        z = ScalarBuffer((steps + 1) * batch * latent)
        h = ScalarBuffer((steps + 1) * batch * hidden)
        reset = ScalarBuffer(steps * batch * hidden)
        update = ScalarBuffer(steps * batch * hidden)
        candidate = ScalarBuffer(steps * batch * hidden)
        hiddenNew = ScalarBuffer(steps * batch * hidden)
    }

    /// C (m x n) = op(A) op(B) + beta C, row-major pointers.
    @inline(__always)
    static func gemm(_ ta: Bool, _ tb: Bool, _ m: Int, _ n: Int, _ k: Int, _ a: UnsafePointer<Scalar>, _ lda: Int,
                     _ b: UnsafePointer<Scalar>, _ ldb: Int, beta: Scalar, _ c: UnsafeMutablePointer<Scalar>, _ ldc: Int) {
        Scalar.gemm(transposeA: ta, transposeB: tb, m: m, n: n, k: k, alpha: 1, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
    }

    func forward(z0: TensorStorage<Scalar>) {
        let (bk, bh, g) = (batch * latent, batch * hidden, 3 * hidden)
        let gx = ScalarBuffer<Scalar>(batch * g), gh = ScalarBuffer<Scalar>(batch * g)
        let (zs, hs) = (z.pointer, h.pointer)
        z0.withUnsafeBufferPointer { source in if let base = source.baseAddress { zs.update(from: base, count: bk) } }
        wih.withUnsafeBufferPointer { wihp in
            whh.withUnsafeBufferPointer { whhp in
                readout.withUnsafeBufferPointer { rop in
                    bih.withUnsafeBufferPointer { bihp in
                        bhh.withUnsafeBufferPointer { bhhp in
                            guard let wihb = wihp.baseAddress, let whhb = whhp.baseAddress, let rob = rop.baseAddress,
                                  let bihb = bihp.baseAddress, let bhhb = bhhp.baseAddress else { return }
                            for t in 0..<steps {
                                for b in 0..<batch {
                                    (gx.pointer + b * g).update(from: bihb, count: g)
                                    (gh.pointer + b * g).update(from: bhhb, count: g)
                                }
                                let (zt, ht, hNext) = (zs + t * bk, hs + t * bh, hs + (t + 1) * bh)
                                Self.gemm(false, true, batch, g, latent, zt, latent, wihb, latent, beta: 1, gx.pointer, g)
                                Self.gemm(false, true, batch, g, hidden, ht, hidden, whhb, hidden, beta: 1, gh.pointer, g)
                                for b in 0..<batch {
                                    let row = t * bh + b * hidden
                                    Scalar.gruGates(x: gx.pointer + b * g, h: gh.pointer + b * g, previous: ht + b * hidden, hidden: hidden,
                                                    r: reset.pointer + row, z: update.pointer + row, n: candidate.pointer + row,
                                                    hn: hiddenNew.pointer + row, next: hNext + b * hidden)
                                }
                                // z_{t+1} = z_t + h_{t+1} R^T.
                                (zs + (t + 1) * bk).update(from: zt, count: bk)
                                Self.gemm(false, true, batch, latent, hidden, hNext, hidden, rob, hidden, beta: 1, zs + (t + 1) * bk, latent)
                            }
                        }
                    }
                }
            }
        }
    }

    /// Gradients for (z0, W_ih, W_hh, b_ih, b_hh, R) from the output's gradient [B, steps, K].
    func backward(_ gradient: TensorStorage<Scalar>, needs: [Bool]) -> [TensorStorage<Scalar>?] {
        let (bk, bh, g, rows) = (batch * latent, batch * hidden, 3 * hidden, steps * batch)
        let dzAll = ScalarBuffer<Scalar>(rows * latent)  // dL/dz_{t+1} of every step, time-major
        let gxAll = ScalarBuffer<Scalar>(rows * g), ghAll = ScalarBuffer<Scalar>(rows * g)
        let dzCarry = ScalarBuffer<Scalar>(bk), dhCarry = ScalarBuffer<Scalar>(bh)
        let dh = ScalarBuffer<Scalar>(bh), direct = ScalarBuffer<Scalar>(bh)
        wih.withUnsafeBufferPointer { wihp in
            whh.withUnsafeBufferPointer { whhp in
                readout.withUnsafeBufferPointer { rop in
                    guard let wihb = wihp.baseAddress, let whhb = whhp.baseAddress, let rob = rop.baseAddress else { return }
                    for t in stride(from: steps - 1, through: 0, by: -1) {
                        // dL/dz_{t+1}: the output's gradient plus what later steps sent back.
                        let dz = dzAll.pointer + t * bk
                        for b in 0..<batch {
                            for j in 0..<latent { dz[b * latent + j] = gradient[(b * steps + t) * latent + j] + dzCarry.pointer[b * latent + j] }
                        }
                        // dL/dh_{t+1} = dz R + the recurrent carry.
                        dh.pointer.update(from: dhCarry.pointer, count: bh)
                        Self.gemm(false, false, batch, hidden, latent, dz, latent, rob, hidden, beta: 1, dh.pointer, hidden)
                        for b in 0..<batch {
                            let row = t * bh + b * hidden
                            Scalar.gruGatesBackward(gradient: dh.pointer + b * hidden, r: reset.pointer + row, z: update.pointer + row,
                                                    n: candidate.pointer + row, hn: hiddenNew.pointer + row,
                                                    previous: h.pointer + t * bh + b * hidden, hidden: hidden,
                                                    gx: gxAll.pointer + (t * batch + b) * g, gh: ghAll.pointer + (t * batch + b) * g,
                                                    direct: direct.pointer + b * hidden)
                        }
                        // Carries to step t: dL/dh_t = direct + dGh W_hh, dL/dz_t = dz + dGx W_ih.
                        dhCarry.pointer.update(from: direct.pointer, count: bh)
                        Self.gemm(false, false, batch, hidden, g, ghAll.pointer + t * batch * g, g, whhb, hidden, beta: 1, dhCarry.pointer, hidden)
                        dzCarry.pointer.update(from: dz, count: bk)
                        Self.gemm(false, false, batch, latent, g, gxAll.pointer + t * batch * g, g, wihb, latent, beta: 1, dzCarry.pointer, latent)
                    }
                }
            }
        }
        // Weight gradients of all steps at once: dW_ih = dGx^T [z_0..z_{T-1}], dW_hh = dGh^T [h_0..h_{T-1}],
        // dR = dZ^T [h_1..h_T]; bias gradients are column sums of dGx and dGh.
        func product(_ left: ScalarBuffer<Scalar>, _ right: UnsafePointer<Scalar>, m: Int, n: Int) -> TensorStorage<Scalar> {
            var values = TensorStorage<Scalar>(uninitializedCount: m * n)
            values.withUnsafeMutableBufferPointer { Self.gemm(true, false, m, n, rows, left.pointer, m, right, n, beta: 0, $0.baseAddress!, n) }
            return values
        }
        return [needs[0] ? dzCarry.storage : nil,
                needs[1] ? product(gxAll, z.pointer, m: g, n: latent) : nil,
                needs[2] ? product(ghAll, h.pointer, m: g, n: hidden) : nil,
                needs[3] ? GRUSequence.columnSums(gxAll.storage, rows: rows, columns: g) : nil,
                needs[4] ? GRUSequence.columnSums(ghAll.storage, rows: rows, columns: g) : nil,
                needs[5] ? product(dzAll, h.pointer + bh, m: latent, n: hidden) : nil]
    }
}
