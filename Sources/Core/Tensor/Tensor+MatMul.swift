/// Matrix products through BLAS GEMM.
extension Tensor {
    /// `self` [..., K] times `other` [K, N] -> [..., N] (leading dimensions flattened), or
    /// batched [B, M, K] x [B, K, N] -> [B, M, N].
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func matmul(_ other: Tensor) -> Tensor {
        if rank == 3 && other.rank == 3 { return batchedMatmul(other) }
        precondition(other.rank == 2 && rank >= 1 && shape.last == other.shape[0],
                     "matmul shapes \(shape) x \(other.shape) do not match")
        let k = other.shape[0], n = other.shape[1], m = count / k
        var output = TensorStorage<Scalar>(uninitializedCount: m * n)
        Tensor.gemm(false, false, m, n, k, scalars, other.scalars, &output)
        let outputShape = Array(shape.dropLast()) + [n]
        let a = detached, b = other.detached
        let needsA = isTracked, needsB = other.isTracked
        return Tensor.result(shape: outputShape, scalars: output, inputs: [self, other]) { gradient in
            var gradA: Tensor? = nil, gradB: Tensor? = nil
            if needsA {
                var values = TensorStorage<Scalar>(uninitializedCount: m * k)
                Tensor.gemm(false, true, m, k, n, gradient.scalars, b.scalars, &values)  // dC . B^T
                gradA = Tensor(shape: a.shape, scalars: values)
            }
            if needsB {
                var values = TensorStorage<Scalar>(uninitializedCount: k * n)
                Tensor.gemm(true, false, k, n, m, a.scalars, gradient.scalars, &values)  // A^T . dC
                gradB = Tensor(shape: b.shape, scalars: values)
            }
            return [gradA, gradB]
        }
    }

    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    func batchedMatmul(_ other: Tensor) -> Tensor {
        let (batch, m, k, n) = (shape[0], shape[1], shape[2], other.shape[2])
        precondition(other.shape[0] == batch && other.shape[1] == k, "batched matmul shapes \(shape) x \(other.shape) do not match")
        var output = TensorStorage<Scalar>(uninitializedCount: batch * m * n)
        Tensor.batchedGemm(batch, false, false, m, n, k, scalars, other.scalars, &output)
        let a = detached, b = other.detached
        let needsA = isTracked, needsB = other.isTracked
        return Tensor.result(shape: [batch, m, n], scalars: output, inputs: [self, other]) { gradient in
            var gradA: Tensor? = nil, gradB: Tensor? = nil
            if needsA {
                var values = TensorStorage<Scalar>(uninitializedCount: batch * m * k)
                Tensor.batchedGemm(batch, false, true, m, k, n, gradient.scalars, b.scalars, &values)
                gradA = Tensor(shape: a.shape, scalars: values)
            }
            if needsB {
                var values = TensorStorage<Scalar>(uninitializedCount: batch * k * n)
                Tensor.batchedGemm(batch, true, false, k, n, m, a.scalars, gradient.scalars, &values)
                gradB = Tensor(shape: b.shape, scalars: values)
            }
            return [gradA, gradB]
        }
    }

    /// C (m x n) = op(A) op(B) + beta C, row-major, op(A) m x k (C may start undefined when
    /// beta is 0: BLAS does not read it then).
    static func gemm(_ transposeA: Bool, _ transposeB: Bool, _ m: Int, _ n: Int, _ k: Int,
                     _ a: TensorStorage<Scalar>, _ b: TensorStorage<Scalar>, _ c: inout TensorStorage<Scalar>, beta: Scalar = 0) {
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                c.withUnsafeMutableBufferPointer { pc in
                    Scalar.gemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: 1,
                                a: pa.baseAddress!, lda: transposeA ? m : k, b: pb.baseAddress!, ldb: transposeB ? k : n,
                                beta: beta, c: pc.baseAddress!, ldc: n)
                }
            }
        }
    }

    static func batchedGemm(_ batch: Int, _ transposeA: Bool, _ transposeB: Bool, _ m: Int, _ n: Int, _ k: Int,
                            _ a: TensorStorage<Scalar>, _ b: TensorStorage<Scalar>, _ c: inout TensorStorage<Scalar>) {
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                c.withUnsafeMutableBufferPointer { pc in
                    for index in 0..<batch {
                        Scalar.gemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: 1,
                                    a: pa.baseAddress! + index * m * k, lda: transposeA ? m : k,
                                    b: pb.baseAddress! + index * k * n, ldb: transposeB ? k : n,
                                    beta: 0, c: pc.baseAddress! + index * m * n, ldc: n)
                    }
                }
            }
        }
    }
}
