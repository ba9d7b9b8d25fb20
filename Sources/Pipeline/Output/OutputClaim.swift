import Core
import Foundation
import Model

/// An output folder held by one writer (`.fmridyn.lock`) until `release`: a second `fit` or
/// BIDS App group run into the same folder fails at once with the holder's process id.
public struct OutputClaim: @unchecked Sendable {
    let lock: DirectoryLock

    /// Locks `directory` for `purpose` (named in the error another writer gets).
    public static func lock(_ directory: String, purpose: String) throws -> OutputClaim {
        OutputClaim(lock: try DirectoryLock.acquire(directory, purpose: purpose))
    }

    /// Locks a fit's `directory`; when one of `models` already holds a fitted model, it is
    /// kept for `resume`, removed with `replace`, and otherwise the claim fails (a usage error
    /// naming the folder and both ways out).
    public static func fit(_ directory: String, models: [String], resume: Bool, replace: Bool) throws -> OutputClaim {
        let claim = try lock(directory, purpose: "fit")
        let existing = models.map(ModelDirectory.init).filter(\.holdsModel)
        if !existing.isEmpty && !resume {
            guard replace else {
                claim.release()
                throw PipelineError("\(existing[0].path) already holds a fitted model (config.json); pass `resume` to continue it, `force` to replace it, or choose another `out`.")
            }
            for model in existing { model.removeModelFiles() }
        }
        return claim
    }

    public func release() { lock.release() }
}

/// Folders a fit writes while it runs: a scratch folder (`--work-dir`) and the run cache in it.
public enum WorkFolder {
    /// Creates `directory` and removes what dead fmridyn processes left in it (their run
    /// caches and half-written temporaries).
    public static func prepare(_ directory: String) throws {
        try OutputDirectory.create(directory)
        DirectoryLock.removeStaleTemporaries(in: directory)
    }

    /// Creates `output` (and prepares `scratch`, when given) and returns this process's run
    /// cache file (`RunStore`), in `scratch` or else in `output`.
    public static func runCache(output: String, scratch: String?) throws -> String {
        try OutputDirectory.create(output)
        if let scratch { try prepare(scratch) }
        return runCachePath(in: scratch ?? output)
    }

    /// The run cache of this process in `directory` (a dot file with the process id).
    public static func runCachePath(in directory: String) -> String {
        directory + "/.fmridyn-runs-\(ProcessInfo.processInfo.processIdentifier).f32"
    }
}
