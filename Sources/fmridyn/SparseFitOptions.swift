import ArgumentParser
import Foundation
import Model
import Preprocessing
import Pipeline
import Sparse

/// Sparse-training options of `fit` (and the group level of `bids`).
struct SparseFitOptions: ParsableArguments {
    @Option(help: "Fraction of prunable weights (weight matrices) removed; 0 trains dense.")
    var sparsity = 0.0
    @Option(help: "snip, magnitude, random or synflow (masks fixed at initialisation); gmp (gradual magnitude pruning, cubic schedule); gsp (group sparse projection, then magnitude); set or rigl (drop and grow at constant density).")
    var prune: SparseMethod = .snip
    @Option(help: "global, layer or erk.")
    var pruneScope: PruningScope = .global
    @Option(help: "SNIP per site (subject, session or run), aggregated into one mask (SalientGrads / SSFL).")
    var sites: SiteKind?
    @Option(help: "mean or weighted (by windows) aggregation of the site scores.")
    var siteAggregation: Saliency.SiteAggregation = .mean
    @Option(help: "SNIP: batches at initialisation whose |g w| are averaged (per site with --sites).")
    var pruneBatches = 4
    @Option(help: "set/rigl: steps between drop-and-grow updates; gmp/gsp: steps between pruning or projection steps.")
    var updateInterval = 100
    @Option(help: "set/rigl: initial drop fraction (cosine-decayed to 0 at 75% of training).")
    var dropFraction = 0.3
    @Option(help: "gsp: average Hoyer sparsity of the projection (default: --sparsity).")
    var gspTarget: Double?
    @Option(help: "gsp: project each layer's rows as one group (layer) or all layers' rows together (model).")
    var gspGroup: GroupSparseTraining.Grouping = .layer
    @Option(help: "synflow: pruning rounds.")
    var synflowRounds = 100

    func validate() throws {
        if let gspTarget, !(gspTarget >= 0 && gspTarget <= 1) { throw ValidationError("--gsp-target must be in [0, 1] (got \(gspTarget)).") }
        guard (0..<1).contains(sparsity) else { throw ValidationError("--sparsity must be in [0, 1).") }
        if sites != nil && prune != .snip { throw ValidationError("--sites aggregates SNIP scores; use it with --prune snip.") }
        guard pruneBatches >= 1, updateInterval >= 1, synflowRounds >= 1 else {
            throw ValidationError("--prune-batches, --update-interval and --synflow-rounds must be at least 1.")
        }
        guard (0..<1).contains(dropFraction) else { throw ValidationError("--drop-fraction must be in [0, 1).") }
        if let gspTarget, !(0..<1).contains(gspTarget) { throw ValidationError("--gsp-target must be in [0, 1).") }
    }

    var scope: PruningScope { pruneScope }

    /// The settings as the pipeline takes them.
    var settings: SparsitySettings {
        SparsitySettings(sparsity: sparsity, method: prune, scope: pruneScope, sites: sites, siteAggregation: siteAggregation,
                         pruneBatches: pruneBatches, updateInterval: updateInterval, dropFraction: dropFraction, gspTarget: gspTarget,
                         gspGroup: gspGroup, synflowRounds: synflowRounds)
    }
}

