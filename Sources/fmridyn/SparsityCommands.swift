import ArgumentParser
import Foundation
import Model
import Pipeline
import Sparse

/// `fmridyn sparsity`: per-layer density of a model directory.
struct Sparsity: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Per-layer density (fraction of non-zero weights) of a model.",
        discussion: "Example: fmridyn sparsity --model model"
    )

    @Option(help: "Model directory.")
    var model: String
    @OptionGroup var diagnostics: DiagnosticOptions

    func run() throws {
        let (svae, _) = try Trainer.loadModel(from: model)
        var total = 0, nonzero = 0
        print("parameter\tcount\tnonzero\tdensity")
        for layer in Pruning.density(svae) {
            total += layer.count
            nonzero += layer.nonzero
            print(String(format: "%@\t%d\t%d\t%.4f", layer.name, layer.count, layer.nonzero, Double(layer.nonzero) / Double(max(1, layer.count))))
        }
        print(String(format: "total\t%d\t%d\t%.4f", total, nonzero, Double(nonzero) / Double(max(1, total))))
    }
}

/// `fmridyn prune`: one-shot pruning of a fitted model.
struct Prune: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Prune a model's weight matrices to a target sparsity (magnitude, random or GSP).",
        discussion: """
            Writes a model directory with the pruned parameters and masks.safetensors (masked weights \
            stay zero when training resumes with the masks). Biases and vectors stay dense. SynFlow is \
            data-free (all-ones input through the noise-free path); SNIP scores |g w| on windows of \
            --data. Pruning before or during training (SNIP at initialisation, SET/RigL, gradual \
            magnitude, GSP, site-aggregated saliency) is fmridyn fit --sparsity ... --prune ....

            Example: fmridyn prune --model model --sparsity 0.9 --method magnitude --scope global --out model-sparse
            """
    )

    @Option var model: String
    @Option(help: "Fraction of prunable weights removed, in [0, 1).")
    var sparsity: Double
    @Option(help: "magnitude, random, gsp, synflow (data-free) or snip (|g w| on --data).")
    var method: OneShotPruneMethod = .magnitude
    @OptionGroup(title: "snip: the data whose windows give the gradients") var data: ModelDataOptions
    @Option(help: "global, layer or erk (magnitude and random).")
    var scope: PruningScope = .global
    @Option var seed: UInt64 = 1
    @Option var out: String
    @OptionGroup var diagnostics: DiagnosticOptions

    func validate() throws {
        guard (0..<1).contains(sparsity) else { throw ValidationError("--sparsity must be in [0, 1).") }
        if method == .snip && data.data.isEmpty { throw ValidationError("--method snip needs --data: the gradients come from windows of real data.") }
    }

    func run() throws {
        let runs = method == .snip ? try data.inputs.loadRuns(progress: diagnostics.progress) : nil
        let (kept, total) = try OneShotPruning.prune(modelDirectory: model, method: method, sparsity: sparsity, scope: scope, seed: seed, runs: runs, out: out)
        print(String(format: "%@: kept %d of %d prunable weights (density %.4f)", out, kept, total, Double(kept) / Double(max(1, total))))
    }
}
