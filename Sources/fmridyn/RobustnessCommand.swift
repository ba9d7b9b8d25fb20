import Analysis
import ArgumentParser
import Foundation
import Pipeline
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
    /// The runs every model's latents are aligned on.
    @OptionGroup var data: ModelDataOptions
    @Option(help: "orthogonal (Procrustes, default) or affine (least squares) alignment of latent spaces.")
    var alignment: SeedRobustness.Alignment = .orthogonal
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
        guard !data.data.isEmpty else { throw ValidationError("--data is required: the latents are aligned on the same data.") }
    }

    func run() throws {
        try OutputLocation.requireWritable(file: out)
        let runs = try data.inputs.loadRuns()
        let report = try RobustnessReport(models: models, runs: runs, alignment: alignment,
                                          matchDistance: matchDistance, nullSamples: nullSamples, starts: starts, seed: seed)
        try OutputFiles.write(Data(report.rendered.utf8), to: out)
        print(report.table, terminator: "")
    }
}
