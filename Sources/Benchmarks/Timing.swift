import Core
import Foundation

/// How a kernel benchmark is timed: untimed warm-up, then the median of timed repetitions.
public struct Timing: Sendable {
    /// BLAS threads (nil: leave the process's setting).
    public var threads: Int?
    /// Timed repetitions; the median is reported.
    public var repeats: Int
    /// Untimed warm-up repetitions (at least 0.5 s of them, whichever is longer).
    public var warmup: Int

    public init(threads: Int? = nil, repeats: Int = 20, warmup: Int = 3) {
        self.threads = threads
        self.repeats = repeats
        self.warmup = warmup
    }

    /// Median wall time of `body` in seconds.
    // OpenBLAS's idle worker thread can spin on the core that concurrent work needs, most often
    // in a process's first half second: the bidirectional GRU measured 5.6-5.9 ms after 3
    // warm-up calls and 4.2-4.3 ms after 100. Warming up for 0.5 s makes that rarer (one run in
    // three still gave 5.9 ms), not impossible.
    public func median(_ body: () throws -> Void) rethrows -> Double {
        if let threads { ComputeThreads.set(threads) }
        let warmupStart = DispatchTime.now().uptimeNanoseconds
        var done = 0
        while done < warmup || DispatchTime.now().uptimeNanoseconds - warmupStart < 500_000_000 {
            try body()
            done += 1
        }
        var times: [Double] = []
        for _ in 0..<max(repeats, 1) {
            let start = DispatchTime.now().uptimeNanoseconds
            try body()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        return times.sorted()[times.count / 2]
    }
}

/// The compute settings a benchmark ran with, for its report.
public enum ComputeSettings {
    /// BLAS threads in use.
    public static var threads: Int { ComputeThreads.current }
    /// The OpenBLAS kernel family in use (e.g. "SkylakeX").
    public static var blasKernels: String { BLASKernels.current }
    /// Sets the BLAS thread count.
    public static func setThreads(_ count: Int) { ComputeThreads.set(count) }
}

/// A benchmark's input that cannot be used (a weights file without the needed tensor).
public struct BenchmarkInputError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
