import Synchronization

/// SVAE parameter lists by architecture (the configuration, the scalar type and which optional
/// sub-networks exist), shared by every thread.
final class ParameterListCache: Sendable {
    struct Shape: Equatable, Sendable {
        let configuration: SVAEConfiguration
        let scalar: ObjectIdentifier
        let hasInputMap: Bool, hasNode: Bool, hasRNN: Bool, hasLinearDecoder: Bool, hasNetworkDecoder: Bool
    }

    /// Names and key paths are immutable values; the box only carries them across the lock.
    struct Entry: @unchecked Sendable {
        let shape: Shape
        let list: Any
    }

    static let shared = ParameterListCache()

    /// A handful of architectures per process at most: a list searched in order.
    private let entries = Mutex<[Entry]>([])

    func lookup(_ shape: Shape) -> Any? {
        entries.withLock { (all: inout [Entry]) -> Any? in
            for entry in all where entry.shape == shape { return entry.list }
            return nil
        }
    }

    func store(_ list: Any, for shape: Shape) {
        let entry = Entry(shape: shape, list: list)
        entries.withLock { (all: inout [Entry]) in
            if !all.contains(where: { $0.shape == shape }) { all.append(entry) }
        }
    }
}
