import CLinearAlgebra

/// BLAS threading (OpenBLAS): how many cores GEMMs use.
public enum ComputeThreads {
    /// Sets the BLAS thread count (default: all cores).
    public static func set(_ count: Int) { openblas_set_num_threads(Int32(max(1, count))) }
    public static var current: Int { Int(openblas_get_num_threads()) }
}
