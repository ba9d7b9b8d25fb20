import Core

/// What a process running the pipeline sets once, before any work.
public enum ProcessSetup {
    /// Keeps large freed buffers in the allocator (glibc would return them to the kernel and
    /// fault them in again every step) and selects OpenBLAS's AVX-512 kernels where the CPU
    /// has them (docs/core.md).
    public static func prepare() {
        AllocatorTuning.keepLargeBuffers()
        BLASKernels.preferAVX512()
    }
}
