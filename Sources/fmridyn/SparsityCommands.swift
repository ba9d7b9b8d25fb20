import ArgumentParser
import Core
import Foundation
import Model
import Sparse

/// `fmridyn sparsity`: per-layer density of a model directory.
struct Sparsity: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Per-layer density (fraction of non-zero weights) of a model.",
        discussion: "Example: fmridyn sparsity --model model"
    )

    @Option(help: "Model directory.")
    var model: String

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
            stay zero when training resumes with the masks). Biases and vectors stay dense. SNIP, \
            SynFlow, RigL/SET and site-aggregated saliency need training data and are not yet commands.

            Example: fmridyn prune --model model --sparsity 0.9 --method magnitude --scope global --out model-sparse
            """
    )

    @Option var model: String
    @Option(help: "Fraction of prunable weights removed, in [0, 1).")
    var sparsity: Double
    @Option(help: "magnitude, random or gsp.")
    var method = "magnitude"
    @Option(help: "global, layer or erk (magnitude and random).")
    var scope = "global"
    @Option var seed: UInt64 = 1
    @Option var out: String

    func validate() throws {
        guard (0..<1).contains(sparsity) else { throw ValidationError("--sparsity must be in [0, 1).") }
        guard ["magnitude", "random", "gsp"].contains(method) else { throw ValidationError("--method must be magnitude, random or gsp.") }
        guard PruningScope(rawValue: scope) != nil else { throw ValidationError("--scope must be global, layer or erk.") }
    }

    func run() throws {
        var (svae, description) = try Trainer.loadModel(from: model)
        let names = prunableParameters(svae)
        let shapes = Dictionary(uniqueKeysWithValues: svae.parameters.filter { names.contains($0.name) }.map { ($0.name, svae[keyPath: $0.path].shape) })
        let masks: ParameterMasks<Float>
        if method == "gsp" {
            // Project each weight matrix (as one vector) to the target Hoyer sparsity; zeros define the mask.
            let vectors = names.compactMap { name in svae.parameters.first { $0.name == name }.map { svae[keyPath: $0.path].scalars.map(Double.init) } }
            let projected = GroupSparseProjection.project(vectors, target: sparsity)
            masks = ParameterMasks(Dictionary(uniqueKeysWithValues: zip(names, projected).map { name, values in
                (name, Tensor<Float>(shape: shapes[name] ?? [values.count], scalars: values.map { $0 == 0 ? 0 : 1 }))
            }))
        } else {
            let criterion: PruningCriterion = method == "random" ? .random(seed: seed) : .magnitude
            masks = Pruning.masks(scores: Pruning.scores(svae, names: names, criterion: criterion), order: names, shapes: shapes,
                                  sparsity: sparsity, scope: PruningScope(rawValue: scope) ?? .global)
        }
        masks.apply(to: &svae)
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(description).write(to: URL(fileURLWithPath: out + "/config.json"), options: .atomic)
        try Checkpoint.save(svae, masks: masks, to: out)
        let kept = masks.masks.values.reduce(0) { $0 + $1.scalars.filter { $0 != 0 }.count }
        let total = masks.masks.values.reduce(0) { $0 + $1.count }
        print(String(format: "%@: kept %d of %d prunable weights (density %.4f)", out, kept, total, Double(kept) / Double(max(1, total))))
    }
}
