extension Module {
    /// Every parameter's scalars, one after another in `parameters` order (what a transport
    /// sends).
    public var flattenedParameters: [Scalar] {
        var flat: [Scalar] = []
        flat.reserveCapacity(parameterCount)
        for (_, path) in parameters { self[keyPath: path].scalars.withUnsafeBufferPointer { flat.append(contentsOf: $0) } }
        return flat
    }

    /// Sets every parameter from `flat` (as `flattenedParameters` lays them out).
    ///
    /// - Precondition: `flat.count == parameterCount`.
    public mutating func loadFlattenedParameters(_ flat: ArraySlice<Scalar>) {
        precondition(flat.count == parameterCount, "\(flat.count) scalars for \(parameterCount) parameters")
        var offset = flat.startIndex
        for (_, path) in parameters {
            let shape = self[keyPath: path].shape
            let count = shape.reduce(1, *)
            self[keyPath: path] = Tensor(shape: shape, scalars: Array(flat[offset..<(offset + count)]))
            offset += count
        }
    }
}
