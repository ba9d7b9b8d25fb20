import Core
import Foundation

/// How the process was started: alone, or as one rank of an MPI job.
public enum Launcher {
    /// Environment variables that `mpirun` (Open MPI), PMIx and PMI-based launchers (`srun
    /// --mpi=pmix`, `srun --mpi=pmi2`) set in every rank they start.
    public static let rankVariables = ["OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE"]

    /// Whether a launcher started this process (one of `rankVariables` is set).
    public static var startedByLauncher: Bool {
        let environment = ProcessInfo.processInfo.environment
        return rankVariables.contains { environment[$0] != nil }
    }

    /// The group to train with: Open MPI's world when a launcher started the process (or
    /// `force`), else the one-process group, in which nothing touches MPI.
    public static func communicator(force: Bool = false) throws -> any Communicator {
        guard force || startedByLauncher else { return LocalCommunicator() }
        return try MPICommunicator.world()
    }
}
