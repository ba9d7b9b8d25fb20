import Preprocessing

/// What ranks tell each other about the runs they read: a run's entities, labels and shape,
/// without its values (`RunData` with an empty timeseries, as a run cache keeps it).
public struct RunMetadata: Codable, Equatable, Sendable {
    /// The run's position in the input order.
    public var index: Int
    public var subject: String, session: String, task: String, run: String
    public var source: String
    public var repetitionTime: Double
    public var timePoints: Int
    public var columns: Int
    public var volumes: [Int]
    public var conditions: [String]?
    public var featureNames: [String]

    /// `run`'s metadata; `shape` is its (volumes, features) when its timeseries was already
    /// emptied into a run cache.
    public init(index: Int, run: RunData, shape: (timePoints: Int, columns: Int)) {
        self.index = index
        subject = run.subject
        session = run.session
        task = run.task
        self.run = run.run
        source = run.source
        repetitionTime = run.repetitionTime
        timePoints = shape.timePoints
        columns = shape.columns
        volumes = run.volumes
        conditions = run.conditions
        featureNames = run.featureNames
    }

    /// The run as a value-less `RunData` (its timeseries empty, as after `RunStore.collect`).
    public var runData: RunData {
        var data = RunData(timeseries: SignalMatrix(timePoints: 0, columns: 0, values: []), repetitionTime: repetitionTime)
        data.subject = subject
        data.session = session
        data.task = task
        data.run = run
        data.source = source
        data.volumes = volumes
        data.conditions = conditions
        data.featureNames = featureNames
        return data
    }
}
