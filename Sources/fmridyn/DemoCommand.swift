import ArgumentParser
import Foundation
import Pipeline

/// `fmridyn demo`: the whole method on simulated data, end to end.
struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Simulate a motor-task dataset, extract, fit the NODE SVAE, export latents, score recovery.",
        discussion: """
            Steps: fmridyn simulate (4 subjects x 2 runs, 4 mm grid) -> extract Power-264 spheres \
            (detrend, 0.01 Hz high-pass, motion6 and global-signal confounds, z-score) -> fit the sequential SVAE with \
            neural-ODE dynamics -> latents.csv -> fixed points of the learned field -> ground-truth \
            recovery (affine R^2 of the latents against the true HRF-convolved latents; distance of \
            the aligned fixed points to the true stable points) -> task decoding (balanced accuracy of \
            the latents vs PCA and FastICA of the same regions vs chance). Writes \
            OUT/summary.json.

            Examples:
              fmridyn demo --out demo-out
              fmridyn demo --quick --out /tmp/demo
            """
    )

    @Option(help: "Output directory.")
    var out = "demo-out"
    @Flag(help: "A smaller, faster run (under a minute).")
    var quick = false
    @Option var seed: UInt64 = 1
    @Option(help: "Override the number of simulated subjects.")
    var subjects: Int?
    @Option(help: "Override the volumes per run.")
    var volumes: Int?
    @Option(help: "Override the training epochs.")
    var epochs: Int?
    @Flag(help: "Exit with status 1 when the latents recover the true HRF-convolved state worse than PCA does.")
    var check = false
    @OptionGroup var diagnostics: DiagnosticOptions

    func validate() throws {
        if let subjects, subjects < 1 { throw ValidationError("--subjects must be at least 1.") }
        if let volumes, volumes < 40 { throw ValidationError("--volumes must be at least 40 (two windows of 32 need the room).") }
        if let epochs, epochs < 1 { throw ValidationError("--epochs must be at least 1.") }
    }

    func run() throws {
        let logger = diagnostics.makeLogger()
        var demo = DemoRun(out: out)
        demo.quick = quick
        demo.seed = seed
        demo.subjects = subjects
        demo.volumes = volumes
        demo.epochs = epochs
        let outcome = try demo.run(say: diagnostics.progress)
        let recovery = outcome.recovery
        let count = outcome.fixedPointCount
        let (nodeDecoding, pcaDecoding, icaDecoding, rawDecoding) = (outcome.decoding(outcome.modelKind), outcome.decoding("pca"), outcome.decoding("ica"), outcome.decoding("raw"))
        let chance = outcome.readouts.decoding?.chance ?? .nan, decodingFolds = outcome.readouts.decoding?.folds ?? 0
        print(String(format: """
            fmridyn demo (%@)
              runs                %d (%d regions each)
              validation ELBO     %.1f nats per window (best of %d epochs)
              latent recovery R2  %.3f (affine fit to the true HRF-convolved latents)
              fixed points        %d (%d stable, %d saddle, %d unstable); truth has %d stable
              fixed-point error   %.3f (mean distance to the nearest true stable point, aligned)
              state R2 (by subj.) neural %.3f, BOLD %.3f; PCA %.3f, %.3f; all regions %.3f, %.3f
              stable points       recall %@, precision %@ (true stable points within 0.25, aligned)
              decoding            NODE %.3f, PCA %.3f, ICA %.3f, all regions %.3f, chance %.3f (balanced accuracy, %d-fold by subject)
              outputs             %@/summary.json, report.html, latents.csv, model/, sim/ (BIDS), timeseries/
              time                %.1f s
            """, quick ? "quick" : "default", outcome.runs, outcome.regions, outcome.bestValidationELBO, outcome.log.count, recovery.latentR2,
            outcome.readouts.fixedPoints.count, count("stable"), count("saddle"), count("unstable"), recovery.trueStable, recovery.fixedPointError,
            recovery.model.neural, recovery.model.bold, recovery.pca.neural, recovery.pca.bold, recovery.regions.neural, recovery.regions.bold,
            recovery.fixedPoints.recall.map { String(format: "%.2f", $0) } ?? "n/a", recovery.fixedPoints.precision.map { String(format: "%.2f", $0) } ?? "n/a (no stable point)",
            nodeDecoding?.balancedAccuracyMean ?? .nan, pcaDecoding?.balancedAccuracyMean ?? .nan, icaDecoding?.balancedAccuracyMean ?? .nan,
            rawDecoding?.balancedAccuracyMean ?? .nan, chance, decodingFolds, out, outcome.seconds))
        logger.debug("done")
        if check, !(recovery.model.bold >= recovery.pca.bold) {
            FileHandle.standardError.write(Data(String(format: "fmridyn demo --check: the latents recover the HRF-convolved state worse than PCA (R2 %.3f < %.3f, leave-one-subject-out)\n",
                                                       recovery.model.bold, recovery.pca.bold).utf8))
            throw ExitCode(1)
        }
    }
}
