import CMPI
import Core
import Foundation
import Synchronization

/// Open MPI's `MPI_COMM_WORLD` as a `Communicator`.
///
/// Variable-length gathers are two calls: `MPI_Allgather` of the counts, then
/// `MPI_Allgatherv` of the values. Every call is made from the thread that initialised MPI
/// (`MPI_THREAD_FUNNELED`); training's worker threads never touch MPI.
public final class MPICommunicator: Communicator {
    public let rank: Int
    public let size: Int
    private let counters = Mutex(Traffic())

    private init(rank: Int, size: Int) {
        self.rank = rank
        self.size = size
    }

    /// The one communicator of the process (MPI can be initialised once).
    private static let shared = Mutex<MPICommunicator?>(nil)

    /// Initialises MPI (once per process) and returns the world communicator.
    public static func world() throws -> MPICommunicator {
        try shared.withLock { current in
            if let current { return current }
            var provided: Int32 = 0
            var argc: Int32 = 0
            var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = nil
            let status = MPI_Init_thread(&argc, &argv, Int32(MPI_THREAD_FUNNELED), &provided)
            guard status == MPI_SUCCESS else { throw CommunicationError("MPI_Init_thread failed (error \(status)); check the Open MPI installation (mpirun --version)") }
            var rank: Int32 = 0, size: Int32 = 0
            MPI_Comm_rank(fmridyn_mpi_comm_world(), &rank)
            MPI_Comm_size(fmridyn_mpi_comm_world(), &size)
            let world = MPICommunicator(rank: Int(rank), size: Int(size))
            current = world
            return world
        }
    }

    /// Ends MPI cleanly (every rank must call it; after it no communication is possible).
    /// Calling it again, or without MPI started, does nothing.
    public static func finalize() {
        shared.withLock { current in
            var finalized: Int32 = 0
            MPI_Finalized(&finalized)
            guard current != nil, finalized == 0 else { return }
            MPI_Finalize()
        }
    }

    public var traffic: Traffic { counters.withLock { $0 } }

    private func check(_ status: Int32, _ call: String) throws {
        guard status == MPI_SUCCESS else { throw CommunicationError("\(call) failed on rank \(rank) (MPI error \(status))") }
    }

    /// Every rank's element count.
    private func counts(_ count: Int) throws -> [Int32] {
        var mine = Int32(count)
        var all = [Int32](repeating: 0, count: size)
        try check(all.withUnsafeMutableBufferPointer { MPI_Allgather(&mine, 1, fmridyn_mpi_int(), $0.baseAddress, 1, fmridyn_mpi_int(), fmridyn_mpi_comm_world()) },
                  "MPI_Allgather")
        counters.withLock { $0.sent += 4; $0.received += 4 * (size - 1) }
        return all
    }

    private func gather<Element: BitwiseCopyable>(_ values: [Element], type: MPI_Datatype, zero: Element) throws -> [[Element]] {
        let all = try counts(values.count)
        var displacements = [Int32](repeating: 0, count: size)
        for index in 1..<max(1, size) { displacements[index] = displacements[index - 1] + all[index - 1] }
        let total = Int(all.reduce(0, +))
        var received = [Element](repeating: zero, count: total)
        let status = values.withUnsafeBufferPointer { send in
            received.withUnsafeMutableBufferPointer { target in
                all.withUnsafeBufferPointer { countsPointer in
                    displacements.withUnsafeBufferPointer { displacementsPointer in
                        MPI_Allgatherv(send.baseAddress, Int32(values.count), type, target.baseAddress, countsPointer.baseAddress,
                                       displacementsPointer.baseAddress, type, fmridyn_mpi_comm_world())
                    }
                }
            }
        }
        try check(status, "MPI_Allgatherv")
        let width = MemoryLayout<Element>.size
        counters.withLock { $0.sent += values.count * width; $0.received += (total - values.count) * width }
        return (0..<size).map { Array(received[Int(displacements[$0])..<Int(displacements[$0] + all[$0])]) }
    }

    public func allGather(_ values: [Float]) throws -> [[Float]] { try gather(values, type: fmridyn_mpi_float(), zero: 0) }
    public func allGather(_ values: [Double]) throws -> [[Double]] { try gather(values, type: fmridyn_mpi_double(), zero: 0) }
    public func allGather(bytes: [UInt8]) throws -> [[UInt8]] { try gather(bytes, type: fmridyn_mpi_byte(), zero: 0) }

    public func barrier() throws { try check(MPI_Barrier(fmridyn_mpi_comm_world()), "MPI_Barrier") }

    public func abort(code: Int32) -> Never {
        MPI_Abort(fmridyn_mpi_comm_world(), code)
        exit(code)
    }
}
