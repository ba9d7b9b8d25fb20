import Analysis
import ArgumentParser
import Core
import Dynamics
import Foundation
import Model
import Pipeline
import Preprocessing

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
        var x: [[Double]] = [], labels: [String] = [], groupLabels: [String] = []
        if let data {
            let table = try DelimitedTable(contentsOf: data, delimiter: ",")
            labels = try table.column("label")
            groupLabels = try table.column("group")
            let columns = try table.header.filter { $0.hasPrefix("f") }.map { try table.numericColumn($0, allowMissing: false) }
            x = (0..<labels.count).map { row in columns.map { $0[row] } }
        } else {
            var random = RandomSource(seed: 5)
            let means = (0..<classes).map { _ in (0..<features).map { _ in random.normal() } }
            for i in 0..<samples {
                let label = i % classes  // every group holds every class
                x.append(means[label].map { $0 + random.normal() })
                labels.append("c\(label)")
                groupLabels.append("g\((i / classes) % groups)")
            }
        }
        var times: [Double] = []
        var accuracy = 0.0
        for _ in 0..<repeats {
            let start = DispatchTime.now().uptimeNanoseconds
            let result = Decoding.crossValidate(features: x, labels: labels, groups: groupLabels, folds: folds)
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
            accuracy = result.mean
        }
        let median = times.sorted()[times.count / 2]
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
        if let threads { ComputeThreads.set(threads) }
        // f(z) = -z + W3 tanh(W2 tanh(W1 z + b1) + b2) + b3 with Gaussian weights of gain 1.5:
        // the shape of the SVAE's NODE field (latent -> hidden -> hidden -> latent, tanh), with
        // weights strong enough for several fixed points (a freshly initialised SVAE field has a
        // zero last layer, so every start would already be a fixed point).
        var weights = RandomSource(seed: seed &+ 100)
        let widths = [latent, hidden, hidden, latent]
        let layers = (0..<3).map { index -> Linear<Double> in
            let fanIn = widths[index], fanOut = widths[index + 1]
            let scale = 1.5 / Double(fanIn).squareRoot()
            return Linear<Double>(weight: Tensor(shape: [fanOut, fanIn], scalars: (0..<(fanIn * fanOut)).map { _ in scale * weights.normal() }),
                                  bias: Tensor(shape: [fanOut], scalars: (0..<fanOut).map { _ in 0.1 * weights.normal() }))
        }
        let network = MLP(layers: layers, activation: .tanh)
        let function: (Tensor<Double>) -> Tensor<Double> = { z in network(z) - z }
        let system = FixedPointFinder.System.flow
        var random = RandomSource(seed: seed)
        let initial = (0..<starts).map { _ in (0..<latent).map { _ in random.normal() } }
        let start = DispatchTime.now().uptimeNanoseconds
        let (fixed, slow) = FixedPointFinder.find(function, system: system, starts: initial)
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        if json {
            print(JSONValue.object([("seconds", .number(seconds)), ("fixed_points", .integer(fixed.count)), ("slow_points", .integer(slow.count)),
                                    ("starts", .integer(starts))]).rendered(indent: nil))
        } else {
            print(String(format: "%d starts, latent %d, hidden %d: %.2f s, %d fixed and %d slow points", starts, latent, hidden, seconds, fixed.count, slow.count))
        }
    }
}
