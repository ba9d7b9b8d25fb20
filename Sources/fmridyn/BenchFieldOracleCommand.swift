import ArgumentParser
import Foundation
import RecoveryBenchmark
import Preprocessing
import Simulation

/// `fmridyn bench field-oracle`: the models' field class fitted to the true latents, the
/// ceiling of what inference could give the fixed-point analysis on the benchmark's data.
struct BenchFieldOracle: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "field-oracle",
        abstract: "Fit the neural-ODE field class straight to the simulator's true latents and score its fixed points.",
        discussion: """
            Simulates the benchmark's data (4 subjects x 2 runs x 240 volumes) for each seed, fits \
            fit's field class (MLP K-H-H-K tanh, zero last layer, RK4 over one TR, inputs B u from \
            the task's boxcars) to the true neural latents by one-step prediction, and scores its \
            fixed points in the true coordinates: recall of all true stable points and of those \
            the path visits, the slowest eigenvalues at the stable points found, the field error. \
            With --path-r2 the path is first degraded by an AR(1) error sized so that the truth's \
            affine read-out from it scores that state R^2: how exact inference must be before \
            the field class can see the wells. docs/recovery.md reads the result.

            Example:
              fmridyn bench field-oracle --system multistable --seeds 1,2,3 --out /tmp/oracle.json
              fmridyn bench field-oracle --seeds 1,2 --path-r2 1,0.95,0.9,0.8 --out /tmp/degraded.json
            """
    )

    @Option(help: "The latent system (multistable, switching, rotation, limit-cycle, vanderpol).")
    var system: SystemKind = .multistable
    @Option(help: "Seeds, comma-separated (data and oracle).")
    var seeds = "1,2,3"
    @Option(help: "Observation noise of the simulated images (the latents do not depend on it).")
    var noise = 1.0
    @Option(help: "A fixed decay in the field, per TR (fit --field-leak).")
    var leak = 0.0
    @Flag(help: "No inputs: the autonomous field alone explains the task's pushes too (as a model without --external-inputs).")
    var withoutInputs = false
    @Option(help: "Degrade the true path before the fit, as inference would: target state R^2 values, comma-separated (1: the truth itself).")
    var pathR2 = "1"
    @Option(help: "Lag-one correlation across volumes of the added path error (0: white).")
    var errorCorrelation = 0.9
    @Option(help: "Adam iterations (full batch).")
    var iterations = 3000
    @Option(help: "The JSON output file.")
    var out: String
    @OptionGroup var diagnostics: DiagnosticOptions

    var seedList: [UInt64] { seeds.split(separator: ",").compactMap { UInt64($0.trimmingCharacters(in: .whitespaces)) } }
    var pathR2List: [Double] { pathR2.split(separator: ",").compactMap { Double($0.trimmingCharacters(in: .whitespaces)) } }

    func validate() throws {
        guard !seedList.isEmpty, seedList.count == seeds.split(separator: ",").count else {
            throw ValidationError("--seeds must be whole numbers separated by commas (got '\(seeds)').")
        }
        guard !pathR2List.isEmpty, pathR2List.count == pathR2.split(separator: ",").count, pathR2List.allSatisfy({ $0 > 0 && $0 <= 1 }) else {
            throw ValidationError("--path-r2 must be numbers in (0, 1] separated by commas (got '\(pathR2)').")
        }
        try NumericOptions.within("--error-correlation", errorCorrelation, 0...0.999)
        try NumericOptions.within("--noise", noise, 0...10)
        try NumericOptions.within("--leak", leak, 0...100, unit: "per TR")
        try NumericOptions.count("--iterations", iterations, 1...1_000_000, why: "each is a full-batch gradient step")
    }

    func run() throws {
        let quiet = diagnostics.quiet
        let results = try FieldOracle.run(system: system, noise: noise, seeds: seedList, iterations: iterations, leak: leak, usesInputs: !withoutInputs,
                                          pathErrors: pathR2List.map { $0 < 1 ? FieldOracle.PathError(stateR2: $0, correlation: errorCorrelation) : nil },
                                          work: NSTemporaryDirectory() + "fmridyn-oracle-\(ProcessInfo.processInfo.processIdentifier)") { line in
            if !quiet { FileHandle.standardError.write(Data((line + "\n").utf8)) }
        }
        if !quiet { FileHandle.standardError.write(Data("\n".utf8)) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try OutputFiles.write(try encoder.encode(results), to: out)
        print(FieldOracle.table(results))
    }
}
