@testable import Analysis
import Foundation
@testable import Model
import Preprocessing
import RecoveryBenchmark
import Simulation
import XCTest

/// The demo's recovery scores on latents that are the truth itself: every alignment is exact.
final class DemoRecoveryTests: XCTestCase {
    func testLatentsEqualToTheTruthRecoverItExactly() throws {
        let system = LatentSystem(dimension: 2, seed: 3)
        let directory = NSTemporaryDirectory() + "demo-recovery-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var files: [String] = [], runs: [RunData] = [], trajectories: [LatentTrajectory] = []
        for subject in 0..<3 {
            // Truth: a smooth path per run; its BOLD-level copy is the same path (an affine map of it).
            let path = (0..<40).map { t -> [Double] in
                let phase = Double(t) / 6 + Double(subject)
                return [sin(phase) * 1.2, cos(1.3 * phase) * 0.8]
            }
            var text = "z1\tz2\tbold_z1\tbold_z2\n"
            for z in path { text += "\(z[0])\t\(z[1])\t\(z[0])\t\(z[1])\n" }
            let file = directory + "/sub-\(subject)_latents.tsv"
            try Data(text.utf8).write(to: URL(fileURLWithPath: file))
            files.append(file)
            // Regions: a noisy mixture of the path, so PCA and the regions also fit (not exactly).
            var values: [Double] = []
            for column in 0..<3 {
                for (t, z) in path.enumerated() { values.append(z[0] * Double(column + 1) - z[1] + 0.1 * sin(Double(7 * t + column))) }
            }
            var run = RunData(timeseries: SignalMatrix(timePoints: 40, columns: 3, values: values), repetitionTime: 1)
            run.subject = "\(subject)"
            runs.append(run)
            trajectories.append(LatentTrajectory(subject: run.subject, session: "", task: "motor", run: "", volumes: Array(0..<40), repetitionTime: 1,
                                                 conditions: nil, values: path.map { $0.map(Float.init) }))
        }
        let stable = system.fixedPoints.filter { $0.kind == "stable" }
        let found = FixedPoint(z: stable[0].point, q: 0, eigenvalues: [], classification: "stable", count: 1)
        let recovery = try DemoRecovery(truthFiles: files, runs: runs, trajectories: trajectories, fixedPoints: [found], system: system)
        XCTAssertEqual(recovery.latentR2, 1, accuracy: 1e-6)
        XCTAssertEqual(recovery.model.neural, 1, accuracy: 1e-6)
        XCTAssertEqual(recovery.model.bold, 1, accuracy: 1e-6)
        XCTAssertLessThan(recovery.pca.bold, 1 - 1e-6, "PCA of noisy regions is not the truth")
        XCTAssertEqual(recovery.fixedPointError, 0, accuracy: 1e-5)
        XCTAssertEqual(recovery.trueStable, stable.count)
        XCTAssertEqual(try XCTUnwrap(recovery.fixedPoints.precision), 1)
        XCTAssertEqual(try XCTUnwrap(recovery.fixedPoints.recall), 1 / Double(stable.count), accuracy: 1e-12)
    }
}
