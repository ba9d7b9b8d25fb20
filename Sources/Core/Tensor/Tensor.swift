/// A dense, row-major tensor of Float (training) or Double (gradient checks) with value
/// semantics: copies share storage until one is written (copy on write). The scalars live in
/// memory recycled by `ScalarPool`, so a training step reuses the previous step's buffers.
///
/// A tensor produced by an operation on a tracked tensor (a parameter inside
/// `valueAndGradient`) remembers its node on that recording so gradients can flow back.
public struct Tensor<Scalar: TensorScalar> {
    public internal(set) var shape: [Int]
    /// Elements in row-major order.
    public internal(set) var scalars: TensorStorage<Scalar>
    /// The recording this tensor was produced on (nil for constants) and its node there.
    var tape: Tape<Scalar>?
    var node: Int = -1

    /// A tensor sharing `scalars` (no copy).
    public init(shape: [Int], scalars: TensorStorage<Scalar>) {
        precondition(shape.reduce(1, *) == scalars.count, "shape \(shape) needs \(shape.reduce(1, *)) scalars, got \(scalars.count)")
        self.shape = shape
        self.scalars = scalars
    }

    /// A tensor holding a copy of `scalars`.
    public init(shape: [Int], scalars: [Scalar]) {
        self.init(shape: shape, scalars: TensorStorage(scalars))
    }

    public init(zeros shape: [Int]) {
        self.init(shape: shape, scalars: TensorStorage(zeros: shape.reduce(1, *)))
    }

    public init(repeating value: Scalar, shape: [Int]) {
        self.init(shape: shape, scalars: TensorStorage(repeating: value, count: shape.reduce(1, *)))
    }

    /// A rank-0 tensor.
    public init(_ value: Scalar) { self.init(shape: [], scalars: [value]) }

    public var count: Int { scalars.count }
    public var rank: Int { shape.count }

    /// The single value of a one-element tensor.
    public var scalar: Scalar {
        precondition(scalars.count == 1, "scalar needs a one-element tensor, shape is \(shape)")
        return scalars[0]
    }

    /// Whether every element is finite (no NaN or infinity). A specialised loop, cheap to call
    /// from code that is generic over the scalar type.
    public var isFinite: Bool { Scalar.allFinite(scalars) }

    /// Whether gradients flow through this tensor.
    public var isTracked: Bool { tape != nil }

    /// The same values, cut from any recording.
    public var detached: Tensor { Tensor(shape: shape, scalars: scalars) }

    /// Converts the scalars (e.g. Float parameters to Double for a gradient check).
    public func converted<Other: TensorScalar>(to: Other.Type = Other.self) -> Tensor<Other> {
        Tensor<Other>(shape: shape, scalars: scalars.map { Other($0) } as [Other])
    }

    /// Direct write access to the elements (drops any recording).
    public mutating func withUnsafeMutableScalars<R>(_ body: (UnsafeMutableBufferPointer<Scalar>) throws -> R) rethrows -> R {
        tape = nil
        node = -1
        return try scalars.withUnsafeMutableBufferPointer { try body($0) }
    }
}

extension Tensor: Equatable {
    public static func == (lhs: Tensor, rhs: Tensor) -> Bool { lhs.shape == rhs.shape && lhs.scalars == rhs.scalars }
}

extension Tensor: CustomStringConvertible {
    public var description: String { "Tensor\(shape)(\(scalars.prefix(8).map { "\($0)" }.joined(separator: ", "))\(count > 8 ? ", ..." : ""))" }
}
