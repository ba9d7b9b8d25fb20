import Core

extension SVAE {
    /// The same model with every parameter in another scalar type (same configuration, so the
    /// parameter lists match name for name).
    public func converted<Other: TensorScalar>(to: Other.Type = Other.self) -> SVAE<Other> {
        var other = SVAE<Other>(configuration: configuration)
        for ((name, path), (otherName, otherPath)) in zip(parameters, other.parameters) {
            precondition(name == otherName, "parameter lists of one configuration differ: \(name) against \(otherName)")
            other[keyPath: otherPath] = self[keyPath: path].converted(to: Other.self)
        }
        return other
    }
}
