/// The library's errors name the setting they are about in backticks, as the library spells
/// it (`` `highPass` ``, `` `window` ``); the tool shows its users the flag that sets it.
enum SettingFlags {
    /// Setting name -> the flag of the same meaning (every command that has the setting spells
    /// its flag this way).
    static let flags: [String: String] = [
        "mask": "--mask", "resume": "--resume", "voxelPCA": "--voxel-pca", "maps": "--maps", "highPass": "--high-pass",
        "lowPass": "--low-pass", "filter": "--filter", "skipBIDSValidation": "--skip-bids-validation", "voxels": "--voxels",
        "testFraction": "--test-fraction", "radius": "--radius", "learningRate": "--lr", "clipNorm": "--clip-norm",
        "window": "--window", "solverStep": "--solver-step", "repetitionTime": "--tr", "task": "--task", "solver": "--solver", "seed": "--seed",
        "noise": "--noise", "model": "--model", "hcp": "--hcp", "grid": "--grid", "force": "--force",
        "fdThreshold": "--fd-threshold", "events": "--events", "dvarsThreshold": "--dvars-threshold",
        "dropInitial": "--drop-initial", "confounds": "--confounds", "bidsFilterFile": "--bids-filter-file", "atlas": "--atlas",
        "allowUnfinished": "--allow-unfinished", "allowOverlap": "--allow-overlap", "adjoint": "--adjoint", "out": "--out", "data": "--data", "shards": "--shards", "externalInputs": "--external-inputs",
        "confoundStrategy": "--confound-strategy", "folds": "--folds", "input": "--input", "exclude": "--exclude", "confoundColumns": "--confound-columns",
    ]

    /// `message` with every backticked setting the tool has a flag for replaced by that flag.
    static func rewrite(_ message: String) -> String {
        guard message.contains("`") else { return message }
        var result = "", rest = Substring(message)
        while let open = rest.firstIndex(of: "`") {
            result += rest[..<open]
            let after = rest[rest.index(after: open)...]
            guard let close = after.firstIndex(of: "`") else { result += rest[open...]; return result }
            let name = String(after[..<close])
            result += flags[name] ?? "`\(name)`"
            rest = after[after.index(after: close)...]
        }
        return result + rest
    }
}
