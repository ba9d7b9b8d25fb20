import Core
import Federation
import Foundation
import Model
import Preprocessing
import Sparse

/// How `fit --sparsity` chooses its mask: fixed at initialisation (snip, magnitude, random,
/// synflow), pruned during training (gmp, gsp), or dropped and regrown at constant density
/// (set, rigl).
public enum SparseMethod: String, CaseIterable, Sendable {
    case snip, magnitude, random, synflow, gmp, gsp, set, rigl
}

/// What a site is when SNIP scores are aggregated across sites (SalientGrads / SSFL).
public enum SiteKind: String, CaseIterable, Sendable {
    case subject, session, run
}

/// What a sparse fit does: the fraction of prunable weights removed and how the mask is chosen.
public struct SparsitySettings: Sendable, Equatable {
    /// Fraction of the prunable weights (weight matrices) removed; 0 trains dense.
    public var sparsity: Double
    public var method: SparseMethod
    public var scope: PruningScope
    /// SNIP per site, aggregated into one mask; nil scores all training windows together.
    public var sites: SiteKind?
    public var siteAggregation: Saliency.SiteAggregation
    /// SNIP: batches at initialisation whose |g w| are averaged.
    public var pruneBatches: Int
    /// set/rigl: steps between drop-and-grow updates; gmp/gsp: steps between pruning steps.
    public var updateInterval: Int
    /// set/rigl: initial drop fraction (cosine-decayed to 0 at 75% of training).
    public var dropFraction: Double
    /// gsp: average Hoyer sparsity of the projection (nil: `sparsity`).
    public var gspTarget: Double?
    public var gspGroup: GroupSparseTraining.Grouping
    public var synflowRounds: Int

    public init(sparsity: Double = 0, method: SparseMethod = .snip, scope: PruningScope = .global, sites: SiteKind? = nil,
                siteAggregation: Saliency.SiteAggregation = .mean, pruneBatches: Int = 4, updateInterval: Int = 100, dropFraction: Double = 0.3,
                gspTarget: Double? = nil, gspGroup: GroupSparseTraining.Grouping = .layer, synflowRounds: Int = 100) {
        self.sparsity = sparsity
        self.method = method
        self.scope = scope
        self.sites = sites
        self.siteAggregation = siteAggregation
        self.pruneBatches = pruneBatches
        self.updateInterval = updateInterval
        self.dropFraction = dropFraction
        self.gspTarget = gspTarget
        self.gspGroup = gspGroup
        self.synflowRounds = synflowRounds
    }
}

/// Masks and schedules for a sparse fit, and the record of what was done.
public enum SparseTrainingSetup {
    public struct Plan {
        public var masks: ParameterMasks<Float>
        public var schedule: (any MaskSchedule)?
        /// What `sparsity.json` records of the choice (before the achieved densities are added).
        public var report: SparsityReport
    }

    /// nil for a dense fit. Initial masks are computed on the model the trainer will start from
    /// (same configuration and seed), from the training windows only.
    public static func plan(_ options: SparsitySettings, model: SVAEConfiguration, data: WindowDataset, batchSize: Int,
                     say: (String) -> Void) throws -> Plan? {
        guard options.sparsity > 0 else { return nil }
        let svae = SVAE<Float>(configuration: model)
        let names = prunableParameters(svae)
        let shapes = Dictionary(uniqueKeysWithValues: svae.parameters.filter { names.contains($0.name) }.map { ($0.name, svae[keyPath: $0.path].shape) })
        let dense = ParameterMasks<Float>(Dictionary(uniqueKeysWithValues: names.map { name in
            (name, Tensor<Float>(shape: shapes[name] ?? [], scalars: [Float](repeating: 1, count: (shapes[name] ?? []).reduce(1, *))))
        }))
        var report = SparsityReport(method: options.method, sparsity: options.sparsity, scope: options.scope)
        func fixed(_ criterion: PruningCriterion) -> ParameterMasks<Float> {
            Pruning.masks(scores: Pruning.scores(svae, names: names, criterion: criterion), order: names, shapes: shapes,
                          sparsity: options.sparsity, scope: options.scope)
        }
        switch options.method {
        case .magnitude:
            return Plan(masks: fixed(.magnitude), schedule: nil, report: report)
        case .random:
            return Plan(masks: fixed(.random(seed: model.seed)), schedule: nil, report: report)
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
                report.sites = .init(kind: sites, aggregation: rule, windows: zip(groups.map(\.site), samples).map { (site: $0, count: $1) })
            }
            report.batches = options.pruneBatches
            return Plan(masks: masks, schedule: nil, report: report)
        case .synflow:
            let masks = try synflowMasks(svae, names: names, sparsity: options.sparsity, scope: options.scope, rounds: options.synflowRounds)
            report.rounds = options.synflowRounds
            return Plan(masks: masks, schedule: nil, report: report)
        case .gmp:
            report.interval = options.updateInterval
            report.schedule = "cubic, 10% to 75% of training"
            return Plan(masks: dense, schedule: IterativeMagnitudePruning(finalSparsity: options.sparsity, interval: options.updateInterval,
                                                                          scope: options.scope),
                        report: report)
        case .gsp:
            let target = options.gspTarget ?? options.sparsity
            (report.hoyerTarget, report.interval, report.gspGroup) = (target, options.updateInterval, options.gspGroup)
            return Plan(masks: dense, schedule: GroupSparseTraining(hoyerTarget: target, finalSparsity: options.sparsity,
                                                                    interval: options.updateInterval, scope: options.scope,
                                                                    grouping: options.gspGroup),
                        report: report)
        case .set, .rigl:
            let growth: DynamicSparseTraining.Growth = options.method == .rigl ? .gradient : .random
            (report.updateInterval, report.dropFraction) = (options.updateInterval, options.dropFraction)
            return Plan(masks: fixed(.random(seed: model.seed)),
                        schedule: DynamicSparseTraining(growth: growth, updateInterval: options.updateInterval, dropFraction: options.dropFraction,
                                                        seed: model.seed),
                        report: report)
        }
    }

    /// SynFlow masks of an SVAE: the data-free score of an all-ones window through the
    /// noise-free (mean) path, pruned over `rounds` rounds.
    public static func synflowMasks(_ svae: SVAE<Float>, names: [String], sparsity: Double, scope: PruningScope,
                                    rounds: Int) throws -> ParameterMasks<Float> {
        let c = svae.configuration
        let ones = Tensor<Float>(shape: [1, c.window, c.observations], scalars: [Float](repeating: 1, count: c.window * c.observations))
        return try Saliency.synflowMasks(svae, names: names, sparsity: sparsity, scope: scope, rounds: rounds) { network in
            try network.meanPathOutputs(ones).map { $0.sum() }.reduce(Tensor<Float>(shape: [], scalars: [0]), +)
        }
    }

    /// Training windows by site (one group of all windows without sites).
    public static func siteGroups(_ data: WindowDataset, by sites: SiteKind?) -> [(site: String, windows: [WindowDataset.Window])] {
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
    public static func writeRecord(_ plan: Plan, directory: String) throws {
        let (svae, _) = try Trainer.loadModel(from: directory)
        guard let masks: ParameterMasks<Float> = try Checkpoint.loadMasks(from: directory) else { return }
        let bytes = Saliency.communicationBytes(svae, masks: masks)
        var report = plan.report
        report.layers = Pruning.density(svae).filter { masks.masks[$0.name] != nil }.map { .init(name: $0.name, count: $0.count, nonzero: $0.nonzero) }
        (report.bytesDenseUpdate, report.bytesSparseUpdate) = (bytes.dense, bytes.sparse)
        try OutputFiles.write(Data((report.json.rendered() + "\n").utf8), to: directory + "/sparsity.json")
        try SparseExport.write(svae, masks: masks, to: directory + "/model_sparse.safetensors")
    }
}
