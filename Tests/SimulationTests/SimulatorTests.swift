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
}
