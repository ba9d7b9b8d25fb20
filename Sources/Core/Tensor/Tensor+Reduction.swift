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
        var output = [Scalar](repeating: 0, count: outer * inner)
        for o in 0..<outer {
            for l in 0..<length {
                let base = (o * length + l) * inner
                for i in 0..<inner { output[o * inner + i] += scalars[base + i] }
            }
        }
        var reducedShape = shape
        if keepingDimension { reducedShape[axis] = 1 } else { reducedShape.remove(at: axis) }
        let inputShape = shape
        return Tensor.result(shape: reducedShape, scalars: output, inputs: [self]) { gradient in
            var expanded = [Scalar](repeating: 0, count: outer * length * inner)
            for o in 0..<outer {
                for l in 0..<length {
                    for i in 0..<inner { expanded[(o * length + l) * inner + i] = gradient.scalars[o * inner + i] }
                }
            }
            return [Tensor(shape: inputShape, scalars: expanded)]
        }
    }

    public func mean(alongAxis axis: Int, keepingDimension: Bool = false) -> Tensor {
        sum(alongAxis: axis, keepingDimension: keepingDimension) / Scalar(shape[axis])
    }
}
