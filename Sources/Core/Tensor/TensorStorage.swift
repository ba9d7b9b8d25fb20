/// One block of pooled memory; returns it to `ScalarPool` when the last tensor (or view) using
/// it goes away. Not generic, so making one needs no generic-metadata lookup.
final class StorageBlock: @unchecked Sendable {
    let raw: UnsafeMutableRawPointer
    /// Bytes the block was requested for.
    let bytes: Int

    init(bytes: Int) {
        self.bytes = bytes
        raw = ScalarPool.shared.take(bytes: bytes)
    }

    deinit { ScalarPool.shared.give(raw, bytes: bytes) }
}

/// The scalars of a tensor: a contiguous run of `count` elements in a pooled block, with value
/// semantics (copy on write) like an array.
///
/// Several storages may share one block at different offsets: `Tensor.slice(alongAxis:_:)`
/// returns such views for contiguous slices (leading-axis slices, e.g. time steps of a
/// time-major sequence) without copying. Writing through a shared storage copies it first.
///
/// It is a `RandomAccessCollection` and `MutableCollection` indexed from 0, so code written for
/// `[Scalar]` (subscripts, `map`, `withUnsafeBufferPointer`) reads it unchanged.
public struct TensorStorage<Scalar: TensorScalar>: @unchecked Sendable {
    private var block: StorageBlock
    private var offset: Int
    public let count: Int

    /// `count` scalars with undefined values: for kernels that write every element.
    public init(uninitializedCount count: Int) {
        precondition(count >= 0, "a storage needs a non-negative count, got \(count)")
        block = StorageBlock(bytes: count * MemoryLayout<Scalar>.stride)
        block.raw.bindMemory(to: Scalar.self, capacity: count)
        offset = 0
        self.count = count
    }

    /// The first scalar of this storage.
    @inline(__always)
    private var start: UnsafeMutablePointer<Scalar> { block.raw.assumingMemoryBound(to: Scalar.self) + offset }

    /// `count` scalars with undefined values, filled by `body`.
    public init(uninitializedCount count: Int, initializingWith body: (UnsafeMutableBufferPointer<Scalar>) throws -> Void) rethrows {
        self.init(uninitializedCount: count)
        try body(UnsafeMutableBufferPointer(start: start, count: count))
    }

    public init(repeating value: Scalar, count: Int) {
        self.init(uninitializedCount: count)
        if value == 0 {
            // All-zero bits are +0 for Float and Double; one memset, also from unspecialised code.
            UnsafeMutableRawPointer(start).initializeMemory(as: UInt8.self, repeating: 0, count: count * MemoryLayout<Scalar>.stride)
        } else {
            start.initialize(repeating: value, count: count)
        }
    }

    public init(zeros count: Int) { self.init(repeating: 0, count: count) }

    /// A copy of `values`.
    public init<Values: Collection>(_ values: Values) where Values.Element == Scalar {
        self.init(uninitializedCount: values.count)
        let pointer = start, count = self.count
        let copied = values.withContiguousStorageIfAvailable { source -> Bool in
            if let address = source.baseAddress { Self.copy(from: address, to: pointer, count: count) }
            return true
        }
        if copied == nil {
            for (index, value) in values.enumerated() { pointer[index] = value }
        }
    }

    /// The contiguous part `range` of these scalars, sharing their block (no copy).
    public func view(_ range: Range<Int>) -> TensorStorage {
        precondition(range.lowerBound >= 0 && range.upperBound <= count, "view \(range) out of 0..<\(count)")
        return TensorStorage(block: block, offset: offset + range.lowerBound, count: range.count)
    }

    /// Scalars `offset..<(offset + count)` of `block`, shared with whoever else holds it.
    init(block: StorageBlock, offset: Int = 0, count: Int) {
        self.block = block
        self.offset = offset
        self.count = count
    }

    /// Whether two storages are the same scalars in the same block (a view of the whole block).
    func sharesBlock(with other: TensorStorage) -> Bool { block === other.block && offset == other.offset }

    /// Makes the block unique to this storage before a write.
    private mutating func makeUnique() {
        if isKnownUniquelyReferenced(&block) { return }
        let copy = StorageBlock(bytes: count * MemoryLayout<Scalar>.stride)
        Self.copy(from: start, to: copy.raw.bindMemory(to: Scalar.self, capacity: count), count: count)
        block = copy
        offset = 0
    }

    /// A memcpy: scalars are trivial, and unspecialised generic code would otherwise copy them
    /// one at a time through value witnesses.
    @inline(__always)
    private static func copy(from source: UnsafePointer<Scalar>, to target: UnsafeMutablePointer<Scalar>, count: Int) {
        UnsafeMutableRawPointer(target).copyMemory(from: UnsafeRawPointer(source), byteCount: count * MemoryLayout<Scalar>.stride)
    }

    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Scalar>) throws -> R) rethrows -> R {
        try withExtendedLifetime(block) { try body(UnsafeBufferPointer(start: start, count: count)) }
    }

    public mutating func withUnsafeMutableBufferPointer<R>(_ body: (UnsafeMutableBufferPointer<Scalar>) throws -> R) rethrows -> R {
        makeUnique()
        return try withExtendedLifetime(block) { try body(UnsafeMutableBufferPointer(start: start, count: count)) }
    }

    /// The scalars as an array (a copy).
    public var array: [Scalar] {
        withUnsafeBufferPointer { source in
            [Scalar](unsafeUninitializedCapacity: count) { target, initialized in
                if let address = source.baseAddress, let destination = target.baseAddress { Self.copy(from: address, to: destination, count: count) }
                initialized = count
            }
        }
    }
}

extension TensorStorage: RandomAccessCollection, MutableCollection {
    public typealias Indices = Range<Int>
    public var startIndex: Int { 0 }
    public var endIndex: Int { count }
    // Index arithmetic spelled out: the defaults go through Strideable and metadata lookups in
    // code that is generic over the scalar type.
    public var indices: Range<Int> { 0..<count }
    public func index(after i: Int) -> Int { i + 1 }
    public func index(before i: Int) -> Int { i - 1 }
    public func formIndex(after i: inout Int) { i += 1 }
    public func formIndex(before i: inout Int) { i -= 1 }
    public func index(_ i: Int, offsetBy distance: Int) -> Int { i + distance }
    public func distance(from start: Int, to end: Int) -> Int { end - start }

    public subscript(position: Int) -> Scalar {
        get {
            precondition(position >= 0 && position < count, "index \(position) out of 0..<\(count)")
            return start[position]
        }
        set {
            precondition(position >= 0 && position < count, "index \(position) out of 0..<\(count)")
            makeUnique()
            start[position] = newValue
        }
    }

    public func withContiguousStorageIfAvailable<R>(_ body: (UnsafeBufferPointer<Scalar>) throws -> R) rethrows -> R? {
        try withUnsafeBufferPointer(body)
    }

    public mutating func withContiguousMutableStorageIfAvailable<R>(_ body: (inout UnsafeMutableBufferPointer<Scalar>) throws -> R) rethrows -> R? {
        try withUnsafeMutableBufferPointer { buffer in
            var buffer = buffer
            return try body(&buffer)
        }
    }
}

extension TensorStorage: Equatable {
    public static func == (lhs: TensorStorage, rhs: TensorStorage) -> Bool {
        guard lhs.count == rhs.count else { return false }
        if lhs.sharesBlock(with: rhs) { return true }
        return lhs.withUnsafeBufferPointer { a in rhs.withUnsafeBufferPointer { b in a.elementsEqual(b) } }
    }
}

extension TensorStorage: ExpressibleByArrayLiteral {
    public init(arrayLiteral elements: Scalar...) { self.init(elements) }
}

extension TensorStorage: CustomStringConvertible {
    public var description: String { array.description }
}
