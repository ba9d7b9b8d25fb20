import ArgumentParser
import Core
import Foundation
import Pipeline

/// Options shared by the core benchmarks.
struct BenchRunOptions: ParsableArguments {
    @Option(help: "BLAS threads (default: all cores).")
    var threads: Int?

    @Option(help: "Timed repetitions (the median is reported).")
    var repeats = 20

    // OpenBLAS's idle worker thread can spin on the core that concurrent work needs, most often
    // in a process's first half second: the bidirectional GRU measured 5.6-5.9 ms after 3
    // warm-up calls and 4.2-4.3 ms after 100. Warming up for 0.5 s makes that rarer (one run in
    // three still gave 5.9 ms), not impossible.
    @Option(help: "Untimed warm-up repetitions (at least 0.5 s of them, whichever is longer).")
    var warmup = 3

    @Flag(help: "Print JSON.")
    var json = false

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1.") }
        if repeats < 1 { throw ValidationError("--repeats must be at least 1.") }
    }

    /// Median wall time of `body` in seconds.
    func measure(_ body: () -> Void) -> Double {
        if let threads { ComputeThreads.set(threads) }
        let warmupStart = DispatchTime.now().uptimeNanoseconds
        var done = 0
        while done < warmup || DispatchTime.now().uptimeNanoseconds - warmupStart < 500_000_000 {
            body()
            done += 1
        }
        var times: [Double] = []
        for _ in 0..<repeats {
            let start = DispatchTime.now().uptimeNanoseconds
            body()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        return times.sorted()[times.count / 2]
    }

    func report(_ members: [(String, JSONValue)], text: String) {
        print(json ? JSONValue.object(members).rendered(indent: nil) : text)
    }
}

/// `fmridyn bench gemm`: GFLOP/s of the engine's matrix product.
struct BenchGEMM: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gemm",
        abstract: "Time a square single-precision matrix product through the tensor engine.",
        discussion: "Example: fmridyn bench gemm --size 1024 --json"
    )

    @Option(help: "Matrix size N (N x N times N x N).")
    var size = 1024

    @OptionGroup var timing: BenchRunOptions

    func run() throws {
        var random = RandomSource(seed: 1)
        let a = Tensor<Float>(shape: [size, size], scalars: (0..<(size * size)).map { _ in Float(random.uniform(-1, 1)) })
        let b = Tensor<Float>(shape: [size, size], scalars: (0..<(size * size)).map { _ in Float(random.uniform(-1, 1)) })
        var checksum: Float = 0
        let seconds = timing.measure { checksum += a.matmul(b).scalars[0] }
        let gflops = 2 * Double(size) * Double(size) * Double(size) / seconds / 1e9
        timing.report([("size", .integer(size)), ("seconds", .number(seconds)), ("gflops", .number(gflops)),
                    ("threads", .integer(ComputeThreads.current)), ("blas_kernels", .string(BLASKernels.current))],
                   text: String(format: "gemm %d: %.3f ms, %.1f GFLOP/s (%d threads, %@ kernels)", size, seconds * 1e3, gflops,
                                ComputeThreads.current, BLASKernels.current))
        _ = checksum
    }
}

/// `fmridyn bench gru`: forward plus backward of a GRU over a sequence.
struct BenchGRU: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gru",
        abstract: "Time forward + backward of a unidirectional GRU (loss = sum of outputs).",
        discussion: "Example: fmridyn bench gru --batch 32 --time 32 --input 400 --hidden 64 --json"
    )

    @Option var batch = 32
    @Option var time = 32
    @Option var input = 400
    @Option var hidden = 64
    @Flag(help: "Time the bidirectional GRU (both directions concurrently) instead.")
    var bidirectional = false
    @OptionGroup var timing: BenchRunOptions

    func run() throws {
        var random = RandomSource(seed: 2)
        let gru = GRU<Float>(inputSize: input, hiddenSize: hidden, random: &random)
        let both = BidirectionalGRU<Float>(inputSize: input, hiddenSize: hidden, random: &random)
        let x = Tensor<Float>(shape: [batch, time, input], scalars: (0..<(batch * time * input)).map { _ in Float(random.normal()) })
        var checksum: Float = 0
        // The bidirectional GRU is timed as training runs it: one BLAS thread for the whole
        // loop, the two directions on the two cores.
        let seconds = bidirectional
            ? ComputeThreads.withSingleThreadedBLAS {
                timing.measure {
                    let (value, gradient) = valueAndGradient(of: both) { $0(x).sum() }
                    checksum += value + gradient.forward.weightHH.scalars[0]
                }
            }
            : timing.measure {
                let (value, gradient) = valueAndGradient(of: gru) { $0(x).sum() }
                checksum += value + gradient.weightHH.scalars[0]
            }
        // Bookkeeping overhead per recorded operation: a tiny op, timed in bulk.
        let small = Tensor<Float>(shape: [1], scalars: [1])
        let overhead = timing.measure {
            _ = valueAndGradient(at: small) { value in
                var y = value
                for _ in 0..<1000 { y = y * Float(1.0001) }
                return y.sum()
            }
        } / 1001
        timing.report([("ms_per_step", .number(seconds * 1e3)), ("op_overhead_us", .number(overhead * 1e6)),
                    ("threads", .integer(ComputeThreads.current))],
                   text: String(format: "gru B%d T%d I%d H%d: %.2f ms per forward+backward; %.2f us per recorded op (forward + backward)",
                                batch, time, input, hidden, seconds * 1e3, overhead * 1e6))
        _ = checksum
    }
}
