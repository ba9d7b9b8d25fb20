/// y = x W^T + b, with W of shape [outputs, inputs] (PyTorch's layout and tensor names).
public struct Linear<Scalar: TensorScalar>: Module {
    public var weight: Tensor<Scalar>
    public var bias: Tensor<Scalar>?

    public var parameters: [(name: String, path: WritableKeyPath<Linear, Tensor<Scalar>>)] {
        var list: [(name: String, path: WritableKeyPath<Linear, Tensor<Scalar>>)] = [("weight", \.weight)]
        if bias != nil { list.append(("bias", \Linear.bias!)) }
        return list
    }

    /// PyTorch's default initialisation: U(-1/sqrt(inputs), 1/sqrt(inputs)) for weight and bias.
    public init(inputs: Int, outputs: Int, bias: Bool = true, weightInitializer: Initializer = .uniformFanIn,
                zeroInitialized: Bool = false, random: inout RandomSource) {
        weight = zeroInitialized ? Tensor(zeros: [outputs, inputs]) : weightInitializer.make([outputs, inputs], using: &random)
        if bias {
            let bound = 1 / Double(inputs).squareRoot()
            self.bias = zeroInitialized ? Tensor(zeros: [outputs])
                : Tensor(shape: [outputs], scalars: (0..<outputs).map { _ in Scalar(random.uniform(-bound, bound)) })
        } else {
            self.bias = nil
        }
    }

    public init(weight: Tensor<Scalar>, bias: Tensor<Scalar>?) {
        self.weight = weight
        self.bias = bias
    }

    /// x: [..., inputs] -> [..., outputs].
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar> { x.linear(weight: weight, bias: bias) }
}

extension Tensor {
    /// self [..., in] W^T [in, out] + b [out] in one GEMM, with a fused backward.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func linear(weight: Tensor, bias: Tensor?) -> Tensor {
        let inputs = weight.shape[1], outputs = weight.shape[0]
        precondition(shape.last == inputs, "linear: input features \(shape.last ?? 0) != weight inputs \(inputs)")
        let rows = count / inputs
        var output = TensorStorage<Scalar>(uninitializedCount: rows * outputs)
        if let bias {
            output.withUnsafeMutableBufferPointer { out in
                bias.scalars.withUnsafeBufferPointer { b in
                    for r in 0..<rows { (out.baseAddress! + r * outputs).update(from: b.baseAddress!, count: outputs) }
                }
            }
        }
        Tensor.gemm(false, true, rows, outputs, inputs, scalars, weight.scalars, &output, beta: bias == nil ? 0 : 1)
        let x = detached, w = weight.detached
        let needsX = isTracked, needsW = weight.isTracked, needsB = bias?.isTracked ?? false
        let outputShape = Array(shape.dropLast()) + [outputs]
        var inputs_ = [self, weight]
        if let bias { inputs_.append(bias) }
        return Tensor.result(shape: outputShape, scalars: output, inputs: inputs_) { gradient in
            var gradients: [Tensor?] = [nil, nil, nil]
            if needsX {
                var values = TensorStorage<Scalar>(uninitializedCount: rows * inputs)
                Tensor.gemm(false, false, rows, inputs, outputs, gradient.scalars, w.scalars, &values)  // dY W
                gradients[0] = Tensor(shape: x.shape, scalars: values)
            }
            if needsW {
                var values = TensorStorage<Scalar>(uninitializedCount: outputs * inputs)
                Tensor.gemm(true, false, outputs, inputs, rows, gradient.scalars, x.scalars, &values)  // dY^T X
                gradients[1] = Tensor(shape: w.shape, scalars: values)
            }
            if needsB {
                gradients[2] = Tensor(shape: [outputs], scalars: GRUSequence.columnSums(gradient.scalars, rows: rows, columns: outputs))
            }
            return gradients
        }
    }
}
