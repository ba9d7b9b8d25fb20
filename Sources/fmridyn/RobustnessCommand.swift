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
            orthogonal Procrustes; each model's fixed points are mapped by the same alignment and \
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
    @Option var matchDistance = 0.25
    @Option var nullSamples = 20
    @Option var starts = 512
    @Option var seed: UInt64 = 1
    @Option var out: String
    @OptionGroup var diagnostics: DiagnosticOptions

    func validate() throws {
        guard models.count >= 2 else { throw ValidationError("give at least two model directories.") }
        guard !data.isEmpty else { throw ValidationError("--data is required: the latents are aligned on the same data.") }
    }

    func run() throws {
        let runs = try RunLoader.load(inputs: data, manifest: manifest, tr: tr ?? 1, events: nil)
        var latents: [[[Double]]] = [], points: [[[Double]]] = []
        for directory in models {
            let (svae, _) = try Trainer.loadModel(from: directory)
            let (_, rows) = try LatentExport.rows(model: svae, runs: runs)
            let z = rows.map { $0.suffix(svae.configuration.latent).compactMap(Double.init) }
            let (function, system) = ModelFixedPoints.system(of: svae)
            let (fixed, _) = FixedPointFinder.find(function, system: system,
                                                   starts: ModelFixedPoints.starts(from: z, dimension: svae.configuration.latent, count: starts, seed: seed))
            latents.append(z)
            points.append(fixed.map(\.z))
        }
        guard Set(latents.map { $0.first?.count ?? 0 }).count == 1 else { throw ValidationError("the models have different latent dimensions") }
        var random = RandomSource(seed: seed)
        var comparisons: [(String, JSONValue)] = []
        var table = "model\talignment_r2\tfixed_points\tmatched\tmean_distance\tnull_matched\n"
        for index in 1..<models.count {
            let solution = SeedRobustness.procrustes(source: latents[index], target: latents[0])
            let aligned = latents[index].map { SeedRobustness.align($0, solution) }
            let r2 = explained(aligned, latents[0])
            let (distances, fraction) = SeedRobustness.match(points[0], points[index].map { SeedRobustness.align($0, solution) }, threshold: matchDistance)
            var nullFractions: [Double] = [], nullDistances: [Double] = []
            for _ in 0..<nullSamples {
                let rotation = SeedRobustness.randomRotation(dimension: latents[0][0].count, random: &random)
                let randomSolution = (rotation: rotation, sourceMean: solution.sourceMean, targetMean: solution.targetMean)
                let (d, f) = SeedRobustness.match(points[0], points[index].map { SeedRobustness.align($0, randomSolution) }, threshold: matchDistance)
                nullFractions.append(f)
                nullDistances += d
            }
            let mean = { (values: [Double]) in values.isEmpty ? Double.nan : values.reduce(0, +) / Double(values.count) }
            comparisons.append((models[index], .object([
                ("alignment_r2", .number(r2)), ("fixed_points", .integer(points[index].count)),
                ("matched_distances", .numbers(distances)), ("fraction_matched", .number(fraction)), ("mean_distance", .number(mean(distances))),
                ("null_fraction_matched", .number(mean(nullFractions))), ("null_mean_distance", .number(mean(nullDistances))),
            ])))
            table += String(format: "%@\t%.3f\t%d\t%.2f\t%.3f\t%.2f\n", models[index], r2, points[index].count, fraction, mean(distances), mean(nullFractions))
        }
        let object: [(String, JSONValue)] = [("reference", .string(models[0])), ("reference_fixed_points", .integer(points[0].count)),
                                             ("match_distance", .number(matchDistance)), ("comparisons", .object(comparisons))]
        try OutputFiles.write(Data((JSONValue.object(object).rendered() + "\n").utf8), to: out)
        print(table, terminator: "")
    }

    /// R^2 of aligned latents against the reference's (pooled over dimensions).
    func explained(_ aligned: [[Double]], _ reference: [[Double]]) -> Double {
        let k = reference[0].count
        var residual = 0.0, total = 0.0
        for c in 0..<k {
            let mean = reference.reduce(0) { $0 + $1[c] } / Double(reference.count)
            for (a, r) in zip(aligned, reference) { residual += (a[c] - r[c]) * (a[c] - r[c]); total += (r[c] - mean) * (r[c] - mean) }
        }
        return total > 0 ? 1 - residual / total : .nan
    }
}
