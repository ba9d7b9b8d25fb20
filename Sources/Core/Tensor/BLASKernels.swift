import CLinearAlgebra
import Foundation

// OpenBLAS's dynamic-architecture entry points (exported by its DYNAMIC_ARCH builds, such as
// Debian's, but not declared in cblas.h).
@_silgen_name("gotoblas_dynamic_init")
private func gotoblasDynamicInit()
@_silgen_name("gotoblas_dynamic_quit")
private func gotoblasDynamicQuit()

/// Which of OpenBLAS's kernel sets runs the products.
///
/// OpenBLAS 0.3.21 (Debian 12) runs AMD Zen 4 processors with its Haswell (AVX2) kernels, although
/// they execute AVX-512; later OpenBLAS releases pick the AVX-512 (SkylakeX) kernels for them.
/// On this project's AMD EPYC machines that choice is worth 1.8x: single-threaded SGEMM 1024 ran
/// at 125 GFLOP/s with Haswell kernels and 230 GFLOP/s with SkylakeX ones. (Their environment
/// pins `OPENBLAS_CORETYPE=Haswell`, which this respects, so the switch does not happen there.)
public enum BLASKernels {
    /// The kernel set in use ("Haswell", "SkylakeX", ...).
    public static var current: String {
        guard let name = openblas_get_corename() else { return "unknown" }
        return String(cString: name).trimmingCharacters(in: .whitespaces)
    }

    /// Switches OpenBLAS to its AVX-512 (SkylakeX) kernels when it chose AVX2 ones for a processor
    /// that has AVX-512 F, BW, DQ and VL, unless `OPENBLAS_CORETYPE` is set (the user's choice
    /// wins). Call once at start-up, before any product. A 67 x 45 x 33 product is checked
    /// against a plain loop afterwards; on any mismatch the previous kernels come back.
    /// - Returns: the kernel set in use afterwards.
    @discardableResult
    public static func preferAVX512() -> String {
        let before = current
        guard ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] == nil,
              ["haswell", "zen"].contains(before.lowercased()), hasAVX512 else { return before }
        // OpenBLAS may pick a newer AVX-512 set for "SKYLAKEX" (Cooperlake with bf16).
        switchTo("SKYLAKEX")
        if !productsAreRight() { switchTo(before.uppercased()) }
        unsetenv("OPENBLAS_CORETYPE")
        return current
    }

    private static func switchTo(_ name: String) {
        setenv("OPENBLAS_CORETYPE", name, 1)
        gotoblasDynamicQuit()
        gotoblasDynamicInit()
    }

    /// Whether the processor and the kernel (as /proc/cpuinfo reports) support AVX-512 F/BW/DQ/VL.
    static var hasAVX512: Bool {
        // Read line by line: procfs files report a size of zero, so whole-file reads see nothing.
        guard let file = fopen("/proc/cpuinfo", "r") else { return false }
        defer { fclose(file) }
        var line: UnsafeMutablePointer<CChar>? = nil
        var capacity = 0
        defer { free(line) }
        while getline(&line, &capacity, file) > 0 {
            guard let line, strncmp(line, "flags", 5) == 0 else { continue }
            let present = Set(String(cString: line).split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).map(String.init))
            return ["avx512f", "avx512bw", "avx512dq", "avx512vl"].allSatisfy(present.contains)
        }
        return false
    }

    /// A single- and a double-precision product against plain loops.
    static func productsAreRight() -> Bool {
        let (m, n, k) = (67, 45, 33)
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> Double {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Double(state >> 11) / Double(1 << 53) - 0.5
        }
        let a = (0..<(m * k)).map { _ in next() }, b = (0..<(k * n)).map { _ in next() }
        var reference = [Double](repeating: 0, count: m * n)
        for i in 0..<m { for j in 0..<n { for p in 0..<k { reference[i * n + j] += a[i * k + p] * b[p * n + j] } } }
        var double = [Double](repeating: 0, count: m * n)
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(n), Int32(k), 1, a, Int32(k), b, Int32(n), 0, &double, Int32(n))
        let (af, bf) = (a.map(Float.init), b.map(Float.init))
        var single = [Float](repeating: 0, count: m * n)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(n), Int32(k), 1, af, Int32(k), bf, Int32(n), 0, &single, Int32(n))
        for index in 0..<(m * n) {
            guard abs(double[index] - reference[index]) < 1e-12, abs(Double(single[index]) - reference[index]) < 1e-4 else { return false }
        }
        return true
    }
}
