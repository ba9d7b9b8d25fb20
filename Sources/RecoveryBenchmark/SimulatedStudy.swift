import Foundation
import Model
import Preprocessing
import Simulation

/// A simulated dataset, extracted as the demo extracts it, with its ground truth per run.
public struct SimulatedStudy: Sendable {
    public var cell: RecoveryCell
    public var system: LatentSystem
    public var runs: [RunData]
    /// Per run, per kept volume: the neural-level and the HRF-convolved true latents.
    public var neural: [[[Double]]]
    public var bold: [[[Double]]]
    /// Per run, per kept volume: the condition with labels delayed by the Glover peak (the BOLD
    /// response's condition) and undelayed (the neural state's condition); "rest" between blocks.
    public var boldLabels: [[String]]
    public var neuralLabels: [[String]]
    public var repetitionTime: Double
    /// Per run, per kept volume: the confounds models may take as decoder covariates
    /// (`confoundNames`), from the simulator's fMRIPrep-style confounds file.
    public var confounds: [[[Double]]] = []

    /// Motion (six parameters) and the global signal.
    public static let confoundNames = ["trans_x", "trans_y", "trans_z", "rot_x", "rot_y", "rot_z", "global_signal"]

    /// The benchmark's data: 4 subjects x 2 runs x 240 volumes on the 4 mm grid (the demo's
    /// shape), Power-264 spheres of 6 mm, linear detrend and z-score, no confound regression.
    ///
    /// Measured with a ridge read-out of the regions (leave-one-subject-out, against the true
    /// HRF-convolved latents; docs/recovery.md): on noise-free data z-scoring alone leaves
    /// R^2 0.98, detrending 0.90, the demo's former cleaning (0.01 Hz high-pass, motion6 and
    /// global-signal confounds) 0.39; at the default noise, detrending leaves 0.86 and adding
    /// the motion6 regressors 0.52. The simulated motion is a slow random walk, so regressing
    /// it out removes the slow latent signal by chance correlation; the global signal carries
    /// the task; a high-pass removes the dwell in an attractor that fixed points are made of.
    /// The motion that leaks into the voxels stays in the data as structured nuisance.
    public static func make(_ cell: RecoveryCell, directory: String, subjects: Int = 4, volumes: Int = 240) throws -> SimulatedStudy {
        var options = SimulationOptions()
        options.subjects = subjects
        options.runs = 2
        options.volumes = volumes
        options.grid = 4
        options.seed = cell.seed
        options.noise = cell.noise
        options.nuisance = cell.nuisance
        options.system = cell.system
        options.latentDimension = cell.latentDimension
        _ = try Simulator(options: options).run(into: directory)
        let system = LatentSystem(kind: cell.system, dimension: cell.latentDimension, seed: cell.seed)
        let layout = try BIDSLayout(root: directory)
        var study = SimulatedStudy(cell: cell, system: system, runs: [], neural: [], bold: [], boldLabels: [], neuralLabels: [],
                                   repetitionTime: options.repetitionTime)
        let k = system.dimension
        for bidsRun in layout.runs {
            var request = ExtractionRequest(bold: bidsRun.bold, regions: .coordinates("power264", radius: 6, allowOverlap: true))
            request.cleaning = CleaningOptions(detrend: true, standardize: .zscore)
            let result = try request.run()
            var run = RunData(timeseries: result.signals, repetitionTime: options.repetitionTime)
            run.volumes = result.keptVolumes
            run.featureNames = result.names
            run.subject = bidsRun.subject
            run.run = bidsRun.name["run"] ?? ""
            run.task = "motor"
            run.source = bidsRun.bold
            let events = try Event.read(contentsOf: bidsRun.events ?? "")
            run.events = events
            let shifted = ConditionLabels.labels(events: events, volumes: volumes, repetitionTime: options.repetitionTime, shiftByHRFPeak: .glover)
            let unshifted = ConditionLabels.labels(events: events, volumes: volumes, repetitionTime: options.repetitionTime)
            run.conditions = run.volumes.map { shifted[$0] }
            let truthFile = directory + "/ground_truth/" + (bidsRun.bold as NSString).lastPathComponent.replacingOccurrences(of: "_bold.nii.gz", with: "_latents.tsv")
            let table = try DelimitedTable(contentsOf: truthFile)
            let neuralColumns = try (1...k).map { try table.numericColumn("z\($0)") }
            let boldColumns = try (1...k).map { try table.numericColumn("bold_z\($0)") }
            study.neural.append(run.volumes.map { v in neuralColumns.map { $0[v] } })
            study.bold.append(run.volumes.map { v in boldColumns.map { $0[v] } })
            study.boldLabels.append(run.volumes.map { shifted[$0] })
            study.neuralLabels.append(run.volumes.map { unshifted[$0] })
            guard let confoundsFile = bidsRun.confounds else { throw TableError(path: bidsRun.bold, "has no confounds file") }
            let confounds = try DelimitedTable(contentsOf: confoundsFile)
            let confoundColumns = try Self.confoundNames.map { try confounds.numericColumn($0) }
            study.confounds.append(run.volumes.map { v in confoundColumns.map { $0[v] } })
            study.runs.append(run)
        }
        return study
    }

    /// Each run's standardised rows [T][R].
    public var standardizedRows: [[[Double]]] { runs.map { $0.standardized.rows } }

    /// The runs with the confounds appended as covariate columns after the regions.
    public var runsWithConfounds: [RunData] {
        zip(runs, confounds).map { run, confounds in
            var joined = run
            let (t, r, q) = (run.timeseries.timePoints, run.timeseries.columns, Self.confoundNames.count)
            var matrix = SignalMatrix(timePoints: t, columns: r + q)
            for row in 0..<t {
                for c in 0..<r { matrix[row, c] = run.timeseries[row, c] }
                for c in 0..<q { matrix[row, r + c] = confounds[row][c] }
            }
            joined.timeseries = matrix
            joined.featureNames = run.featureNames + Self.confoundNames
            return joined
        }
    }
}
