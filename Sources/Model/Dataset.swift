import Core
import Foundation
import Preprocessing

/// One run of region (or voxel) timeseries with its BIDS entities and per-volume conditions.
public struct RunData: Sendable {
    public var subject = ""
    public var session = ""
    public var task = ""
    public var run = ""
    /// Where the timeseries came from (for messages).
    public var source = ""
    public var repetitionTime: Double
    /// Volumes x features, as read (not standardised).
    public var timeseries: SignalMatrix
    /// Original volume index of each row (rows may be censored volumes removed).
    public var volumes: [Int]
    /// Per-volume condition labels, when events are known.
    public var conditions: [String]?
    /// The features' names (region labels from the TSV header or the atlas), when known.
    public var featureNames: [String] = []
    /// Voxel mode: the grid and flat NIfTI indices of the voxel columns.
    public var voxelSpace: VoxelSpace?
    /// Known external inputs u(t) [volumes, U] (task regressors), for models that take them.
    public var inputs: SignalMatrix?
    /// The run's events, when known (the source of conditions and external inputs).
    public var events: [Event]?

    public init(timeseries: SignalMatrix, repetitionTime: Double) {
        self.timeseries = timeseries
        self.repetitionTime = repetitionTime
        volumes = Array(0..<timeseries.timePoints)
    }

    /// Each feature z-scored over the run (sample std; constant features left centred).
    public var standardized: SignalMatrix {
        var matrix = timeseries
        matrix.values.withUnsafeMutableBufferPointer { all in
            for column in 0..<matrix.columns {
                Standardization.zscore.apply(UnsafeMutableBufferPointer(rebasing: all[(column * matrix.timePoints)..<((column + 1) * matrix.timePoints)]))
            }
        }
        return matrix
    }

    /// Reads a region-timeseries TSV (as `fmridyn extract` writes: a header of region ids, one
    /// row per volume). Entities come from the file name (`sub-01_ses-1_task-motor_run-1_...`).
    /// With `hrfShift`, conditions label the BOLD response: events are delayed by the Glover
    /// HRF's peak time.
    public static func read(timeseries path: String, repetitionTime: Double, events: String? = nil, hrfShift: Bool = false) throws -> RunData {
        let table = try DelimitedTable(contentsOf: path)
        guard !table.rows.isEmpty else { throw TableError(path: path, "has no rows (volumes)") }
        var matrix = SignalMatrix(timePoints: table.rows.count, columns: table.header.count)
        for (t, row) in table.rows.enumerated() {
            for (c, cell) in row.enumerated() {
                guard let value = Double(cell), value.isFinite else {
                    throw TableError(path: path, row: t + 2, column: table.header[c], "\"\(cell)\" is not a finite number")
                }
                matrix[t, c] = value
            }
        }
        var data = RunData(timeseries: matrix, repetitionTime: repetitionTime)
        data.source = path
        data.featureNames = table.header
        let file = (path as NSString).lastPathComponent
        if let name = BIDSName(file) {
            data.subject = name["sub"] ?? ""
            data.session = name["ses"] ?? ""
            data.task = name["task"] ?? ""
            data.run = name["run"] ?? ""
        }
        if let events {
            data.events = try Event.read(contentsOf: events, runDuration: Double(matrix.timePoints) * repetitionTime)
            data.conditions = ConditionLabels.labels(events: data.events ?? [], volumes: matrix.timePoints,
                                                     repetitionTime: repetitionTime, shiftByHRFPeak: hrfShift ? .glover : nil)
        }
        return data
    }
}

/// Where voxel-mode columns sit in the image.
public struct VoxelSpace: Sendable, Equatable {
    public var grid: Grid
    public var indices: [Int]
    /// Grayordinates of a CIFTI input: the brain-models element of its XML (`grid` is then a
    /// placeholder and `indices` count the columns); nil for voxels of a volume.
    public var brainModels: String?

    public init(grid: Grid, indices: [Int], brainModels: String? = nil) {
        self.grid = grid
        self.indices = indices
        self.brainModels = brainModels
    }
}

/// Windows of W volumes with stride S over runs, split into training, validation and
/// (optionally) test by subject (by run when there is one subject, by window position when
/// there is one run).
public struct WindowDataset: Sendable {
    public struct Window: Sendable, Equatable {
        public let run: Int
        public let start: Int
    }

    /// The runs' entities, conditions and inputs. Their `timeseries` may be empty: the values
    /// training reads are in `store`.
    public let runs: [RunData]
    /// The standardised runs, in the order of `runs`.
    public let store: RunStore
    public let window: Int
    public private(set) var training: [Window] = []
    public private(set) var validation: [Window] = []
    /// Held-out windows never used for training or model selection (empty unless a test
    /// fraction was asked for).
    public private(set) var test: [Window] = []
    /// How the split was made (for the log).
    public private(set) var splitDescription = ""

    /// A hash of what the windows are made of: every run's source, length and width, and the
    /// split's window counts, so a resumed fit can tell that its inputs changed.
    public var fingerprint: String {
        var text = runs.map { "\($0.source)|\($0.subject)|\($0.run)|\($0.timeseries.timePoints)x\($0.timeseries.columns)" }.joined(separator: "\n")
        text += "\n\(training.count)/\(validation.count)/\(test.count)|\(splitDescription)"
        return CheckpointSet.hash(Data(text.utf8))
    }

    /// Windows of runs held in memory (each run standardised into an in-memory store).
    public init(runs: [RunData], window: Int, stride: Int, validationFraction: Double, testFraction: Double = 0, seed: UInt64) throws {
        guard !runs.isEmpty else { throw TrainingError("no input runs") }
        let features = runs[0].timeseries.columns
        for run in runs where run.timeseries.columns != features {
            throw TrainingError("\(run.source) has \(run.timeseries.columns) features but \(runs[0].source) has \(features); every run needs the same regions")
        }
        try self.init(runs: runs, store: RunStore(runs: runs.map(\.standardized)), window: window, stride: stride,
                      validationFraction: validationFraction, testFraction: testFraction, seed: seed)
    }

    /// Windows of runs whose standardised values are in `store` (one extent per run, in order);
    /// `runs` carry the metadata only.
    public init(runs: [RunData], store: RunStore, window: Int, stride: Int, validationFraction: Double, testFraction: Double = 0,
                seed: UInt64) throws {
        guard !runs.isEmpty, store.extents.count == runs.count else { throw TrainingError("no input runs") }
        let features = store.extents[0].columns
        for (run, extent) in zip(runs, store.extents) where extent.columns != features {
            throw TrainingError("\(run.source) has \(extent.columns) features but \(runs[0].source) has \(features); every run needs the same regions")
        }
        self.runs = runs
        self.store = store
        self.window = window
        var perRun: [[Window]] = []
        for (index, run) in runs.enumerated() {
            let count = store.extents[index].timePoints
            guard count >= window else {
                throw TrainingError("\(run.source) has \(count) volumes, fewer than the window of \(window); use `window` \(count) or less")
            }
            perRun.append(Swift.stride(from: 0, through: count - window, by: stride).map { Window(run: index, start: $0) })
        }
        var random = RandomSource(seed: seed ^ 0x5EED)
        let subjects = Array(Set(runs.map(\.subject))).sorted()
        // Held-out counts per unit (subject, run or window); the shuffled order's first units
        // validate and the next ones test, so adding a test split leaves validation unchanged.
        func heldCounts(_ units: Int) -> (validation: Int, test: Int) {
            let validation = max(1, Int((Double(units) * validationFraction).rounded()))
            let test = testFraction > 0 ? max(1, Int((Double(units) * testFraction).rounded())) : 0
            return (validation, test)
        }
        if subjects.count >= 2 {
            var shuffled = subjects
            shuffled.shuffle(using: &random)
            let counts = heldCounts(subjects.count)
            guard counts.validation + counts.test < subjects.count else {
                throw TrainingError("\(subjects.count) subjects cannot give \(counts.validation) validation and \(counts.test) test subjects and still train; lower `testFraction` or add subjects")
            }
            let held = Set(shuffled.prefix(counts.validation))
            let tested = Set(shuffled.dropFirst(counts.validation).prefix(counts.test))
            for (index, windows) in perRun.enumerated() {
                let subject = runs[index].subject
                if held.contains(subject) { validation += windows } else if tested.contains(subject) { test += windows } else { training += windows }
            }
            splitDescription = "by subject: validation \(held.sorted().joined(separator: ", "))"
            if !tested.isEmpty { splitDescription += "; test \(tested.sorted().joined(separator: ", "))" }
        } else if runs.count >= 2 {
            var order = Array(runs.indices)
            order.shuffle(using: &random)
            let counts = heldCounts(runs.count)
            guard counts.validation + counts.test < runs.count else {
                throw TrainingError("\(runs.count) runs of one subject cannot give \(counts.validation) validation and \(counts.test) test runs and still train; lower `testFraction` or add runs")
            }
            let held = Set(order.prefix(counts.validation))
            let tested = Set(order.dropFirst(counts.validation).prefix(counts.test))
            for (index, windows) in perRun.enumerated() {
                if held.contains(index) { validation += windows } else if tested.contains(index) { test += windows } else { training += windows }
            }
            splitDescription = "by run (one subject): validation runs \(held.sorted().map { runs[$0].source }.joined(separator: ", "))"
            if !tested.isEmpty { splitDescription += "; test runs \(tested.sorted().map { runs[$0].source }.joined(separator: ", "))" }
        } else {
            let windows = perRun[0]
            let counts = heldCounts(windows.count)
            let cut = max(1, windows.count - counts.validation - counts.test)
            training = Array(windows.prefix(cut))
            validation = Array(windows.dropFirst(cut).prefix(counts.validation))
            test = Array(windows.dropFirst(cut + counts.validation))
            splitDescription = "by time (one run): the last \(validation.count + test.count) windows are held out"
            if !test.isEmpty { splitDescription += " (\(validation.count) validate, the final \(test.count) test)" } else { splitDescription = "by time (one run): the last \(validation.count) windows validate" }
        }
        guard !training.isEmpty else { throw TrainingError("no training windows after the split; add runs or subjects") }
    }

    /// The external inputs of the windows [B, W, U] (as given, not standardised), or nil when the
    /// runs have none.
    public func inputBatch<Scalar: TensorScalar>(_ windows: [Window]) -> Tensor<Scalar>? {
        guard let channels = runs.first?.inputs?.columns, runs.allSatisfy({ $0.inputs?.columns == channels }) else { return nil }
        var values = [Scalar]()
        values.reserveCapacity(windows.count * window * channels)
        for w in windows {
            guard let inputs = runs[w.run].inputs else { continue }
            for t in w.start..<(w.start + window) { for c in 0..<channels { values.append(Scalar(inputs[t, c])) } }
        }
        return Tensor(shape: [windows.count, window, channels], scalars: values)
    }

    /// A batch [B, W, R] of standardised windows.
    public func batch<Scalar: TensorScalar>(_ windows: [Window]) throws -> Tensor<Scalar> {
        let features = store.extents[0].columns, block = window * features
        var rows = [Float](repeating: 0, count: windows.count * block)
        try rows.withUnsafeMutableBufferPointer { target in
            guard let base = target.baseAddress else { return }
            for (index, w) in windows.enumerated() { try store.read(run: w.run, start: w.start, count: window, into: base + index * block) }
        }
        let values = rows as? [Scalar] ?? rows.map { Scalar($0) }  // no copy for Float
        return Tensor(shape: [windows.count, window, features], scalars: values)
    }
}

/// A training problem, with the fix in the message.
public struct TrainingError: Error, CustomStringConvertible, Equatable, Sendable {
    /// What a caller may act on without reading the message.
    public enum Reason: Sendable, Equatable {
        case other
        /// `resume` found a directory started with other model or batch settings.
        case settingsChanged
        /// `resume` found a directory started on other inputs.
        case inputsChanged
    }

    public let message: String
    public let reason: Reason
    public init(_ message: String, reason: Reason = .other) {
        self.message = message
        self.reason = reason
    }
    public var description: String { message }
}

extension SignalMatrix {
    /// The matrix as a Float32 tensor [T, C] (row-major), the models' input layout.
    public var floatTensor: Tensor<Float> {
        Tensor(shape: [timePoints, columns], scalars: (0..<timePoints).flatMap { t in (0..<columns).map { Float(self[t, $0]) } })
    }
}

/// Task regressors as external inputs u(t): one channel per condition at each kept volume. At
/// the BOLD level (latents read out volume by volume) they are the events' boxcars convolved
/// with the Glover HRF (nilearn's design-matrix columns); at the neural level (a model with an
/// observation kernel, whose latents the decoder convolves) they are the boxcars themselves, so
/// the input drives the state in the same time as the events.
public enum ExternalInputs {
    /// The inputs a model of `configuration` takes: neural-level boxcars when its latents are
    /// at the neural level, HRF-convolved regressors otherwise.
    public static func attach(_ runs: inout [RunData], for configuration: SVAEConfiguration) throws {
        guard let names = configuration.externalInputs, !names.isEmpty else { return }
        try attach(&runs, names: names, convolved: configuration.observationKernel == nil)
    }

    /// The conditions of every run's events, sorted.
    public static func names(_ runs: [RunData]) -> [String] {
        Array(Set(runs.flatMap { ($0.events ?? []).map(\.condition) })).sorted()
    }

    /// Sets `inputs` of every run to the regressors of `names` (a condition a run lacks is zero).
    public static func attach(_ runs: inout [RunData], names: [String], convolved: Bool = true) throws {
        for index in runs.indices {
            guard let events = runs[index].events else {
                throw TrainingError("\(runs[index].source) has no events: external inputs need the events of every run (`events`, a manifest events column, or BIDS events.tsv)")
            }
            let run = runs[index]
            let total = (run.volumes.last ?? -1) + 1
            let design = DesignMatrix(events: events, volumes: total, repetitionTime: run.repetitionTime, hrf: convolved ? .glover : nil)
            var inputs = SignalMatrix(timePoints: run.volumes.count, columns: names.count)
            for (column, name) in names.enumerated() {
                guard let source = design.conditions.firstIndex(of: name) else { continue }
                for (row, volume) in run.volumes.enumerated() { inputs[row, column] = design.regressors[volume, source] }
            }
            runs[index].inputs = inputs
        }
    }
}
