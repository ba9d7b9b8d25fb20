import ArgumentParser
import Benchmarks
import Foundation
import Pipeline

/// Options shared by the core benchmarks.
struct BenchRunOptions: ParsableArguments {
    @Option(help: "BLAS threads (default: all cores).")
    var threads: Int?

    @Option(help: "Timed repetitions (the median is reported).")
    var repeats = 20

    @Option(help: "Untimed warm-up repetitions (at least 0.5 s of them, whichever is longer).")
    var warmup = 3

    @Flag(help: "Print JSON.")
    var json = false

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1.") }
        if repeats < 1 { throw ValidationError("--repeats must be at least 1.") }
    }

    var timing: Timing { Timing(threads: threads, repeats: repeats, warmup: warmup) }

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
        let (seconds, gflops) = KernelBenchmarks.gemm(size: size, timing: timing.timing)
        timing.report([("size", .integer(size)), ("seconds", .number(seconds)), ("gflops", .number(gflops)),
                    ("threads", .integer(ComputeSettings.threads)), ("blas_kernels", .string(ComputeSettings.blasKernels))],
                   text: String(format: "gemm %d: %.3f ms, %.1f GFLOP/s (%d threads, %@ kernels)", size, seconds * 1e3, gflops,
                                ComputeSettings.threads, ComputeSettings.blasKernels))
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
        let (seconds, overhead) = KernelBenchmarks.gru(batch: batch, time: time, input: input, hidden: hidden, bidirectional: bidirectional,
                                                       timing: timing.timing)
        timing.report([("ms_per_step", .number(seconds * 1e3)), ("op_overhead_us", .number(overhead * 1e6)),
                    ("threads", .integer(ComputeSettings.threads))],
                   text: String(format: "gru B%d T%d I%d H%d: %.2f ms per forward+backward; %.2f us per recorded op (forward + backward)",
                                batch, time, input, hidden, seconds * 1e3, overhead * 1e6))
    }
}
