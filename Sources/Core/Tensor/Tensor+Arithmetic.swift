/// Element-wise arithmetic with NumPy broadcasting (shapes aligned on the right; a dimension
/// of 1 or a missing one stretches). Gradients are summed back over the stretched dimensions.
extension Tensor {
    public static func + (lhs: Tensor, rhs: Tensor) -> Tensor { binary(.add, lhs, rhs) }
    public static func - (lhs: Tensor, rhs: Tensor) -> Tensor { binary(.subtract, lhs, rhs) }
    public static func * (lhs: Tensor, rhs: Tensor) -> Tensor { binary(.multiply, lhs, rhs) }
    public static func / (lhs: Tensor, rhs: Tensor) -> Tensor { binary(.divide, lhs, rhs) }

    public static func + (lhs: Tensor, rhs: Scalar) -> Tensor { lhs.unary(.shift(Double(rhs))) }
    public static func - (lhs: Tensor, rhs: Scalar) -> Tensor { lhs.unary(.shift(-Double(rhs))) }
    public static func * (lhs: Tensor, rhs: Scalar) -> Tensor { lhs.unary(.scale(Double(rhs))) }
    public static func * (lhs: Scalar, rhs: Tensor) -> Tensor { rhs.unary(.scale(Double(lhs))) }
    public static func / (lhs: Tensor, rhs: Scalar) -> Tensor { lhs.unary(.scale(1 / Double(rhs))) }
    public static prefix func - (operand: Tensor) -> Tensor { operand.unary(.negate) }

    /// The broadcast shape of two shapes, or nil when they are incompatible.
    static func broadcastShape(_ a: [Int], _ b: [Int]) -> [Int]? {
        let rank = max(a.count, b.count)
        var shape = [Int](repeating: 1, count: rank)
        for axis in 0..<rank {
            let da = axis < rank - a.count ? 1 : a[axis - (rank - a.count)]
            let db = axis < rank - b.count ? 1 : b[axis - (rank - b.count)]
            guard da == db || da == 1 || db == 1 else { return nil }
            shape[axis] = max(da, db)
        }
        return shape
    }

    /// Whether `small` repeats along the leading dimensions of `shape` only (the fast kernel path).
    static func isTrailing(_ small: [Int], of shape: [Int]) -> Bool {
        let trimmed = Array(small.drop { $0 == 1 })
        return trimmed.count <= shape.count && Array(shape.suffix(trimmed.count)) == trimmed
    }

    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    static func binary(_ operation: BinaryOperation, _ a: Tensor, _ b: Tensor) -> Tensor {
        guard let shape = broadcastShape(a.shape, b.shape) else {
            preconditionFailure("shapes \(a.shape) and \(b.shape) do not broadcast")
        }
        let count = shape.reduce(1, *)
        var output = TensorStorage<Scalar>(uninitializedCount: count)
        if isTrailing(a.shape, of: shape) && isTrailing(b.shape, of: shape) {
            a.scalars.withUnsafeBufferPointer { pa in
                b.scalars.withUnsafeBufferPointer { pb in
                    output.withUnsafeMutableBufferPointer { po in
                        Scalar.binary(operation, pa.baseAddress!, aCount: a.count, pb.baseAddress!, bCount: b.count, po.baseAddress!, count: count)
                    }
                }
            }
        } else {
            let ea = a.expanded(to: shape), eb = b.expanded(to: shape)
            ea.withUnsafeBufferPointer { pa in
                eb.withUnsafeBufferPointer { pb in
                    output.withUnsafeMutableBufferPointer { po in
                        Scalar.binary(operation, pa.baseAddress!, aCount: count, pb.baseAddress!, bCount: count, po.baseAddress!, count: count)
                    }
                }
            }
        }
        let (aShape, bShape) = (a.shape, b.shape)
        let needsA = a.isTracked, needsB = b.isTracked
        let (aConstant, bConstant) = (a.detached, b.detached)
        return result(shape: shape, scalars: output, inputs: [a, b]) { gradient in
            switch operation {
            case .add:
                return [needsA ? gradient.summed(toShape: aShape) : nil, needsB ? gradient.summed(toShape: bShape) : nil]
            case .subtract:
                return [needsA ? gradient.summed(toShape: aShape) : nil, needsB ? (-gradient).summed(toShape: bShape) : nil]
            case .multiply:
                return [needsA ? (gradient * bConstant).summed(toShape: aShape) : nil,
                        needsB ? (gradient * aConstant).summed(toShape: bShape) : nil]
            case .divide:
                return [needsA ? (gradient / bConstant).summed(toShape: aShape) : nil,
                        needsB ? (-(gradient * aConstant) / (bConstant * bConstant)).summed(toShape: bShape) : nil]
            }
        }
    }

    /// Row-major strides of `shape` seen as a rank-`rank` tensor (left-padded with 1s), with 0
    /// for every axis of length 1, so that broadcast positions read the same element.
    static func broadcastStrides(of shape: [Int], rank: Int) -> [Int] {
        let padded = [Int](repeating: 1, count: rank - shape.count) + shape
        var strides = [Int](repeating: 0, count: rank)
        var step = 1
        for axis in stride(from: rank - 1, through: 0, by: -1) {
            strides[axis] = padded[axis] == 1 ? 0 : step
            step *= padded[axis]
        }
        return strides
    }

    /// The scalars broadcast to `shape` (materialised).
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    func expanded(to target: [Int]) -> TensorStorage<Scalar> {
        if shape == target { return scalars }
        let rank = target.count
        let strides = Tensor.broadcastStrides(of: shape, rank: rank)
        let count = target.reduce(1, *)
        var output = TensorStorage<Scalar>(uninitializedCount: count)
        var index = [Int](repeating: 0, count: rank)
        for flat in 0..<count {
            var offset = 0
            for axis in 0..<rank { offset += index[axis] * strides[axis] }
            output[flat] = scalars[offset]
            var axis = rank - 1
            while axis >= 0 {
                index[axis] += 1
                if index[axis] < target[axis] { break }
                index[axis] = 0
                axis -= 1
            }
        }
        return output
    }

    /// Sums over the dimensions that broadcasting stretched, back to `target` (a constant op).
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    func summed(toShape target: [Int]) -> Tensor {
        if shape == target { return detached }
        let count = target.reduce(1, *)
        var output = TensorStorage<Scalar>(zeros: count)
        if Tensor.isTrailing(target, of: shape) {
            // Leading-dimension broadcast: add consecutive blocks.
            scalars.withUnsafeBufferPointer { source in
                output.withUnsafeMutableBufferPointer { sink in
                    var start = 0
                    while start < self.count {
                        Scalar.axpy(1, source.baseAddress! + start, sink.baseAddress!, count: count)
                        start += count
                    }
                }
            }
        } else {
            let rank = shape.count
            let strides = Tensor.broadcastStrides(of: target, rank: rank)
            var index = [Int](repeating: 0, count: rank)
            for flat in 0..<self.count {
                var offset = 0
                for axis in 0..<rank { offset += index[axis] * strides[axis] }
                output[offset] += scalars[flat]
                var axis = rank - 1
                while axis >= 0 {
                    index[axis] += 1
                    if index[axis] < shape[axis] { break }
                    index[axis] = 0
                    axis -= 1
                }
            }
        }
        return Tensor(shape: target, scalars: output)
    }
}

/// Element-wise functions.
extension Tensor {
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    func unary(_ function: UnaryFunction) -> Tensor {
        var output = TensorStorage<Scalar>(uninitializedCount: count)
        scalars.withUnsafeBufferPointer { input in
            output.withUnsafeMutableBufferPointer { Scalar.unary(function, input.baseAddress!, $0.baseAddress!, count: count) }
        }
        guard isTracked else { return Tensor(shape: shape, scalars: output) }
        // Linear functions need neither input nor output in the backward pass.
        let keepsValues: Bool
        switch function {
        case .scale, .shift, .negate: keepsValues = false
        default: keepsValues = true
        }
        let input: TensorStorage<Scalar>? = keepsValues ? scalars : nil, outputCopy: TensorStorage<Scalar>? = keepsValues ? output : nil
        let shape = self.shape, n = count
        return Tensor.result(shape: shape, scalars: output, inputs: [self]) { gradient in
            var gradInput = TensorStorage<Scalar>(uninitializedCount: n)
            let x = input ?? gradient.scalars, y = outputCopy ?? gradient.scalars
            x.withUnsafeBufferPointer { x in
                y.withUnsafeBufferPointer { y in
                    gradient.scalars.withUnsafeBufferPointer { g in
                        gradInput.withUnsafeMutableBufferPointer {
                            Scalar.unaryBackward(function, input: x.baseAddress!, output: y.baseAddress!, gradOutput: g.baseAddress!,
                                                 gradInput: $0.baseAddress!, count: n)
                        }
                    }
                }
            }
            return [Tensor(shape: shape, scalars: gradInput)]
        }
    }

    public func exp() -> Tensor { unary(.exp) }
    public func log() -> Tensor { unary(.log) }
    public func tanh() -> Tensor { unary(.tanh) }
    public func sigmoid() -> Tensor { unary(.sigmoid) }
    /// log(1 + e^x) (linear above 20, as PyTorch).
    public func softplus() -> Tensor { unary(.softplus) }
    public func relu() -> Tensor { unary(.relu) }
    public func elu(alpha: Double = 1) -> Tensor { unary(.elu(alpha)) }
    public func squared() -> Tensor { unary(.square) }
    public func squareRoot() -> Tensor { unary(.sqrt) }
}
