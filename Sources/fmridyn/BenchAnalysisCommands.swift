import ArgumentParser
import Benchmarks
import Foundation
import Pipeline

/// `fmridyn bench decode`: cross-validated logistic-regression decoding.
struct BenchDecode: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decode",
        abstract: "Time GroupKFold logistic-regression decoding (fit + predict over all folds).",
        discussion: """
            Synthetic data (class means plus unit Gaussian noise, --groups groups) unless --data \
            names a CSV with columns label,group,f1..fK. Prints the median over --repeats. \
            bench/analysis_bench.py runs it side by side with scikit-learn on the same CSV.

            Example:
              fmridyn bench decode --samples 10000 --features 8 --classes 5 --folds 5 --json
            """
    )

    @Option var samples = 10_000
    @Option var features = 8
    @Option var classes = 5
    @Option var folds = 5
    @Option var groups = 10
    @Option(help: "CSV with label,group,f1..fK (overrides the synthetic data).")
    var data: String?
    @Option var repeats = 5
    @Flag var json = false

    func validate() throws {
        guard samples >= 10, features >= 1, classes >= 2, folds >= 2, groups >= folds, repeats >= 1 else {
            throw ValidationError("need --samples >= 10, --features >= 1, --classes >= 2, --folds >= 2, --groups >= --folds, --repeats >= 1.")
        }
    }

    func run() throws {
        let samples = try data.map { try AnalysisBenchmarks.DecodingData.read(csv: $0) }
            ?? .synthetic(samples: self.samples, features: features, classes: classes, groups: groups)
        let x = samples.features
        let (median, accuracy) = AnalysisBenchmarks.decoding(samples, folds: folds, repeats: repeats)
        if json {
            print(JSONValue.object([("seconds", .number(median)), ("balanced_accuracy", .number(accuracy)),
                                    ("samples", .integer(x.count)), ("features", .integer(x.first?.count ?? 0))]).rendered(indent: nil))
        } else {
            print(String(format: "decoding %d x %d, %d folds: %.1f ms (balanced accuracy %.3f)", x.count, x.first?.count ?? 0, folds, median * 1e3, accuracy))
        }
    }
}

/// `fmridyn bench fixed-points`: the fixed-point search on a random NODE vector field.
struct BenchFixedPoints: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fixed-points",
        abstract: "Time the fixed-point search (Adam on q, Newton polishing, eigenvalues) of a random NODE field.",
        discussion: """
            The field has the SVAE's NODE shape (latent -> hidden -> hidden -> latent, tanh) with \
            Gaussian weights of gain 1.5 and a -z leak, so it has several fixed points; starts are \
            standard normal. Prints the wall time of one search with the default options.

            Example:
              fmridyn bench fixed-points --starts 1024 --latent 8 --hidden 64 --json
            """
    )

    @Option var starts = 1024
    @Option var latent = 8
    @Option var hidden = 64
    @Option var seed: UInt64 = 1
    @Option var threads: Int?
    @Flag var json = false

    func run() throws {
        if let threads { ComputeSettings.setThreads(threads) }
        let (seconds, fixed, slow) = AnalysisBenchmarks.fixedPoints(starts: starts, latent: latent, hidden: hidden, seed: seed)
        if json {
            print(JSONValue.object([("seconds", .number(seconds)), ("fixed_points", .integer(fixed)), ("slow_points", .integer(slow)),
                                    ("starts", .integer(starts))]).rendered(indent: nil))
        } else {
            print(String(format: "%d starts, latent %d, hidden %d: %.2f s, %d fixed and %d slow points", starts, latent, hidden, seconds, fixed, slow))
        }
    }
}
