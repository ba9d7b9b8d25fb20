import Core
import Federation
import Foundation
import Model

/// `fit` across ranks: with shards (each step adds one part per shard in a fixed order, so the
/// model does not depend on the number of ranks) or federated (each rank one site that sends
/// parameters, never data). Every rank reads only its own subjects' runs and takes the same
/// steps; rank 0 alone writes the model folder and reports.
public struct ShardedFit: Sendable {
    /// The model folder (rank 0 writes it).
    public var directory: String
    /// Where each rank's run cache goes (the model folder or a scratch folder).
    public var cacheDirectory: String
    /// Shards the subjects are dealt to (at least one per rank); a federated fit has one site per rank.
    public var shardCount: Int
    /// Each rank is one site of this federation (nil: one sharded model).
    public var federation: FederatedConfiguration?
    /// Deal sites by session rather than subject (federated only).
    public var sitesBySession = false
    public var resume = false
    public var splitSeed: UInt64 = 1
    public var testFraction: Double = 0
    public var version = FMRIDynVersion.current

    public init(directory: String, cacheDirectory: String, shardCount: Int, federation: FederatedConfiguration? = nil) {
        self.directory = directory
        self.cacheDirectory = cacheDirectory
        self.shardCount = shardCount
        self.federation = federation
    }

    /// What rank 0 reports of the fit.
    public enum Outcome: Sendable {
        /// One sharded model in `directory`.
        case model
        /// The federation's record (also written as `federated.json`), with the number of sites.
        case federated(FederatedRecord, sites: Int)
    }

    /// How the ranks report: `info` lines (rank 0), `progress` lines (rank 0 unless quiet),
    /// `report` prints the error every rank shares once (rank 0) and returns the exit status,
    /// `describe` words an error only one rank has.
    public struct Reporting {
        public var info: (String) -> Void
        public var progress: ((String) -> Void)?
        public var report: (Error) -> Int32
        public var describe: (Error) -> String

        public init(info: @escaping (String) -> Void, progress: ((String) -> Void)?, report: @escaping (Error) -> Int32,
                    describe: @escaping (Error) -> String) {
            self.info = info
            self.progress = progress
            self.report = report
            self.describe = describe
        }
    }

    /// Runs the fit on every rank of `group`. `preflight` checks the settings (on every rank,
    /// so all fail together), `claim` locks the model folder (rank 0) and `configurations`
    /// builds the model for the inputs' feature count and repetition time. Returns rank 0's
    /// outcome (nil on the other ranks). An error ends every rank: a shared one after rank 0
    /// has reported it, one rank's own by aborting the job; the process then exits.
    public func run(on group: ProcessGroup, source: some RunSource, preflight: () throws -> Void, claim: () throws -> OutputClaim,
                    configurations: (_ features: Int, _ repetitionTime: Double) -> (SVAEConfiguration, TrainingConfiguration),
                    reporting: Reporting) throws -> Outcome? {
        let communicator = group.communicator
        let leader = communicator.isLeader
        let say: (String) -> Void = { line in if leader { reporting.progress?(line) } }
        // The trainers print only where lines are shown at all.
        let trainerProgress = leader && reporting.progress != nil ? say : nil
        do {
            try communicator.agree {
                try preflight()
                if shardCount < communicator.size {
                    throw PipelineError("`shards` \(shardCount) is fewer than the \(communicator.size) ranks; give at least one shard per rank")
                }
            }
            let lock = try communicator.agree { leader ? try claim() : nil }
            defer { lock?.release() }
            let bySession = federation != nil && sitesBySession
            // Run labels from the input list alone (nothing read yet): subjects, and sessions for session sites.
            let subjects = try communicator.agree { try source.runSubjects() }
            let labels = bySession ? try communicator.agree { try source.runEntities("ses") } : subjects
            if bySession && Set(labels).count < communicator.size {
                throw PipelineError("session sites need at least \(communicator.size) distinct sessions for \(communicator.size) ranks; the inputs have \(Set(labels).count)")
            }
            let shardOfRun = WindowDataset.shards(groups: labels, count: shardCount)
            let (runs, store) = try ShardedRuns.load(source, subjects: subjects, shardOfRun: shardOfRun, communicator: communicator,
                                                     cacheDirectory: cacheDirectory, say: say)
            guard let features = store.extents.first?.columns else { throw PipelineError("no runs were read from the inputs", kind: .input) }
            var (model, training) = configurations(features, runs.first?.repetitionTime ?? 1)
            training.shards = shardCount
            let data = try communicator.agree {
                try WindowDataset(runs: runs, store: store, window: model.window, stride: model.stride, validationFraction: training.validationFraction,
                                  testFraction: testFraction, seed: splitSeed)
            }
            if leader {
                reporting.info("\(runs.count) runs, \(model.observations) features; \(data.training.count) training, \(data.validation.count) validation and \(data.test.count) test windows (\(data.splitDescription)); \(shardCount) shards on \(communicator.size) ranks")
            }
            let outcome: Outcome
            if let federation {
                var trainer = FederatedTrainer(directory: directory, model: model, training: training, federation: federation, communicator: communicator)
                trainer.version = version
                trainer.progress = trainerProgress
                outcome = .federated(try trainer.fit(data, siteOfRun: shardOfRun), sites: communicator.size)
            } else {
                try trainSharded(communicator, model: model, training: training, data: data, progress: trainerProgress, info: reporting.info)
                outcome = .model
            }
            try communicator.barrier()
            group.finish()
            return leader ? outcome : nil
        } catch let failure as GroupFailure {
            // Every rank knows: the failing rank's own error is reported by rank 0 (once), and no
            // rank exits before it is written (mpirun ends the whole job at the first non-zero exit).
            var code: Int32 = 1
            if leader {
                if let underlying = failure.underlying { code = reporting.report(underlying) }
                else { FileHandle.standardError.write(Data("error: \(failure)\n".utf8)) }
            }
            try? communicator.barrier()
            group.finish()
            Foundation.exit(code)
        } catch {
            guard communicator.size > 1 else {
                group.finish()
                throw error
            }
            // Only this rank knows: report it and end every rank (no rank waits forever).
            FileHandle.standardError.write(Data("error (rank \(communicator.rank) of \(communicator.size)): \(reporting.describe(error))\n".utf8))
            communicator.abort(code: 1)
        }
    }

    func trainSharded(_ communicator: any Communicator, model: SVAEConfiguration, training: TrainingConfiguration, data: WindowDataset,
                      progress: ((String) -> Void)?, info: (String) -> Void) throws {
        var trainer = Trainer(directory: directory, model: model, training: training)
        trainer.communicator = communicator
        trainer.version = version
        trainer.progress = progress
        let timings = StepTimings()
        trainer.timings = timings
        let log = try trainer.fit(data, resume: resume)
        let test = try trainer.evaluateTest(data)
        guard communicator.isLeader else { return }
        FitPlan.summaryLines(directory: directory, log: log, testELBO: test, testWindows: data.test.count).forEach(info)
        let time = timings.summary
        info("\(time.steps) sharded steps on \(communicator.size) ranks: \(String(format: "%.2f", 1000 * time.secondsPerStep)) ms per step, waiting for the slowest rank \(String(format: "%.1f", 100 * time.waitShare))% of it, gradient exchange \(String(format: "%.1f", 100 * time.exchangeShare))%, \(Int(time.bytesPerStep)) bytes sent per step by rank 0")
    }
}
