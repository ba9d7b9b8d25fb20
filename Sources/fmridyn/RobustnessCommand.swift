import Analysis
import ArgumentParser
import Core
import Foundation
import Model
import Preprocessing

/// `fmridyn robustness`: do models fitted with different seeds find the same structure?
struct Robustness: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compare fixed points across models fitted with different seeds.",
        discussion: """
            Each model's posterior-mean latents on the same data are aligned to the first model's by \
            orthogonal Procrustes (or an affine least-squares map, --alignment affine); each model's fixed points are mapped by the same alignment and \
            matched to the reference's by the Hungarian algorithm. Reported: alignment R^2, matched \
            distances, fraction of reference points matched within --match-distance, and the same \
            statistics when a random rotation replaces Procrustes (the null, --null-samples draws).

            Example:
              fmridyn robustness model-seed1 model-seed2 model-seed3 --data runs.tsv --manifest --out robustness.json
            """
    )

    @Argument(help: "Model directories (the first is the reference).")
    var models: [String]
    @Option(parsing: .upToNextOption, help: "Region-timeseries TSVs (or a manifest with --manifest).")
    var data: [String]
    @Flag var manifest = false
    @Option var tr: Double?
    @Option(help: "orthogonal (Procrustes, default) or affine (least squares) alignment of latent spaces.")
    var alignment = "orthogonal"
    @Option var matchDistance = 0.25
    @Option var nullSamples = 20
    @Option var starts = 512
    @Option var seed: UInt64 = 1
    @Option var out: String
    @OptionGroup var diagnostics: DiagnosticOptions

    func validate() throws {
        try NumericOptions.count("--starts", starts, 1...1_000_000, why: "each start is optimised with its own Jacobian")
        try NumericOptions.count("--null-samples", nullSamples, 1...100_000, why: "each null sample repeats the matching")
        guard models.count >= 2 else { throw ValidationError("give at least two model directories.") }
        try NumericOptions.positive("--tr", tr, unit: "seconds")
        guard !data.isEmpty else { throw ValidationError("--data is required: the latents are aligned on the same data.") }
        guard SeedRobustness.Alignment(rawValue: alignment) != nil else { throw ValidationError("--alignment must be orthogonal or affine.") }
    }

    func run() throws {
        let runs = try RunLoader.load(inputs: data, manifest: manifest, tr: tr ?? 1, events: nil)
        let (object, table) = try Self.evaluate(models: models, runs: runs, alignment: SeedRobustness.Alignment(rawValue: alignment) ?? .orthogonal,
                                                matchDistance: matchDistance, nullSamples: nullSamples, starts: starts, seed: seed)
        try OutputFiles.write(Data((object.rendered() + "\n").utf8), to: out)
        print(table, terminator: "")
    }

    /// Latents and fixed points of every model on `runs`, compared with the first model's:
    /// the JSON object (`reference`, `reference_fixed_points`, `alignment`, `match_distance`,
    /// `comparisons`) and a tab-separated table. Shared with `fit --seeds`.
    static func evaluate(models: [String], runs: [RunData], alignment: SeedRobustness.Alignment, matchDistance: Double,
                         nullSamples: Int, starts: Int, seed: UInt64) throws -> (JSONValue, String) {
        var latents: [[[Double]]] = [], points: [[[Double]]] = []
        for directory in models {
            let (svae, _) = try Trainer.loadModel(from: directory)
            let z = try LatentExport.trajectories(model: svae, runs: runs).flatMap(\.states)
            let (fixed, _, _) = ModelFixedPoints.find(model: svae,
                                                      starts: ModelFixedPoints.starts(from: z, dimension: svae.configuration.latent, count: starts, seed: seed))
            latents.append(z)
            points.append(fixed.map(\.z))
        }
        guard Set(latents.map { $0.first?.count ?? 0 }).count == 1 else { throw ValidationError("the models have different latent dimensions") }
        let results = SeedRobustness.compare(latents: latents, points: points, alignment: alignment, matchDistance: matchDistance,
                                             nullSamples: nullSamples, seed: seed)
        var comparisons: [(String, JSONValue)] = []
        var table = "model\talignment_r2\tfixed_points\tmatched\tmean_distance\tnull_matched\n"
        for (model, result) in zip(models.dropFirst(), results) {
            comparisons.append((model, .object([
                ("alignment_r2", .number(result.alignmentR2)), ("fixed_points", .integer(result.fixedPoints)),
                ("matched_distances", .numbers(result.matchedDistances)), ("fraction_matched", .number(result.fractionMatched)),
                ("mean_distance", .number(result.meanDistance)),
                ("null_fraction_matched", .number(result.nullFractionMatched)), ("null_mean_distance", .number(result.nullMeanDistance)),
            ])))
            table += String(format: "%@\t%.3f\t%d\t%.2f\t%.3f\t%.2f\n", model, result.alignmentR2, result.fixedPoints, result.fractionMatched,
                            result.meanDistance, result.nullFractionMatched)
        }
        let object: [(String, JSONValue)] = [("reference", .string(models[0])), ("reference_fixed_points", .integer(points[0].count)),
                                             ("alignment", .string(alignment.rawValue)),
                                             ("match_distance", .number(matchDistance)), ("comparisons", .object(comparisons))]
        return (.object(object), table)
    }
}
