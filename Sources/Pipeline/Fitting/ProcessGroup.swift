import Cluster
import Core

/// The processes a fit runs on: Open MPI's world when a launcher (mpirun, srun) started this
/// process or when asked, else this process alone, in which nothing touches MPI.
public struct ProcessGroup: @unchecked Sendable {
    let communicator: any Communicator

    /// The launcher's group (or MPI's world with `force`), else the one-process group.
    public static func detect(force: Bool = false) throws -> ProcessGroup {
        ProcessGroup(communicator: try Launcher.communicator(force: force))
    }

    public var size: Int { communicator.size }
    public var rank: Int { communicator.rank }
    /// Rank 0: the one that writes outputs and prints.
    public var isLeader: Bool { communicator.isLeader }
    /// One process and no MPI: a fit can take the plain path.
    public var isSingleProcess: Bool { communicator.size == 1 && !usesMPI }
    var usesMPI: Bool { communicator is MPICommunicator }

    /// Ends MPI (nothing for the one-process group); the last call of an MPI process.
    func finish() { if usesMPI { MPICommunicator.finalize() } }
}
