import Analysis
import Core
import Foundation
import Model
import Preprocessing

/// Do models fitted with different seeds find the same structure? Each model's latents on the
/// same runs are aligned to the first model's, its fixed points mapped by that alignment and
/// matched to the reference's (`fmridyn robustness`, `fit --seeds`: `robustness.json`).
public struct RobustnessReport: Sendable {
    /// The first model's directory, which the others are aligned to.
    public var reference: String
    public var referenceFixedPoints: Int
    public var alignment: SeedRobustness.Alignment
    public var matchDistance: Double
    /// One per model after the first, in order.
    public var comparisons: [(model: String, result: SeedRobustness.Comparison)]

    /// Latents and fixed points (from `starts` starts on the latents) of every model on `runs`,
    /// compared with the first model's.
    public init(models: [String], runs: [RunData], alignment: SeedRobustness.Alignment, matchDistance: Double,
                nullSamples: Int, starts: Int, seed: UInt64) throws {
        var latents: [[[Double]]] = [], points: [[[Double]]] = []
        for directory in models {
            let (svae, _) = try ModelDirectory(directory).load()
            let z = try LatentExport.trajectories(model: svae, runs: runs).flatMap(\.states)
            let (fixed, _, _) = ModelFixedPoints.find(model: svae,
                                                      starts: ModelFixedPoints.starts(from: z, dimension: svae.configuration.latent, count: starts, seed: seed))
            latents.append(z)
            points.append(fixed.map(\.z))
        }
        guard Set(latents.map { $0.first?.count ?? 0 }).count == 1 else {
            throw PipelineError("the models have different latent dimensions (\(models.joined(separator: ", "))); compare models of one latent dimension")
        }
        let results = SeedRobustness.compare(latents: latents, points: points, alignment: alignment, matchDistance: matchDistance,
                                             nullSamples: nullSamples, seed: seed)
        reference = models[0]
        referenceFixedPoints = points[0].count
        self.alignment = alignment
        self.matchDistance = matchDistance
        comparisons = Array(zip(models.dropFirst(), results)).map { (model: $0.0, result: $0.1) }
    }

    /// `reference`, `reference_fixed_points`, `alignment`, `match_distance`, `comparisons`
    /// (per model: alignment_r2, fixed_points, matched_distances, fraction_matched,
    /// mean_distance, null_fraction_matched, null_mean_distance).
    public var json: JSONValue {
        .object([("reference", .string(reference)), ("reference_fixed_points", .integer(referenceFixedPoints)),
                 ("alignment", .string(alignment.rawValue)), ("match_distance", .number(matchDistance)),
                 ("comparisons", .object(comparisons.map { model, result in
                     (model, .object([
                         ("alignment_r2", .number(result.alignmentR2)), ("fixed_points", .integer(result.fixedPoints)),
                         ("matched_distances", .numbers(result.matchedDistances)), ("fraction_matched", .number(result.fractionMatched)),
                         ("mean_distance", .number(result.meanDistance)),
                         ("null_fraction_matched", .number(result.nullFractionMatched)), ("null_mean_distance", .number(result.nullMeanDistance)),
                     ]))
                 }))])
    }

    /// The file's text (indented JSON and a final newline).
    public var rendered: String { json.rendered() + "\n" }

    /// A tab-separated table, one line per compared model.
    public var table: String {
        var table = "model\talignment_r2\tfixed_points\tmatched\tmean_distance\tnull_matched\n"
        for (model, result) in comparisons {
            table += String(format: "%@\t%.3f\t%d\t%.2f\t%.3f\t%.2f\n", model, result.alignmentR2, result.fixedPoints, result.fractionMatched,
                            result.meanDistance, result.nullFractionMatched)
        }
        return table
    }
}
