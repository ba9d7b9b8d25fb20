import CLinearAlgebra
import Foundation
import Synchronization

/// How many cores the engine uses: BLAS threads for large products, and concurrent work
/// (the two directions of a bidirectional GRU) where the products are small.
public enum ComputeThreads {
    /// The user's setting (0 until `set` is called: all cores).
    private static let requested = Atomic<Int>(0)

    /// Sets the core count (BLAS threads and concurrent work; default: all cores).
    public static func set(_ count: Int) {
        requested.store(max(1, count), ordering: .relaxed)
        openblas_set_num_threads(Int32(max(1, count)))
    }

    /// Cores the engine may use.
    public static var cores: Int {
        let value = requested.load(ordering: .relaxed)
        return value > 0 ? value : ProcessInfo.processInfo.activeProcessorCount
    }

    /// BLAS threads in effect right now.
    public static var current: Int { Int(openblas_get_num_threads()) }

    /// Runs `body` with BLAS on one thread, then restores the previous count.
    ///
    /// A training step of the models here is hundreds of products of a few MFLOP each. Shared
    /// across threads, each one costs a synchronisation, and the idle BLAS thread keeps
    /// spinning on the core that concurrent work needs: on 2 cores a GRU-dynamics step took
    /// 12.8 ms with 2 BLAS threads and 10.5 ms with 1 (`fmridyn bench train --dynamics rnn`).
    public static func withSingleThreadedBLAS<R>(_ body: () throws -> R) rethrows -> R {
        let threads = current
        if threads > 1 { openblas_set_num_threads(1) }
        defer { if threads > 1 { openblas_set_num_threads(Int32(threads)) } }
        return try body()
    }
}
