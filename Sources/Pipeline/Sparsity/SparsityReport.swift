import Sparse

/// `sparsity.json` of a sparse fit, typed: the method and its settings as chosen, then what
/// the best model achieved (per-layer densities, bytes of a dense and a sparse update).
/// `json` keeps the file's keys and their order.
public struct SparsityReport: Sendable, Equatable {
    /// SNIP scores aggregated across sites (SalientGrads/SSFL style).
    public struct Sites: Sendable, Equatable {
        public var kind: SiteKind
        public var aggregation: Saliency.SiteAggregation
        /// Training windows per site, in site order.
        public var windows: [(site: String, count: Int)]

        public init(kind: SiteKind, aggregation: Saliency.SiteAggregation, windows: [(site: String, count: Int)]) {
            (self.kind, self.aggregation, self.windows) = (kind, aggregation, windows)
        }

        public static func == (a: Sites, b: Sites) -> Bool {
            a.kind == b.kind && a.aggregation == b.aggregation && a.windows.map(\.site) == b.windows.map(\.site) && a.windows.map(\.count) == b.windows.map(\.count)
        }
    }

    /// A prunable parameter's entries and how many are kept.
    public struct Layer: Sendable, Equatable {
        public var name: String
        public var count: Int
        public var nonzero: Int

        public init(name: String, count: Int, nonzero: Int) {
            (self.name, self.count, self.nonzero) = (name, count, nonzero)
        }
    }

    public var method: SparseMethod
    public var sparsity: Double
    public var scope: PruningScope
    public var sites: Sites?
    /// SNIP: batches of windows scored.
    public var batches: Int?
    /// SynFlow: pruning rounds.
    public var rounds: Int?
    /// GSP: the Hoyer target.
    public var hoyerTarget: Double?
    /// GMP and GSP: steps between mask updates.
    public var interval: Int?
    /// GMP: the pruning schedule.
    public var schedule: String?
    /// GSP: how weights are grouped.
    public var gspGroup: GroupSparseTraining.Grouping?
    /// SET and RigL: steps between drop-and-grow updates, and the fraction dropped.
    public var updateInterval: Int?
    public var dropFraction: Double?

    /// What the best model achieved (filled when the fit is written).
    public var layers: [Layer] = []
    public var bytesDenseUpdate = 0
    public var bytesSparseUpdate = 0
    public var compactExport = "model_sparse.safetensors"

    public init(method: SparseMethod, sparsity: Double, scope: PruningScope) {
        self.method = method
        self.sparsity = sparsity
        self.scope = scope
    }

    /// 1 - kept / prunable over `layers`.
    public var achievedSparsity: Double {
        let prunable = layers.reduce(0) { $0 + $1.count }, kept = layers.reduce(0) { $0 + $1.nonzero }
        return 1 - Double(kept) / Double(max(1, prunable))
    }

    /// The file's object, keys in the order fmridyn has always written them.
    public var json: JSONValue {
        var object: [(String, JSONValue)] = [("method", .string(method.rawValue)), ("sparsity", .number(sparsity)), ("scope", .string(scope.rawValue))]
        if let sites {
            object += [("sites", .string(sites.kind.rawValue)), ("site_count", .integer(sites.windows.count)),
                       ("site_aggregation", .string(sites.aggregation.rawValue)),
                       ("site_windows", .object(sites.windows.map { ($0.site, .integer($0.count)) }))]
        }
        if let batches { object.append(("batches", .integer(batches))) }
        if let rounds { object.append(("rounds", .integer(rounds))) }
        if let hoyerTarget { object.append(("hoyer_target", .number(hoyerTarget))) }
        if let interval { object.append(("interval", .integer(interval))) }
        if let schedule { object.append(("schedule", .string(schedule))) }
        if let gspGroup { object.append(("gsp_group", .string(gspGroup.rawValue))) }
        if let updateInterval { object.append(("update_interval", .integer(updateInterval))) }
        if let dropFraction { object.append(("drop_fraction", .number(dropFraction))) }
        object.append(("achieved_sparsity", .number(achievedSparsity)))
        object.append(("layers", .object(layers.map { layer in
            (layer.name, .object([("count", .integer(layer.count)), ("nonzero", .integer(layer.nonzero)),
                                  ("density", .number(Double(layer.nonzero) / Double(max(1, layer.count))))]))
        })))
        object.append(("bytes_dense_update", .integer(bytesDenseUpdate)))
        object.append(("bytes_sparse_update", .integer(bytesSparseUpdate)))
        object.append(("compact_export", .string(compactExport)))
        return .object(object)
    }
}
