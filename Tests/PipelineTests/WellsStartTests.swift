import Foundation
import Model
import Pipeline
import Preprocessing
import XCTest

/// `fit --start wells`: the neural-level labels it reads the wells from.
final class WellsStartTests: XCTestCase {
    /// A 12 s block from 10 s at TR 1.35 covers the volumes whose onsets t * 1.35 lie in
    /// [10, 22): 8 to 16. The labels are undelayed (neural level) and follow the kept volumes.
    func testNeuralLabelsFollowTheEventsUndelayed() throws {
        var run = RunData(timeseries: SignalMatrix(timePoints: 20, columns: 2), repetitionTime: 1.35)
        run.volumes = Array(2..<22)
        run.events = [Event(onset: 10, duration: 12, condition: "left_hand"), Event(onset: 25, duration: 2, condition: "tongue")]
        let labels = try WellsStart.neuralLabels(of: run)
        XCTAssertEqual(labels.count, 20)
        let expected = (2..<22).map { volume -> String in
            if (8...16).contains(volume) { return "left_hand" }
            if (19...19).contains(volume) { return "tongue" }
            return "rest"
        }
        XCTAssertEqual(labels, expected)
    }

    func testRefusesARunWithoutEvents() {
        var run = RunData(timeseries: SignalMatrix(timePoints: 4, columns: 1), repetitionTime: 1)
        run.source = "sub-01_timeseries.tsv"
        XCTAssertThrowsError(try WellsStart.neuralLabels(of: run)) { error in
            XCTAssertTrue("\(error)".contains("sub-01_timeseries.tsv") && "\(error)".contains("events"), "\(error)")
        }
    }

    func testWholeRunWindowIsTheShortestRun() throws {
        var long = RunData(timeseries: SignalMatrix(timePoints: 30, columns: 1), repetitionTime: 1)
        long.volumes = Array(0..<30)
        var short = long
        short.volumes = Array(3..<25)
        XCTAssertEqual(try WellsStart.wholeRunWindow([long, short]), 22)
    }
}
