import ArgumentParser
import Core
import Federation
import Foundation
import Model
import Preprocessing
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
}

/// Masks and schedules for a sparse fit, and the record of what was done.
enum SparseTrainingSetup {
    struct Plan {
        var masks: ParameterMasks<Float>
        var schedule: (any MaskSchedule)?
        var record: [(String, JSONValue)]
    }

    /// nil for a dense fit. Initial masks are computed on the model the trainer will start from
    /// (same configuration and seed), from the training windows only.
    static func plan(_ options: SparseFitOptions, model: SVAEConfiguration, data: WindowDataset, batchSize: Int,
                     say: (String) -> Void) throws -> Plan? {
        guard options.sparsity > 0 else { return nil }
        let svae = SVAE<Float>(configuration: model)
        let names = prunableParameters(svae)
        let shapes = Dictionary(uniqueKeysWithValues: svae.parameters.filter { names.contains($0.name) }.map { ($0.name, svae[keyPath: $0.path].shape) })
        let dense = ParameterMasks<Float>(Dictionary(uniqueKeysWithValues: names.map { name in
            (name, Tensor<Float>(shape: shapes[name] ?? [], scalars: [Float](repeating: 1, count: (shapes[name] ?? []).reduce(1, *))))
        }))
        var record: [(String, JSONValue)] = [("method", .string(options.prune.rawValue)), ("sparsity", .number(options.sparsity)),
                                             ("scope", .string(options.pruneScope.rawValue))]
        func fixed(_ criterion: PruningCriterion) -> ParameterMasks<Float> {
            Pruning.masks(scores: Pruning.scores(svae, names: names, criterion: criterion), order: names, shapes: shapes,
                          sparsity: options.sparsity, scope: options.scope)
        }
        switch options.prune {
        case .magnitude:
            return Plan(masks: fixed(.magnitude), schedule: nil, record: record)
        case .random:
            return Plan(masks: fixed(.random(seed: model.seed)), schedule: nil, record: record)
        case .snip:
            let groups = siteGroups(data, by: options.sites)
            var siteScores: [[String: [Double]]] = [], samples: [Int] = []
            for (site, windows) in groups {
                siteScores.append(try GradientSaliency.snip(svae, names: names, data: data, windows: windows, batches: options.pruneBatches,
                                                 batchSize: batchSize, seed: model.seed))
                samples.append(windows.count)
                if options.sites != nil { say("SNIP scores for site \(site): \(windows.count) windows") }
            }
            let rule = options.siteAggregation
            let scores = Saliency.aggregate(siteScores, samples: samples, rule: rule)
            let masks = Pruning.masks(scores: scores, order: names, shapes: shapes, sparsity: options.sparsity, scope: options.scope)
            if let sites = options.sites {
                record += [("sites", .string(sites.rawValue)), ("site_count", .integer(groups.count)), ("site_aggregation", .string(rule.rawValue)),
                           ("site_windows", .object(zip(groups.map(\.site), samples).map { ($0, .integer($1)) }))]
            }
            return Plan(masks: masks, schedule: nil, record: record + [("batches", .integer(options.pruneBatches))])
        case .synflow:
            let ones = Tensor<Float>(shape: [1, model.window, model.observations], scalars: [Float](repeating: 1, count: model.window * model.observations))
            let masks = try Saliency.synflowMasks(svae, names: names, sparsity: options.sparsity, scope: options.scope,
                                                  rounds: options.synflowRounds) { network in
                try network.meanPathOutputs(ones).map { $0.sum() }.reduce(Tensor<Float>(shape: [], scalars: [0]), +)
            }
            return Plan(masks: masks, schedule: nil, record: record + [("rounds", .integer(options.synflowRounds))])
        case .gmp:
            return Plan(masks: dense, schedule: IterativeMagnitudePruning(finalSparsity: options.sparsity, interval: options.updateInterval,
                                                                          scope: options.scope),
                        record: record + [("interval", .integer(options.updateInterval)), ("schedule", .string("cubic, 10% to 75% of training"))])
        case .gsp:
            let target = options.gspTarget ?? options.sparsity
            return Plan(masks: dense, schedule: GroupSparseTraining(hoyerTarget: target, finalSparsity: options.sparsity,
                                                                    interval: options.updateInterval, scope: options.scope,
                                                                    grouping: options.gspGroup),
                        record: record + [("hoyer_target", .number(target)), ("interval", .integer(options.updateInterval)),
                                          ("gsp_group", .string(options.gspGroup.rawValue))])
        case .set, .rigl:
            let growth: DynamicSparseTraining.Growth = options.prune == .rigl ? .gradient : .random
            return Plan(masks: fixed(.random(seed: model.seed)),
                        schedule: DynamicSparseTraining(growth: growth, updateInterval: options.updateInterval, dropFraction: options.dropFraction,
                                                        seed: model.seed),
                        record: record + [("update_interval", .integer(options.updateInterval)), ("drop_fraction", .number(options.dropFraction))])
        }
    }

    /// Training windows by site (one group of all windows without sites).
    static func siteGroups(_ data: WindowDataset, by sites: SiteKind?) -> [(site: String, windows: [WindowDataset.Window])] {
        guard let sites else { return [("all", data.training)] }
        var groups: [String: [WindowDataset.Window]] = [:]
        for window in data.training {
            let run = data.runs[window.run]
            let key: String
            switch sites {
            case .subject: key = run.subject
            case .session: key = run.subject + (run.session.isEmpty ? "" : "_ses-" + run.session)
            case .run: key = run.source
            }
            groups[key, default: []].append(window)
        }
        return groups.keys.sorted().map { ($0, groups[$0] ?? []) }
    }

    /// `sparsity.json` and the compact export of a sparse model directory.
    static func writeRecord(_ plan: Plan, directory: String) throws {
        let record = plan.record
        let (svae, _) = try Trainer.loadModel(from: directory)
        guard let masks: ParameterMasks<Float> = try Checkpoint.loadMasks(from: directory) else { return }
        let bytes = Saliency.communicationBytes(svae, masks: masks)
        let layers = Pruning.density(svae).filter { masks.masks[$0.name] != nil }
        let prunable = layers.reduce(0) { $0 + $1.count }, kept = layers.reduce(0) { $0 + $1.nonzero }
        var perLayer: [(String, JSONValue)] = []
        for layer in layers {
            let density = Double(layer.nonzero) / Double(max(1, layer.count))
            let entry: [(String, JSONValue)] = [("count", .integer(layer.count)), ("nonzero", .integer(layer.nonzero)), ("density", .number(density))]
            perLayer.append((layer.name, JSONValue.object(entry)))
        }
        var object: [(String, JSONValue)] = record
        object.append(("achieved_sparsity", .number(1 - Double(kept) / Double(max(1, prunable)))))
        object.append(("layers", .object(perLayer)))
        object.append(("bytes_dense_update", .integer(bytes.dense)))
        object.append(("bytes_sparse_update", .integer(bytes.sparse)))
        object.append(("compact_export", .string("model_sparse.safetensors")))
        try OutputFiles.write(Data((JSONValue.object(object).rendered() + "\n").utf8), to: directory + "/sparsity.json")
        try SparseExport.write(svae, masks: masks, to: directory + "/model_sparse.safetensors")
    }
}
