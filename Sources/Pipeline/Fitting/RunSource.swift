import Model

/// Where a fit's runs come from (a BIDS directory, region TSVs or a manifest): labels of every
/// run without reading it, and the runs themselves one at a time, so a sharded fit can read
/// only its own subjects' runs.
public protocol RunSource {
    /// Every run's `entity` label (`sub`, `ses`), in input order, without reading any run.
    func runEntities(_ entity: String) throws -> [String]
    /// Reads the runs in input order (only the indices in `only`, when given) and hands each
    /// to `body`; `progress` receives one line per run.
    func forEachRun(only: Set<Int>?, progress: (String) -> Void, _ body: (RunData) throws -> Void) throws
    /// Inputs whose every voxel or grayordinate is a column (a PCA is fitted over them before
    /// the model): each run's subject and source file, in input order, without reading any
    /// run; nil for region inputs.
    func columnRuns() throws -> [(subject: String, source: String)]?
}

extension RunSource {
    /// Every run's subject label, in input order.
    public func runSubjects() throws -> [String] { try runEntities("sub") }

    /// Every run, read (or extracted) at once, in input order.
    public func loadRuns(progress: (String) -> Void = { _ in }) throws -> [RunData] {
        var runs: [RunData] = []
        try forEachRun(only: nil, progress: progress) { runs.append($0) }
        return runs
    }

    /// Region inputs only, unless the source says otherwise.
    public func columnRuns() throws -> [(subject: String, source: String)]? { nil }
}
