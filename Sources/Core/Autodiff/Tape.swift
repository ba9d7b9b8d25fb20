/// A recording of the operations applied to tracked tensors, for reverse-mode differentiation.
///
/// Each operation appends one record: the nodes of its tracked inputs and a closure that maps
/// the gradient of its output to gradients of those inputs (capturing only what that needs).
/// Records are appended in execution order, so walking them backwards is a topological order.
final class Tape<Scalar: TensorScalar> {
    struct Record {
        /// Nodes of the inputs (-1 for inputs that are constants).
        let inputs: [Int]
        /// Gradient of the output -> gradients of the inputs (nil where none is needed).
        let backward: ((Tensor<Scalar>) -> [Tensor<Scalar>?])?
        let shape: [Int]
        /// For a slice: where its elements sit in its single input. Its gradient is added into
        /// the input's gradient in place, so slicing a tensor T times (a time loop) costs one
        /// input-sized buffer in the backward pass instead of T.
        var window: SliceWindow? = nil
    }

    /// Elements `lower..<(lower + length)` along an axis of a tensor seen as
    /// [outer, axisLength, inner].
    struct SliceWindow {
        let inputShape: [Int]
        let outer: Int, axisLength: Int, inner: Int
        let lower: Int, length: Int
    }

    private(set) var records: [Record] = []

    init() { records.reserveCapacity(1024) }

    /// Registers a leaf (a parameter) and returns its node.
    func leaf(shape: [Int]) -> Int {
        records.append(Record(inputs: [], backward: nil, shape: shape))
        return records.count - 1
    }

    func record(inputs: [Int], shape: [Int], backward: @escaping (Tensor<Scalar>) -> [Tensor<Scalar>?]) -> Int {
        records.append(Record(inputs: inputs, backward: backward, shape: shape))
        return records.count - 1
    }

    func recordSlice(input: Int, shape: [Int], window: SliceWindow) -> Int {
        records.append(Record(inputs: [input], backward: nil, shape: shape, window: window))
        return records.count - 1
    }

    /// Gradients of `output` (seeded with `seed`, ones by default) for every node reached.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    func gradients(of output: Int, seed: Tensor<Scalar>) -> [Tensor<Scalar>?] {
        var gradients = [Tensor<Scalar>?](repeating: nil, count: records.count)
        gradients[output] = seed
        for node in stride(from: output, through: 0, by: -1) {
            guard let gradient = gradients[node] else { continue }
            if let window = records[node].window {
                let input = records[node].inputs[0]
                if input >= 0 {
                    if gradients[input] == nil { gradients[input] = Tensor(zeros: window.inputShape) }
                    gradients[input]?.accumulate(gradient, into: window)  // in place: the array holds the only copy
                }
            } else if let backward = records[node].backward {
                let inputGradients = backward(gradient)
                for (input, inputGradient) in zip(records[node].inputs, inputGradients) where input >= 0 {
                    guard let inputGradient else { continue }
                    if gradients[input] == nil {
                        gradients[input] = inputGradient
                    } else {
                        gradients[input]?.accumulate(inputGradient)
                    }
                }
            } else {
                continue
            }
            if node != output { gradients[node] = nil }  // intermediate gradients are not kept
        }
        return gradients
    }
}

extension Tensor {
    /// Builds an operation's result, recording it when any input is tracked.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    static func result(shape: [Int], scalars: [Scalar], inputs: [Tensor], backward: @escaping (Tensor) -> [Tensor?]) -> Tensor {
        result(shape: shape, scalars: TensorStorage(scalars), inputs: inputs, backward: backward)
    }

    /// Builds an operation's result, recording it when any input is tracked.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    static func result(shape: [Int], scalars: TensorStorage<Scalar>, inputs: [Tensor], backward: @escaping (Tensor) -> [Tensor?]) -> Tensor {
        var output = Tensor(shape: shape, scalars: scalars)
        guard let tape = inputs.lazy.compactMap(\.tape).first else { return output }
        output.tape = tape
        output.node = tape.record(inputs: inputs.map { $0.tape === tape ? $0.node : -1 }, shape: shape, backward: backward)
        return output
    }

    /// lhs += rhs for values outside any recording (same shapes): in place, no new buffer.
    /// Summing gradient trees (e.g. the parts of a split batch) uses it.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func += (lhs: inout Tensor, rhs: Tensor) {
        lhs.tape = nil
        lhs.node = -1
        lhs.accumulate(rhs)
    }

    /// self += other (same shape), in place.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    mutating func accumulate(_ other: Tensor) {
        precondition(shape == other.shape, "gradient shapes differ: \(shape) vs \(other.shape)")
        let n = count
        scalars.withUnsafeMutableBufferPointer { y in
            other.scalars.withUnsafeBufferPointer { x in Scalar.axpy(1, x.baseAddress!, y.baseAddress!, count: n) }
        }
    }
}

extension Tensor {
    /// Adds `block` (the gradient of a slice) into the slice's place in `self`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    mutating func accumulate(_ block: Tensor, into window: Tape<Scalar>.SliceWindow) {
        let run = window.length * window.inner
        scalars.withUnsafeMutableBufferPointer { y in
            block.scalars.withUnsafeBufferPointer { x in
                for o in 0..<window.outer {
                    Scalar.axpy(1, x.baseAddress! + o * run, y.baseAddress! + (o * window.axisLength + window.lower) * window.inner, count: run)
                }
            }
        }
    }

    /// A custom differentiable operation: `scalars` (of `shape`) computed outside the tape from
    /// `inputs`; `backward` maps the output's gradient to one gradient per input (nil for none).
    /// Used for operations with a hand-written backward, such as the adjoint ODE solve.
    public static func customOperation(shape: [Int], scalars: [Scalar], inputs: [Tensor],
                                       backward: @escaping (Tensor) -> [Tensor?]) -> Tensor {
        result(shape: shape, scalars: scalars, inputs: inputs, backward: backward)
    }

    /// `customOperation` for scalars already in tensor storage (no copy).
    public static func customOperation(shape: [Int], scalars: TensorStorage<Scalar>, inputs: [Tensor],
                                       backward: @escaping (Tensor) -> [Tensor?]) -> Tensor {
        result(shape: shape, scalars: scalars, inputs: inputs, backward: backward)
    }
}
