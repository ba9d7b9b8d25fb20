/// Reshaping, transposition, concatenation and slicing.
extension Tensor {
    /// The same scalars with another shape (no copy).
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func reshaped(_ newShape: [Int]) -> Tensor {
        precondition(newShape.reduce(1, *) == count, "cannot reshape \(shape) to \(newShape)")
        let oldShape = shape
        return Tensor.result(shape: newShape, scalars: scalars, inputs: [self]) { gradient in
            [Tensor(shape: oldShape, scalars: gradient.scalars)]
        }
    }

    /// The transpose of a matrix.
    public func transposed() -> Tensor {
        precondition(rank == 2, "transposed() needs a matrix, shape is \(shape)")
        let (rows, columns) = (shape[0], shape[1])
        let output = TensorStorage<Scalar>(uninitializedCount: count) { output in
            scalars.withUnsafeBufferPointer { input in
                for r in 0..<rows { for c in 0..<columns { output[c * rows + r] = input[r * columns + c] } }
            }
        }
        return Tensor.result(shape: [columns, rows], scalars: output, inputs: [self]) { gradient in
            [gradient.transposed()]
        }
    }

    /// Tensors joined along `axis` (all other dimensions equal).
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func concatenate(_ tensors: [Tensor], alongAxis axis: Int) -> Tensor {
        precondition(!tensors.isEmpty)
        let first = tensors[0].shape
        let outer = first[..<axis].reduce(1, *), inner = first[(axis + 1)...].reduce(1, *)
        let lengths = tensors.map { $0.shape[axis] }
        var shape = first
        shape[axis] = lengths.reduce(0, +)
        let output = TensorStorage<Scalar>(uninitializedCount: shape.reduce(1, *)) { output in
            var position = output.baseAddress!
            for o in 0..<outer {
                for (tensor, length) in zip(tensors, lengths) {
                    let run = length * inner
                    tensor.scalars.withUnsafeBufferPointer { position.update(from: $0.baseAddress! + o * run, count: run) }
                    position += run
                }
            }
        }
        let tracked = tensors.map(\.isTracked)
        return result(shape: shape, scalars: output, inputs: tensors) { gradient in
            var start = 0
            return zip(tracked, lengths).map { isTracked, length in
                defer { start += length }
                return isTracked ? gradient.slice(alongAxis: axis, start..<(start + length)) : nil
            }
        }
    }

    /// Elements `range` along `axis`. When they are contiguous in `self` (every axis before
    /// `axis` has length 1, e.g. a time step of a time-major [T, B, F] sequence) the result is a
    /// view sharing `self`'s storage; otherwise a copy. Either way its gradient is added into
    /// the input's gradient in place.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func slice(alongAxis axis: Int, _ range: Range<Int>) -> Tensor {
        let outer = shape[..<axis].reduce(1, *), length = shape[axis], inner = shape[(axis + 1)...].reduce(1, *)
        precondition(range.lowerBound >= 0 && range.upperBound <= length, "slice \(range) out of 0..<\(length)")
        let values: TensorStorage<Scalar>
        if outer == 1 {
            values = scalars.view((range.lowerBound * inner)..<(range.upperBound * inner))
        } else {
            let run = range.count * inner
            values = TensorStorage(uninitializedCount: outer * run) { values in
                scalars.withUnsafeBufferPointer { input in
                    for o in 0..<outer {
                        (values.baseAddress! + o * run).update(from: input.baseAddress! + (o * length + range.lowerBound) * inner, count: run)
                    }
                }
            }
        }
        var newShape = shape
        newShape[axis] = range.count
        var output = Tensor(shape: newShape, scalars: values)
        guard let tape = self.tape else { return output }
        output.tape = tape
        output.node = tape.recordSlice(input: node, shape: newShape,
                                       window: .init(inputShape: shape, outer: outer, axisLength: length, inner: inner,
                                                     lower: range.lowerBound, length: range.count))
        return output
    }

    /// Elements at flat `indices` (rank 1 result); gradients scatter back (adding repeats).
    public func gathered(flatIndices indices: [Int]) -> Tensor {
        let output: [Scalar] = indices.map { scalars[$0] }
        let fullShape = shape, total = count
        return Tensor.result(shape: [indices.count], scalars: output, inputs: [self]) { gradient in
            var full = TensorStorage<Scalar>(zeros: total)
            full.withUnsafeMutableBufferPointer { full in
                gradient.scalars.withUnsafeBufferPointer { g in
                    for (position, index) in indices.enumerated() { full[index] += g[position] }
                }
            }
            return [Tensor(shape: fullShape, scalars: full)]
        }
    }

    /// A tensor of `shape` with `self`'s values at flat `indices` and zeros elsewhere.
    public func scattered(toFlatIndices indices: [Int], shape target: [Int]) -> Tensor {
        precondition(rank == 1 && count == indices.count)
        var full = TensorStorage<Scalar>(zeros: target.reduce(1, *))
        full.withUnsafeMutableBufferPointer { full in
            scalars.withUnsafeBufferPointer { values in
                for (position, index) in indices.enumerated() { full[index] += values[position] }
            }
        }
        return Tensor.result(shape: target, scalars: full, inputs: [self]) { gradient in
            [Tensor(shape: [indices.count], scalars: indices.map { gradient.scalars[$0] } as [Scalar])]
        }
    }
}
