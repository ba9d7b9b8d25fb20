import Core
import Foundation
import NIfTI
import Preprocessing
import TestSupport
import XCTest

@testable import Simulation

final class SimulatorTests: XCTestCase {
    func testGroundTruthFixedPointsAreFixedAndClassified() {
        let system = LatentSystem(dimension: 3, seed: 1)
        let points = system.fixedPoints
        XCTAssertEqual(points.count, 27)
        for (point, eigenvalues, kind) in points {
            XCTAssertEqual(system.drift(point, condition: nil).map(abs).max() ?? 1, 0, accuracy: 1e-15)
            // Finite-difference Jacobian diagonal equals the stated eigenvalues.
            for i in 0..<3 {
                var plus = point, minus = point
                plus[i] += 1e-6; minus[i] -= 1e-6
                XCTAssertEqual((system.drift(plus, condition: nil)[i] - system.drift(minus, condition: nil)[i]) / 2e-6, eigenvalues[i], accuracy: 1e-6)
            }
            let expected = point.allSatisfy { abs($0) == 1 } ? "stable" : (point.allSatisfy { $0 == 0 } ? "unstable" : "saddle")
            XCTAssertEqual(kind, expected)
        }
        XCTAssertEqual(points.filter { $0.kind == "stable" }.count, 8)
        XCTAssertEqual(Set(system.inputs.values).count, 5, "each condition pushes toward its own corner")
    }

    func testTaskInputDrivesTheStateToItsCorner() {
        let system = LatentSystem(dimension: 4, seed: 2)
        var random = RandomSource(seed: 3)
        let target = system.inputs["tongue"] ?? []
        let path = system.integrate(from: [0, 0, 0, 0], sampleTimes: [10], condition: { _ in ("tongue", 0) }, random: &random)
        for (value, sign) in zip(path[0], target) { XCTAssertGreaterThan(value * sign, 0.8) }
    }

    func testDatasetIsValidBIDSWithGroundTruth() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var options = SimulationOptions()
        options.subjects = 2
        options.runs = 1
        options.volumes = 30
        options.grid = 4
        options.repetitionTime = 2
        let result = try Simulator(options: options).run(into: directory.path)
        XCTAssertEqual(result.boldFiles.count, 2)
        let layout = try BIDSLayout(root: directory.path)
        XCTAssertEqual(layout.runs.count, 2)
        let run = layout.runs[0]
        XCTAssertEqual(run.repetitionTime, 2)
        XCTAssertNotNil(run.events)
        XCTAssertNotNil(run.confounds, "fMRIPrep-style confounds under derivatives/")
        let image = try NIfTIImage(contentsOf: run.bold)
        XCTAssertEqual(image.shape, result.grid.shape + [30])
        XCTAssertEqual(image.header.repetitionTime, 2)
        XCTAssertEqual(image.header.sformCode, 4, "MNI space")
        let confounds = try ConfoundsTable(contentsOf: run.confounds ?? "")
        XCTAssertEqual(confounds.volumeCount, 30)
        XCTAssertEqual(try confounds.matrix(columns: try confounds.columns(for: .motion6)).columns, 6)
        let truth = try DelimitedTable(contentsOf: directory.path + "/ground_truth/sub-01_task-motor_run-1_latents.tsv")
        XCTAssertEqual(truth.header, ["volume", "time_s", "condition", "z1", "z2", "z3", "z4", "bold_z1", "bold_z2", "bold_z3", "bold_z4"])
        XCTAssertEqual(truth.rows.count, 30)
        let fixedPoints = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: directory.path + "/ground_truth/fixed_points.json"))) as? [String: Any])
        XCTAssertEqual((fixedPoints["fixed_points"] as? [Any])?.count, 81)
        XCTAssertTrue(FileManager.default.fileExists(atPath: directory.path + "/ground_truth/sub-02_map-z4.nii.gz"))
        // Same seed, same data.
        let again = try TemporaryDirectory()
        defer { again.remove() }
        _ = try Simulator(options: options).run(into: again.path)
        let first: [Float] = try NIfTIImage(contentsOf: result.boldFiles[0]).readAll()
        let second: [Float] = try NIfTIImage(contentsOf: again.path + "/sub-01/func/sub-01_task-motor_run-1_bold.nii.gz").readAll()
        XCTAssertTrue(first == second)
    }

    func testAffineRecoveryScore() {
        var random = RandomSource(seed: 4)
        let truth = (0..<200).map { _ in [random.normal(), random.normal()] }
        // An invertible affine transform of the truth recovers it exactly.
        let recovered = truth.map { [2 * $0[0] - $0[1] + 3, 0.5 * $0[1] + 1, random.normal()] }
        XCTAssertEqual(Recovery.affineR2(recovered: recovered, truth: truth), 1, accuracy: 1e-10)
        let noise = (0..<200).map { _ in [random.normal(), random.normal()] }
        XCTAssertLessThan(Recovery.affineR2(recovered: noise, truth: truth), 0.1)
    }

    /// States z = M x + c + e with noise e: the truth regressed on z (`affineMap`) shrinks a
    /// mapped point by the reliability Sigma_x M^T (M Sigma_x M^T + Sigma_e)^{-1}, which for
    /// M = 2 I, Sigma_x = I and Sigma_e = s^2 I is 2 / (4 + s^2) instead of M^{-1} = 1/2; the
    /// calibration map inverts the regression of z on x and is unbiased.
    func testCalibrationMapUndoesRegressionDilution() throws {
        var random = RandomSource(seed: 9)
        let n = 40_000, s = 2.0
        let truth = (0..<n).map { _ in [random.normal(), random.normal()] }
        let recovered = truth.map { [2 * $0[0] + 1 + s * random.normal(), 2 * $0[1] - 3 + s * random.normal()] }
        let forward = try XCTUnwrap(Recovery.affineMap(recovered: recovered, truth: truth))
        let calibration = try XCTUnwrap(Recovery.calibrationMap(recovered: recovered, truth: truth))
        // The image of the true point (1, -1) under M x + c, without noise: (3, -5).
        let shrunk = Recovery.apply(forward, to: [3, -5]), unbiased = Recovery.apply(calibration, to: [3, -5])
        let reliability = 2 / (4 + s * s)  // 0.25 per unit of z; the point sits 2 units from the mean in each coordinate
        XCTAssertEqual(shrunk[0], 2 * reliability, accuracy: 0.02)
        XCTAssertEqual(shrunk[1], -2 * reliability, accuracy: 0.02)
        XCTAssertEqual(unbiased[0], 1, accuracy: 0.03)
        XCTAssertEqual(unbiased[1], -1, accuracy: 0.03)
        // Without noise both maps are M^{-1} (z - c), exactly.
        let exact = truth.map { [2 * $0[0] + 1, -$0[0] + 2 * $0[1] - 3] }
        let a = try XCTUnwrap(Recovery.affineMap(recovered: exact, truth: truth))
        let b = try XCTUnwrap(Recovery.calibrationMap(recovered: exact, truth: truth))
        for z in [[3.0, -6.0], [0.5, 2.0]] { XCTAssertClose(Recovery.apply(a, to: z), Recovery.apply(b, to: z), absolute: 1e-9) }
        XCTAssertClose(Recovery.apply(b, to: [3, -6]), [1.0, -1.0], absolute: 1e-9)
        // More recovered dimensions than true ones: M^+ (z - c) on the states' plane.
        let wide = truth.map { [2 * $0[0] + 1, -$0[0] + 2 * $0[1] - 3, 0.5 * $0[1]] }
        let c = try XCTUnwrap(Recovery.calibrationMap(recovered: wide, truth: truth))
        XCTAssertClose(Recovery.apply(c, to: [3, -6, -0.5]), [1.0, -1.0], absolute: 1e-9)
        // Fewer recovered dimensions than true ones cannot be inverted.
        XCTAssertNil(Recovery.calibrationMap(recovered: truth.map { [$0[0]] }, truth: truth))
    }
}
