#if canImport(Glibc)
import Glibc
#endif

/// The collective operations training needs from a group of cooperating processes (ranks),
/// with the bytes each call hands to the transport counted.
///
/// Every rank calls the same operations in the same order (the MPI rule). All operations are
/// *gathers*: every rank receives every rank's contribution, in rank order, and reduces it
/// itself in a fixed order, so a sum of Floats does not depend on how many ranks there are or
/// on the transport's reduction tree (an `MPI_Allreduce` would).
///
/// `LocalCommunicator` is the one-process group; the `Cluster` module supplies Open MPI's.
public protocol Communicator: AnyObject, Sendable {
    /// This process's index, 0 ..< size.
    var rank: Int { get }
    /// The number of ranks.
    var size: Int { get }
    /// Every rank's `values` (lengths may differ), indexed by rank.
    func allGather(_ values: [Float]) throws -> [[Float]]
    /// Every rank's `values` (lengths may differ), indexed by rank.
    func allGather(_ values: [Double]) throws -> [[Double]]
    /// Every rank's bytes (lengths may differ), indexed by rank.
    func allGather(bytes: [UInt8]) throws -> [[UInt8]]
    /// Waits until every rank has arrived.
    func barrier() throws
    /// Ends every rank of the group with `code` (after this rank has reported its error).
    func abort(code: Int32) -> Never
    /// Bytes handed to and received from the transport so far.
    var traffic: Traffic { get }
}

/// Bytes a rank passed to the transport (`sent`: its own send buffers) and received from other
/// ranks (`received`: the parts of receive buffers other ranks filled).
public struct Traffic: Codable, Equatable, Sendable {
    public var sent: Int
    public var received: Int
    public init(sent: Int = 0, received: Int = 0) {
        self.sent = sent
        self.received = received
    }

    public static func - (lhs: Traffic, rhs: Traffic) -> Traffic {
        Traffic(sent: lhs.sent - rhs.sent, received: lhs.received - rhs.received)
    }
}

/// The group of one process: gathers return the caller's own values, nothing is sent.
public final class LocalCommunicator: Communicator {
    public init() {}
    public var rank: Int { 0 }
    public var size: Int { 1 }
    public func allGather(_ values: [Float]) throws -> [[Float]] { [values] }
    public func allGather(_ values: [Double]) throws -> [[Double]] { [values] }
    public func allGather(bytes: [UInt8]) throws -> [[UInt8]] { [bytes] }
    public func barrier() throws {}
    public func abort(code: Int32) -> Never { exit(code) }
    public var traffic: Traffic { Traffic() }
}

/// A failure of the transport (a collective that returned an error code).
public struct CommunicationError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

extension Communicator {
    /// Whether this rank writes the shared outputs (rank 0).
    public var isLeader: Bool { rank == 0 }

    /// Stops every rank when any rank failed: each rank says whether `body` threw; if one did,
    /// every rank throws a `GroupFailure` naming the lowest failing rank and its message, so
    /// all ranks stop together instead of waiting for a partner that is gone. In a group of
    /// one, `body`'s own error is thrown unchanged.
    public func agree<R>(_ body: () throws -> R) throws -> R {
        guard size > 1 else { return try body() }
        var outcome: Result<R, any Error>
        do { outcome = .success(try body()) } catch { outcome = .failure(error) }
        var message: [UInt8] = []
        if case .failure(let error) = outcome { message = Array("\(error)".utf8) }
        if message.isEmpty, case .failure = outcome { message = Array("failed".utf8) }
        let all = try allGather(bytes: message)
        if let failing = all.indices.first(where: { !all[$0].isEmpty }) {
            var underlying: (any Error)? = nil
            if case .failure(let error) = outcome, failing == rank { underlying = error }
            throw GroupFailure(rank: failing, message: String(decoding: all[failing], as: UTF8.self), underlying: underlying)
        }
        return try outcome.get()
    }
}

/// A failure every rank of a group knows of (`Communicator.agree`): the lowest failing rank,
/// its message, and on that rank its own error.
public struct GroupFailure: Error, CustomStringConvertible, @unchecked Sendable {
    public let rank: Int
    public let message: String
    /// The error itself, on the rank that failed; nil on the others.
    public let underlying: (any Error)?
    public var description: String { "rank \(rank): \(message)" }
}
