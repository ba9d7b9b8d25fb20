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
}

extension RunSource {
    /// Every run's subject label, in input order.
    public func runSubjects() throws -> [String] { try runEntities("sub") }
}
