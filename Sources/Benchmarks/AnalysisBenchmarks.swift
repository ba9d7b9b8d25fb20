import Analysis
import Core
import Dynamics
import Foundation
import Preprocessing

/// Timings of the analysis stages that bench/analysis_bench.py runs side by side with
/// scikit-learn and FixedPointFinder.
public enum AnalysisBenchmarks {
    /// Samples for the decoding benchmark: rows of features, labels, groups.
    public struct DecodingData: Sendable {
        public var features: [[Double]]
        public var labels: [String]
        public var groups: [String]

        /// Class means (standard normal) plus unit Gaussian noise; every group holds every class.
        public static func synthetic(samples: Int, features: Int, classes: Int, groups: Int) -> DecodingData {
            var random = RandomSource(seed: 5)
            let means = (0..<classes).map { _ in (0..<features).map { _ in random.normal() } }
            var data = DecodingData(features: [], labels: [], groups: [])
            for i in 0..<samples {
                let label = i % classes
                data.features.append(means[label].map { $0 + random.normal() })
                data.labels.append("c\(label)")
                data.groups.append("g\((i / classes) % groups)")
            }
            return data
        }

        /// A CSV with columns label, group, f1..fK.
        public static func read(csv path: String) throws -> DecodingData {
            let table = try DelimitedTable(contentsOf: path, delimiter: ",")
            let labels = try table.column("label"), groups = try table.column("group")
            let columns = try table.header.filter { $0.hasPrefix("f") }.map { try table.numericColumn($0, allowMissing: false) }
            return DecodingData(features: (0..<labels.count).map { row in columns.map { $0[row] } }, labels: labels, groups: groups)
        }
    }

    /// GroupKFold logistic-regression decoding (fit + predict over all folds).
    /// - Returns: the median seconds over `repeats` and the balanced accuracy.
    public static func decoding(_ data: DecodingData, folds: Int, repeats: Int) -> (seconds: Double, balancedAccuracy: Double) {
        var times: [Double] = []
        var accuracy = 0.0
        for _ in 0..<max(repeats, 1) {
            let start = DispatchTime.now().uptimeNanoseconds
            let result = Decoding.crossValidate(features: data.features, labels: data.labels, groups: data.groups, folds: folds)
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
            accuracy = result.mean
        }
        return (times.sorted()[times.count / 2], accuracy)
    }

    /// The fixed-point search (Adam on q, Newton polishing, eigenvalues) of a random field with
    /// the SVAE's NODE shape, f(z) = -z + W3 tanh(W2 tanh(W1 z + b1) + b2) + b3, Gaussian weights
    /// of gain 1.5 so that it has several fixed points (a freshly initialised SVAE field has a
    /// zero last layer, so every start would already be one); standard normal starts.
    /// - Returns: seconds of one search and the fixed and slow points found.
    public static func fixedPoints(starts: Int, latent: Int, hidden: Int, seed: UInt64) -> (seconds: Double, fixed: Int, slow: Int) {
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
        var random = RandomSource(seed: seed)
        let initial = (0..<starts).map { _ in (0..<latent).map { _ in random.normal() } }
        let start = DispatchTime.now().uptimeNanoseconds
        let (fixed, slow) = FixedPointFinder.find(function, system: .flow, starts: initial)
        return (Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9, fixed.count, slow.count)
    }
}
