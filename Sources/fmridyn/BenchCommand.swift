import ArgumentParser
import Foundation
import NIfTI
import Pipeline

/// `fmridyn bench ...`: speed measurements that `bench/` scripts compare with peer tools.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure fmridyn's speed (bench/ compares it with the reference tools).",
        discussion: """
            Each subcommand times one part; the scripts in bench/ run them side by side with \
            nibabel, PyTorch, scikit-learn or nilearn and report the ratios. `bench recovery` \
            scores the fitted dynamics against the simulator's truth (docs/recovery.md).

            Examples:
              fmridyn bench read run.nii.gz --json
              fmridyn bench train --json
              fmridyn bench recovery --quick --out recovery
            """,
        subcommands: [BenchRead.self, BenchGEMM.self, BenchGRU.self, BenchODE.self, BenchTrain.self, BenchDecode.self, BenchFixedPoints.self, BenchRecovery.self, BenchFieldOracle.self]
    )
}

/// Reads a whole image into Float32, as nibabel's `np.asarray(img.dataobj)` does.
struct BenchRead: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "read",
        abstract: "Time reading a NIfTI image fully into Float32.",
        discussion: """
            Prints the best wall time over --repeat reads. bench/nifti_read.py runs this \
            side by side with nibabel on an HCP-size run and reports the ratio.

            Example:
              fmridyn bench read run.nii.gz --repeat 3 --json
            """
    )

    @Argument(help: "The NIfTI image to read.")
    var file: String

    @Option(help: "How many times to read; the best time is reported.")
    var repeats = 3

    @Option(help: "Inflate library for .gz files: isal or zlib.")
    var inflate: String = "isal"

    @Flag(help: "Print JSON.")
    var json = false

    func validate() throws {
        guard repeats >= 1 else { throw ValidationError("--repeats must be at least 1.") }
        guard InflateBackend(rawValue: inflate) != nil else {
            throw ValidationError("--inflate must be one of: \(InflateBackend.allCases.map(\.rawValue).joined(separator: ", ")).")
        }
    }

    func run() throws {
        let backend = InflateBackend(rawValue: inflate) ?? .isal
        let image = try NIfTIImage(contentsOf: file, inflateBackend: backend)
        var best = Double.infinity
        var checksum = 0.0
        for _ in 0..<repeats {
            let start = DispatchTime.now().uptimeNanoseconds
            let values: [Float] = try image.readAll()
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            best = min(best, seconds)
            checksum = Double(values[values.count / 2])
        }
        let bytes = Double(image.header.voxelCount * 4)
        if json {
            print(JSONValue.object([
                ("seconds", .number(best)), ("voxels", .integer(image.header.voxelCount)),
                ("gb_per_s", .number(bytes / best / 1e9)), ("inflate", .string(backend.rawValue)),
                ("compressed", .bool(image.isCompressed)), ("middle_value", .number(checksum)),
            ]).rendered(indent: nil))
        } else {
            print(String(format: "%@: %.3f s (%.2f GB/s of float32), %@", file, best, bytes / best / 1e9,
                         image.isCompressed ? "inflated by \(backend.rawValue)" : "uncompressed"))
        }
    }
}
