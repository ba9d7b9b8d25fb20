import Analysis
import Foundation
import Model

/// `fixed-points`' chain: a fitted model's fixed and slow points, searched from starts drawn
/// around its posterior-mean latents on some runs (or from N(0, I) without runs), optionally
/// under constant external inputs u (the fixed points of f(z) + B u).
public struct FixedPointSearch: Sendable {
    public var modelDirectory: String
    /// Inputs held constant, by the model's input names (the others are 0).
    public var heldInputs: [(name: String, value: Double)] = []
    public var starts = 1024
    /// SD of the Gaussian noise added to each sampled latent state.
    public var noiseScale = 0.1
    public var seed: UInt64 = 1
    public var options = FixedPointOptions()

    public init(modelDirectory: String) {
        self.modelDirectory = modelDirectory
    }

    public struct Outcome: Sendable {
        public let fixed: [FixedPoint]
        public let slow: [FixedPoint]
        /// `fixed_points.json`'s content.
        public let report: FixedPointReport
        /// The fixed points as CSV (index, classification, count, q, max real eigenvalue, z).
        public let csv: String
    }

    /// Searches the model's field; `runs` (already read) give the starts.
    public func run(on runs: [RunData]?) throws -> Outcome {
        let fitted = try FittedModel(directory: modelDirectory)
        let svae = fitted.svae
        let trajectories = try runs.map { try fitted.trajectories($0).flatMap(\.states) } ?? []
        let initial = ModelFixedPoints.starts(from: trajectories, dimension: svae.configuration.latent, count: starts,
                                              noiseScale: noiseScale, seed: seed)
        let (fixed, slow, system) = ModelFixedPoints.find(model: svae, starts: initial, drive: try drive(of: svae), options: options)
        return Outcome(fixed: fixed, slow: slow, report: ModelFixedPoints.report(fixed: fixed, slow: slow, system: system, starts: initial.count),
                       csv: ModelFixedPoints.csv(fixed))
    }

    /// B u for the held inputs (nil when every input is 0): what a constant input adds to the
    /// flow (or to the map's step).
    func drive(of svae: SVAE<Float>) throws -> [Double]? {
        let names = svae.configuration.externalInputs ?? []
        var u = [Double](repeating: 0, count: names.count)
        for (name, value) in heldInputs {
            guard let index = names.firstIndex(of: name) else {
                throw PipelineError("`input` \(name): the model's inputs are \(names.isEmpty ? "none (it was fitted without `externalInputs`)" : names.joined(separator: ", "))")
            }
            u[index] = value
        }
        guard let inputMap = svae.inputMap, u.contains(where: { $0 != 0 }) else { return nil }
        let weights = inputMap.weight.scalars
        return (0..<svae.configuration.latent).map { row in (0..<names.count).reduce(0.0) { $0 + Double(weights[row * names.count + $1]) * u[$1] } }
    }
}
