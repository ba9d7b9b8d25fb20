#if os(Linux)
/// glibc's mallopt (malloc.h is not part of Swift's Glibc module).
@_silgen_name("mallopt")
private func glibcMallopt(_ parameter: Int32, _ value: Int32) -> Int32
#endif

/// Process-wide allocator settings for training loops.
///
/// A training step allocates the same large buffers every time (gate activations, gradients).
/// glibc serves blocks over 128 KiB with mmap and returns them with munmap, so every step
/// faults its pages in again (on this machine that cost a GRU step a quarter of its time).
/// Raising the mmap and trim thresholds keeps freed blocks in the heap for reuse.
public enum AllocatorTuning {
    /// Call once at start-up (the `fmridyn` executable does).
    public static func keepLargeBuffers() {
        #if os(Linux)
        // M_MMAP_THRESHOLD = -3, M_TRIM_THRESHOLD = -1, M_TOP_PAD = -2 (glibc malloc.h).
        _ = glibcMallopt(-3, 256 << 20)
        _ = glibcMallopt(-1, 512 << 20)
        _ = glibcMallopt(-2, 64 << 20)
        #endif
    }
}
