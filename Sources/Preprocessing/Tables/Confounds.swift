/// Nuisance regressors from an fMRIPrep `desc-confounds_timeseries.tsv`.
///
/// `n/a` in the first row (derivatives have no predecessor) is replaced by the second row's
/// value, as nilearn's `load_confounds` does; `n/a` anywhere else is an error.
public struct ConfoundsTable: Sendable {
    public let table: DelimitedTable
    public var path: String { table.path }
    public var volumeCount: Int { table.rows.count }

    public init(contentsOf path: String) throws {
        table = try DelimitedTable(contentsOf: path)
    }

    /// Named presets, as `--confound-strategy` accepts them.
    public enum Preset: String, CaseIterable, Sendable {
        /// 6 rigid-body motion parameters.
        case motion6
        /// motion6 with derivatives, squares and squared derivatives (Friston 24).
        case motion24
        /// Mean white-matter and CSF signals.
        case wmCSF = "wm_csf"
        /// Global signal.
        case global
        /// The first five anatomical CompCor components.
        case compcor
        /// Not regressors: censors volumes with FD > 0.5 mm or std-DVARS > 1.5 (see `censorMask`).
        case scrub
    }

    static let motion = ["trans_x", "trans_y", "trans_z", "rot_x", "rot_y", "rot_z"]

    /// Column names a preset selects in this file.
    public func columns(for preset: Preset) throws -> [String] {
        switch preset {
        case .motion6: return Self.motion
        case .motion24:
            return Self.motion + Self.motion.map { $0 + "_derivative1" } + Self.motion.map { $0 + "_power2" }
                + Self.motion.map { $0 + "_derivative1_power2" }
        case .wmCSF: return ["white_matter", "csf"]
        case .global: return ["global_signal"]
        case .compcor:
            let components = table.header.filter { $0.hasPrefix("a_comp_cor_") }.sorted().prefix(5)
            guard !components.isEmpty else {
                throw TableError(path: path, column: "a_comp_cor_*", "no anatomical CompCor columns; this preset needs fMRIPrep's a_comp_cor_NN columns")
            }
            return Array(components)
        case .scrub: return []
        }
    }

    /// The selected columns as a volumes x columns matrix, first-row n/a filled from row two.
    public func matrix(columns names: [String]) throws -> SignalMatrix {
        var matrix = SignalMatrix(timePoints: volumeCount, columns: names.count)
        for (index, name) in names.enumerated() {
            var values = try table.numericColumn(name)
            if values.count > 1, values[0].isNaN { values[0] = values[1] }
            if let row = values.firstIndex(where: { !$0.isFinite }) {
                throw TableError(path: path, row: row + 2, column: name, "is n/a or not finite after the first row; fMRIPrep leaves n/a only in the first row of derivatives")
            }
            for t in 0..<volumeCount { matrix[t, index] = values[t] }
        }
        return matrix
    }

    /// Volumes to keep (true) given motion thresholds: FD in mm, std-DVARS as a z value.
    /// The first volume's n/a FD/DVARS never censors it.
    public func censorMask(framewiseDisplacement: Double?, standardizedDVARS: Double?) throws -> [Bool] {
        var keep = [Bool](repeating: true, count: volumeCount)
        if let limit = framewiseDisplacement {
            for (t, value) in try table.numericColumn("framewise_displacement").enumerated() where value > limit { keep[t] = false }
        }
        if let limit = standardizedDVARS {
            for (t, value) in try table.numericColumn("std_dvars").enumerated() where value > limit { keep[t] = false }
        }
        return keep
    }

    /// Leading non-steady-state volumes flagged by fMRIPrep's `non_steady_state_outlierNN`
    /// one-hot columns (the number of initial volumes to drop).
    public func nonSteadyStateVolumes() throws -> Int {
        var flagged = Set<Int>()
        for name in table.header where name.hasPrefix("non_steady_state_outlier") {
            for (t, value) in try table.numericColumn(name).enumerated() where value == 1 { flagged.insert(t) }
        }
        var count = 0
        while flagged.contains(count) { count += 1 }
        return count
    }
}
