import Foundation

/// The events of a run as per-volume tables, as `fmridyn events` writes them: a `volume` and a
/// `time_s` column (t x TR), then either the design matrix's regressors or each volume's label.
public enum EventTables {
    /// Writes the design matrix of `events` (HRF-convolved unless `hrf` is nil) to `path`.
    public static func writeDesign(_ events: [Event], volumes: Int, repetitionTime: Double, hrf: HemodynamicResponse?, to path: String) throws {
        let design = DesignMatrix(events: events, volumes: volumes, repetitionTime: repetitionTime, hrf: hrf)
        try OutputFiles.writeTSV(design.regressors, columns: design.conditions, to: path,
                                 leadingColumns: [("volume", volumeColumn(volumes)), ("time_s", timeColumn(volumes, repetitionTime))])
    }

    /// Writes each volume's condition (`ConditionLabels`, delayed by `shiftByHRFPeak`'s peak) to `path`.
    public static func writeLabels(_ events: [Event], volumes: Int, repetitionTime: Double, shiftByHRFPeak: HemodynamicResponse?, to path: String) throws {
        let names = ConditionLabels.labels(events: events, volumes: volumes, repetitionTime: repetitionTime, shiftByHRFPeak: shiftByHRFPeak)
        let (volume, time) = (volumeColumn(volumes), timeColumn(volumes, repetitionTime))
        let text = "volume\ttime_s\tcondition\n" + (0..<volumes).map { "\(volume[$0])\t\(time[$0])\t\(names[$0])" }.joined(separator: "\n") + "\n"
        try OutputFiles.write(Data(text.utf8), to: path)
    }

    static func volumeColumn(_ volumes: Int) -> [String] { (0..<volumes).map(String.init) }
    static func timeColumn(_ volumes: Int, _ repetitionTime: Double) -> [String] { (0..<volumes).map { String(Double($0) * repetitionTime) } }
}
