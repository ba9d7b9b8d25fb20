import Analysis
import ArgumentParser
import Foundation
import Pipeline
import Preprocessing

/// `fmridyn fixed-points`: where a fitted model's latent dynamics come to rest.
struct FixedPoints: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fixed-points",
        abstract: "Find the fixed points of a fitted model's latent dynamics.",
        discussion: """
            Starts are sampled from the model's posterior-mean latents on the data (--data: a BIDS \
            directory, region TSVs or a manifest, as fit takes them; plus \
            Gaussian noise of --noise-scale) or from N(0, I); q = 1/2 |f(z)|^2 is minimised jointly \
            by Adam, then polished by Newton steps with the exact Jacobian. Fixed points (q < \
            --tol-q) are de-duplicated within --tol-unique, classified from their Jacobian \
            eigenvalues (NODE: sign of Re; RNN: the map of its full state (z, h), |lambda| against 1, \
            with each point's memory h* in "memory") and written with their eigenvalues and start counts; slow points separately. \
            A CSV with the same name and .csv is written beside the JSON. For a model fitted with \
            --external-inputs, --input NAME=VALUE finds the fixed points under that constant input \
            (dz/dt = f(z) + B u; by default u = 0).

            Example:
              fmridyn fixed-points --model model --data runs.tsv --manifest --out fixed_points.json
              fmridyn fixed-points --model model --data bids_dir --task motor --atlas power264 --out fixed_points.json
            """
    )

    @Option(help: "Model directory written by fmridyn fit.")
    var model: String
    /// Where the starts are sampled from (the model's latents on these runs).
    @OptionGroup var data: ModelDataOptions
    @Option(help: "Output JSON.")
    var out: String
    @Option var starts = 1024
    @Option var noiseScale = 0.1
    @Option var tolQ = 1e-12
    @Option var maxIters = 5000
    @Option var tolUnique = 1e-3
    @Option var seed: UInt64 = 1
    @Option(name: .customLong("input"), help: "For a model fitted with --external-inputs: hold input NAME at VALUE (NAME=VALUE, repeatable; others 0), i.e. the fixed points of f(z) + B u.")
    var inputs: [String] = []
    @OptionGroup var diagnostics: DiagnosticOptions

    func validate() throws {
        try NumericOptions.count("--starts", starts, 1...1_000_000, why: "each start is optimised with its own Jacobian; a million is already hours")
        guard starts >= 1, maxIters >= 1 else { throw ValidationError("--starts and --max-iters must be at least 1.") }
        guard out.lowercased().hasSuffix(".json") else { throw ValidationError("--out must be a .json file.") }
        for entry in inputs {
            let parts = entry.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, Double(parts[1]) != nil else { throw ValidationError("--input takes NAME=VALUE (e.g. left_hand=1), got \(entry).") }
        }
    }

    /// The search these options ask for.
    var search: FixedPointSearch {
        var search = FixedPointSearch(modelDirectory: model)
        search.heldInputs = inputs.map { entry in
            let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
            return (name: parts[0], value: Double(parts[1]) ?? 0)  // validate() checked NAME=VALUE
        }
        search.starts = starts
        search.noiseScale = noiseScale
        search.seed = seed
        search.options.tolQ = tolQ
        search.options.maxIterations = maxIters
        search.options.tolUnique = tolUnique
        return search
    }

    func run() throws {
        try OutputLocation.requireWritable(file: out)
        let outcome = try search.run(on: data.data.isEmpty ? nil : try data.inputs.loadRuns())
        try OutputFiles.write(try outcome.report.encoded(), to: out)
        try OutputFiles.write(Data(outcome.csv.utf8), to: String(out.dropLast(5)) + ".csv")
        let kinds = Dictionary(grouping: outcome.fixed, by: \.classification).map { "\($0.value.count) \($0.key)" }.sorted().joined(separator: ", ")
        print("\(outcome.fixed.count) fixed points (\(kinds.isEmpty ? "none" : kinds)), \(outcome.slow.count) slow points -> \(out)")
    }
}
