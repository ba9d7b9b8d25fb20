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
        let trace = FeedbackTrace<Scalar>(batch: batch, latent: k, hidden: h, steps: steps)
        let weights = (wih: weightIH.scalars, whh: weightHH.scalars, bih: biasIH.scalars, bhh: biasHH.scalars, readout: readout.scalars)
        trace.forward(z0: z0.scalars, weights: weights)
        // [B, steps, K] from the time-major states z_1...z_steps.
        var output = [Scalar](repeating: 0, count: batch * steps * k)
        for t in 0..<steps {
            for b in 0..<batch {
                for j in 0..<k { output[(b * steps + t) * k + j] = trace.z[((t + 1) * batch + b) * k + j] }
            }
        }
        let inputs = [z0, weightIH, weightHH, biasIH, biasHH, readout]
        let needs = inputs.map(\.isTracked)
        let shapes = inputs.map(\.shape)
        return Tensor.result(shape: [batch, steps, k], scalars: output, inputs: inputs) { gradient in
            let values = trace.backward(gradient.scalars, weights: weights, needs: needs)
            return zip(values, shapes).map { value, shape in value.map { Tensor(shape: shape, scalars: $0) } }
        }
    }
}

/// What the feedback rollout keeps for its backward pass, time-major.
final class FeedbackTrace<Scalar: TensorScalar> {
    let batch: Int, latent: Int, hidden: Int, steps: Int
    /// z_0 ... z_steps [steps + 1, B, K] and h_0 ... h_steps [steps + 1, B, H].
    var z: [Scalar], h: [Scalar]
    /// Gates of every step [steps, B, H]: reset, update, candidate, W_hn h + b_hn.
    var reset: [Scalar], update: [Scalar], candidate: [Scalar], hiddenNew: [Scalar]

    init(batch: Int, latent: Int, hidden: Int, steps: Int) {
        (self.batch, self.latent, self.hidden, self.steps) = (batch, latent, hidden, steps)
        z = [Scalar](repeating: 0, count: (steps + 1) * batch * latent)
        h = [Scalar](repeating: 0, count: (steps + 1) * batch * hidden)
        reset = [Scalar](repeating: 0, count: steps * batch * hidden)
        update = reset
        candidate = reset
        hiddenNew = reset
    }

    typealias Weights = (wih: [Scalar], whh: [Scalar], bih: [Scalar], bhh: [Scalar], readout: [Scalar])

    /// C (m x n) = alpha op(A) op(B) + beta C, row-major pointers.
    @inline(__always)
    static func gemm(_ ta: Bool, _ tb: Bool, _ m: Int, _ n: Int, _ k: Int, _ a: UnsafePointer<Scalar>, _ lda: Int,
                     _ b: UnsafePointer<Scalar>, _ ldb: Int, beta: Scalar, _ c: UnsafeMutablePointer<Scalar>, _ ldc: Int) {
        Scalar.gemm(transposeA: ta, transposeB: tb, m: m, n: n, k: k, alpha: 1, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
    }

    func forward(z0: [Scalar], weights w: Weights) {
        let (bk, bh, g) = (batch * latent, batch * hidden, 3 * hidden)
        var gx = [Scalar](repeating: 0, count: batch * g), gh = gx
        for i in 0..<bk { z[i] = z0[i] }
        z.withUnsafeMutableBufferPointer { zp in
            h.withUnsafeMutableBufferPointer { hp in
                reset.withUnsafeMutableBufferPointer { rp in
                    update.withUnsafeMutableBufferPointer { up in
                        candidate.withUnsafeMutableBufferPointer { np in
                            hiddenNew.withUnsafeMutableBufferPointer { hnp in
                                gx.withUnsafeMutableBufferPointer { gxp in
                                    gh.withUnsafeMutableBufferPointer { ghp in
                                        w.wih.withUnsafeBufferPointer { wih in
                                            w.whh.withUnsafeBufferPointer { whh in
                                                w.readout.withUnsafeBufferPointer { ro in
                                                    guard let zb = zp.baseAddress, let hb = hp.baseAddress, let gxb = gxp.baseAddress,
                                                          let ghb = ghp.baseAddress, let wihb = wih.baseAddress, let whhb = whh.baseAddress,
                                                          let rob = ro.baseAddress, let rb = rp.baseAddress, let ub = up.baseAddress,
                                                          let nb = np.baseAddress, let hnb = hnp.baseAddress else { return }
                                                    for t in 0..<steps {
                                                        for b in 0..<batch {
                                                            for j in 0..<g { gxb[b * g + j] = w.bih[j]; ghb[b * g + j] = w.bhh[j] }
                                                        }
                                                        let (zt, ht, hNext) = (zb + t * bk, hb + t * bh, hb + (t + 1) * bh)
                                                        Self.gemm(false, true, batch, g, latent, zt, latent, wihb, latent, beta: 1, gxb, g)
                                                        Self.gemm(false, true, batch, g, hidden, ht, hidden, whhb, hidden, beta: 1, ghb, g)
                                                        for b in 0..<batch {
                                                            let row = t * bh + b * hidden
                                                            Scalar.gruGates(x: gxb + b * g, h: ghb + b * g, previous: ht + b * hidden, hidden: hidden,
                                                                            r: rb + row, z: ub + row, n: nb + row, hn: hnb + row, next: hNext + b * hidden)
                                                        }
                                                        // z_{t+1} = z_t + h_{t+1} R^T.
                                                        (zb + (t + 1) * bk).update(from: zt, count: bk)
                                                        Self.gemm(false, true, batch, latent, hidden, hNext, hidden, rob, hidden, beta: 1, zb + (t + 1) * bk, latent)
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
    }

    /// Gradients for (z0, W_ih, W_hh, b_ih, b_hh, R) from the output's gradient [B, steps, K].
    func backward(_ gradient: [Scalar], weights w: Weights, needs: [Bool]) -> [[Scalar]?] {
        let (bk, bh, g, rows) = (batch * latent, batch * hidden, 3 * hidden, steps * batch)
        var dzAll = [Scalar](repeating: 0, count: rows * latent)  // dL/dz_{t+1} of every step, time-major
        var gxAll = [Scalar](repeating: 0, count: rows * g), ghAll = gxAll
        var dzCarry = [Scalar](repeating: 0, count: bk), dhCarry = [Scalar](repeating: 0, count: bh)
        var dh = [Scalar](repeating: 0, count: bh), direct = dh
        dzAll.withUnsafeMutableBufferPointer { dzp in
            gxAll.withUnsafeMutableBufferPointer { gxp in
                ghAll.withUnsafeMutableBufferPointer { ghp in
                    dzCarry.withUnsafeMutableBufferPointer { dzc in
                        dhCarry.withUnsafeMutableBufferPointer { dhc in
                            dh.withUnsafeMutableBufferPointer { dhp in
                                direct.withUnsafeMutableBufferPointer { dp in
                                    h.withUnsafeBufferPointer { hp in
                                        reset.withUnsafeBufferPointer { rp in
                                            update.withUnsafeBufferPointer { up in
                                                candidate.withUnsafeBufferPointer { np in
                                                    hiddenNew.withUnsafeBufferPointer { hnp in
                                                        w.wih.withUnsafeBufferPointer { wih in
                                                            w.whh.withUnsafeBufferPointer { whh in
                                                                w.readout.withUnsafeBufferPointer { ro in
                                                                    guard let dzb = dzp.baseAddress, let gxb = gxp.baseAddress, let ghb = ghp.baseAddress,
                                                                          let dzcb = dzc.baseAddress, let dhcb = dhc.baseAddress, let dhb = dhp.baseAddress,
                                                                          let db = dp.baseAddress, let hb = hp.baseAddress, let rb = rp.baseAddress,
                                                                          let ub = up.baseAddress, let nb = np.baseAddress, let hnb = hnp.baseAddress,
                                                                          let wihb = wih.baseAddress, let whhb = whh.baseAddress, let rob = ro.baseAddress
                                                                    else { return }
                                                                    for t in stride(from: steps - 1, through: 0, by: -1) {
                                                                        // dL/dz_{t+1}: the output's gradient plus what later steps sent back.
                                                                        let dz = dzb + t * bk
                                                                        for b in 0..<batch {
                                                                            for j in 0..<latent { dz[b * latent + j] = gradient[(b * steps + t) * latent + j] + dzcb[b * latent + j] }
                                                                        }
                                                                        // dL/dh_{t+1} = dz R + the recurrent carry.
                                                                        dhb.update(from: dhcb, count: bh)
                                                                        Self.gemm(false, false, batch, hidden, latent, dz, latent, rob, hidden, beta: 1, dhb, hidden)
                                                                        for b in 0..<batch {
                                                                            let row = t * bh + b * hidden
                                                                            Scalar.gruGatesBackward(gradient: dhb + b * hidden, r: rb + row, z: ub + row, n: nb + row, hn: hnb + row,
                                                                                                    previous: hb + t * bh + b * hidden, hidden: hidden,
                                                                                                    gx: gxb + (t * batch + b) * g, gh: ghb + (t * batch + b) * g,
                                                                                                    direct: db + b * hidden)
                                                                        }
                                                                        // Carries to step t: dL/dh_t = direct + dGh W_hh, dL/dz_t = dz + dGx W_ih.
                                                                        dhcb.update(from: db, count: bh)
                                                                        Self.gemm(false, false, batch, hidden, g, ghb + t * batch * g, g, whhb, hidden, beta: 1, dhcb, hidden)
                                                                        dzcb.update(from: dz, count: bk)
                                                                        Self.gemm(false, false, batch, latent, g, gxb + t * batch * g, g, wihb, latent, beta: 1, dzcb, latent)
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
                    }
                }
            }
        }
        var results: [[Scalar]?] = [needs[0] ? dzCarry : nil, nil, nil, nil, nil, nil]
        // Weight gradients of all steps at once: dW_ih = dGx^T [z_0..z_{T-1}], dW_hh = dGh^T [h_0..h_{T-1}],
        // dR = dZ^T [h_1..h_T].
        func product(_ left: [Scalar], _ right: [Scalar], offset: Int, m: Int, n: Int) -> [Scalar] {
            var values = [Scalar](repeating: 0, count: m * n)
            left.withUnsafeBufferPointer { l in
                right.withUnsafeBufferPointer { r in
                    values.withUnsafeMutableBufferPointer { v in
                        guard let lb = l.baseAddress, let rb = r.baseAddress, let vb = v.baseAddress else { return }
                        Self.gemm(true, false, m, n, rows, lb, m, rb + offset, n, beta: 0, vb, n)
                    }
                }
            }
            return values
        }
        if needs[1] { results[1] = product(gxAll, z, offset: 0, m: g, n: latent) }
        if needs[2] { results[2] = product(ghAll, h, offset: 0, m: g, n: hidden) }
        if needs[3] {
            var sums = [Scalar](repeating: 0, count: g)
            for r in 0..<rows { for j in 0..<g { sums[j] += gxAll[r * g + j] } }
            results[3] = sums
        }
        if needs[4] {
            var sums = [Scalar](repeating: 0, count: g)
            for r in 0..<rows { for j in 0..<g { sums[j] += ghAll[r * g + j] } }
            results[4] = sums
        }
        if needs[5] { results[5] = product(dzAll, h, offset: bh, m: latent, n: hidden) }
        return results
    }
}
