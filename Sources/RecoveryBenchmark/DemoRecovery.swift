import Analysis
import Foundation
import Model
import Preprocessing
import Simulation

/// How well a model fitted on a simulated study (`fmridyn demo`) recovers the simulator's
/// truth: the latents against the true HRF-convolved and neural latents, and the fixed points
/// against the true stable points, after an affine alignment; PCA and all regions as the
/// baselines of the state scores.
public struct DemoRecovery: Sendable {
    /// Affine R^2 of all latents against the true HRF-convolved latents (in-sample).
    public var latentR2: Double
    /// Mean distance of the aligned fixed points to their nearest true stable point (NaN without points).
    public var fixedPointError: Double
    /// Leave-one-subject-out affine R^2 against (neural, BOLD-level) truth.
    public var model: (neural: Double, bold: Double)
    public var pca: (neural: Double, bold: Double)
    public var regions: (neural: Double, bold: Double)
    /// Recall and precision of the true stable points within `radius` after alignment.
    public var fixedPoints: RecoveryMetrics.FixedPointScores
    /// The true system's stable points.
    public var trueStable: Int

    /// - Parameters:
    ///   - truthFiles: per run, the simulator's `ground_truth/..._latents.tsv` (columns
    ///     `z1..zK` neural, `bold_z1..bold_zK` HRF-convolved, one row per original volume).
    ///   - runs: the runs the model saw (their `volumes` index the truth), in the trajectories' order.
    ///   - system: the simulator's latent system (its fixed points are the truth).
    public init(truthFiles: [String], runs: [RunData], trajectories: [LatentTrajectory], fixedPoints found: [FixedPoint],
                system: LatentSystem, radius: Double = 0.25) throws {
        let k = system.dimension
        var recovered: [[Double]] = [], truth: [[Double]] = []
        var runLatents: [[[Double]]] = [], runBold: [[[Double]]] = [], runNeural: [[[Double]]] = []
        for ((file, run), trajectory) in zip(zip(truthFiles, runs), trajectories) {
            let table = try DelimitedTable(contentsOf: file)
            let bold = try (1...k).map { try table.numericColumn("bold_z\($0)") }
            let neural = try (1...k).map { try table.numericColumn("z\($0)") }
            for (state, volume) in zip(trajectory.states, run.volumes) {
                recovered.append(state)
                truth.append(bold.map { $0[volume] })
            }
            runLatents.append(trajectory.states)
            runBold.append(run.volumes.map { v in bold.map { $0[v] } })
            runNeural.append(run.volumes.map { v in neural.map { $0[v] } })
        }
        latentR2 = Recovery.affineR2(recovered: recovered, truth: truth)
        let affine = Recovery.affineMap(recovered: recovered, truth: truth)
        let stable = system.fixedPoints.filter { $0.kind == "stable" }.map(\.point)
        trueStable = stable.count
        fixedPointError = .nan
        if let affine, !found.isEmpty {
            let distances = found.map { point -> Double in
                let mapped = Recovery.apply(affine, to: point.z)
                return stable.map { zip($0, mapped).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }.squareRoot() }.min() ?? .nan
            }
            fixedPointError = distances.reduce(0, +) / Double(distances.count)
        }
        let groups = runs.map(\.subject)
        let regionRows = runs.map { $0.standardized.rows }
        let components = PCA(fitting: regionRows.flatMap { $0 }, components: trajectories.first?.values.first?.count ?? k)
        let pcaRows = regionRows.map { components.transform($0) }
        func scores(_ features: [[[Double]]]) -> (neural: Double, bold: Double) {
            (RecoveryMetrics.crossValidatedR2(features: features, truth: runNeural, groups: groups),
             RecoveryMetrics.crossValidatedR2(features: features, truth: runBold, groups: groups))
        }
        model = scores(runLatents)
        pca = scores(pcaRows)
        regions = scores(regionRows)
        fixedPoints = RecoveryMetrics.fixedPointScores(found: found, affine: affine, system: system, radius: radius)
    }
}
