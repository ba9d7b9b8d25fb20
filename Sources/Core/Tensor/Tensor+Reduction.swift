/// Sums and means, over everything or along one axis.
extension Tensor {
    /// Sum of all elements (rank 0), accumulated in Float64.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func sum() -> Tensor {
        let total = scalars.withUnsafeBufferPointer { Scalar.sum($0.baseAddress!, count: count) }
        let shape = self.shape
        return Tensor.result(shape: [], scalars: [Scalar(total)], inputs: [self]) { gradient in
            [Tensor(repeating: gradient.scalars[0], shape: shape)]
        }
    }

    public func mean() -> Tensor { sum() / Scalar(count) }

    /// Sum along `axis` (removed from the shape unless `keepingDimension`).
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func sum(alongAxis axis: Int, keepingDimension: Bool = false) -> Tensor {
        precondition(axis >= 0 && axis < rank, "axis \(axis) out of range for shape \(shape)")
        let outer = shape[..<axis].reduce(1, *), length = shape[axis], inner = shape[(axis + 1)...].reduce(1, *)
        var output = TensorStorage<Scalar>(zeros: outer * inner)
        scalars.withUnsafeBufferPointer { input in
            output.withUnsafeMutableBufferPointer { sums in
                for o in 0..<outer {
                    for l in 0..<length {
                        Scalar.axpy(1, input.baseAddress! + (o * length + l) * inner, sums.baseAddress! + o * inner, count: inner)
                    }
                }
            }
        }
        var reducedShape = shape
        if keepingDimension { reducedShape[axis] = 1 } else { reducedShape.remove(at: axis) }
        let inputShape = shape
        return Tensor.result(shape: reducedShape, scalars: output, inputs: [self]) { gradient in
            let expanded = TensorStorage<Scalar>(uninitializedCount: outer * length * inner) { expanded in
                gradient.scalars.withUnsafeBufferPointer { g in
                    for o in 0..<outer {
                        for l in 0..<length {
                            (expanded.baseAddress! + (o * length + l) * inner).update(from: g.baseAddress! + o * inner, count: inner)
                        }
                    }
                }
            }
            return [Tensor(shape: inputShape, scalars: expanded)]
        }
    }

    public func mean(alongAxis axis: Int, keepingDimension: Bool = false) -> Tensor {
        sum(alongAxis: axis, keepingDimension: keepingDimension) / Scalar(shape[axis])
    }
}
