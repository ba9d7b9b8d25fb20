#if canImport(Glibc)
import Glibc
#endif

/// Page-fault cost of big outputs.
///
/// Reading a 1 GB run into a fresh array touches 250,000 4 KiB pages; on Linux the faults cost
/// more system time than inflating the data. Asking for transparent huge pages on the buffer
/// (where the kernel allows it: `madvise` mode) cuts the faults 512-fold.
enum LargeBuffers {
    static let hugePageSize = 2 << 20

    /// Advises the kernel to back the 2 MiB-aligned interior of `buffer` with huge pages.
    /// A hint only: harmless where unsupported, and skipped for buffers under 8 MiB.
    static func adviseHugePages(_ buffer: UnsafeMutableRawBufferPointer) {
        #if os(Linux)
        guard let base = buffer.baseAddress, buffer.count >= 4 * hugePageSize else { return }
        let start = (Int(bitPattern: base) + hugePageSize - 1) & ~(hugePageSize - 1)
        let end = (Int(bitPattern: base) + buffer.count) & ~(hugePageSize - 1)
        guard end > start, let aligned = UnsafeMutableRawPointer(bitPattern: start) else { return }
        _ = madvise(aligned, end - start, MADV_HUGEPAGE)
        #endif
    }
}
