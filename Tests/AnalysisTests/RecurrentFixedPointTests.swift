import Core
import Dynamics
import Model
import TestSupport
import XCTest

@testable import Analysis

/// Fixed points of the GRU baseline over its full state (z, h).
final class RecurrentFixedPointTests: XCTestCase {
    func testGRUStateFixedPointsSatisfyBothEquations() throws {
        var configuration = SVAEConfiguration(observations: 4)
        configuration.latent = 2
        configuration.hidden = 3
        configuration.dynamics = .rnn
        let model = SVAE<Float>(configuration: configuration)
        let rnn = try XCTUnwrap(model.dynamics.rnn)
        var random = RandomSource(seed: 8)
        let starts = (0..<64).map { _ in [random.normal(), random.normal()] }
        let (fixed, _, system) = ModelFixedPoints.find(model: model, starts: starts)
        XCTAssertEqual(system, .map)
        XCTAssertFalse(fixed.isEmpty)
        let cell = GRU<Double>(weightIH: rnn.cell.weightIH.converted(), weightHH: rnn.cell.weightHH.converted(),
                               biasIH: rnn.cell.biasIH.converted(), biasHH: rnn.cell.biasHH.converted())
        let readout = rnn.readout.weight.converted() as Tensor<Double>
        for point in fixed {
            XCTAssertEqual(point.z.count, 2)
            XCTAssertEqual(point.memory.count, 3)
            XCTAssertEqual(point.eigenvalues.count, 5, "the joint (z, h) map")
            // h* = GRU(z*, h*) and W h* = 0 (so z* does not move).
            let next = cell.step(Tensor(shape: [1, 2], scalars: point.z), Tensor(shape: [1, 3], scalars: point.memory)).scalars
            XCTAssertClose(next, point.memory, absolute: 1e-6, relative: 0)
            for row in 0..<2 {
                let push = (0..<3).reduce(0.0) { $0 + readout.scalars[row * 3 + $1] * point.memory[$1] }
                XCTAssertEqual(push, 0, accuracy: 1e-6)
            }
        }
        let report = ModelFixedPoints.report(fixed: fixed, slow: [], system: system, starts: starts.count)
        XCTAssertEqual(report.fixedPoints.first?.memory, fixed[0].memory)
        XCTAssertTrue(report.system.contains("GRU"))
    }

    /// An untrained NODE with `fieldLeak` is pure decay: the analysis must see the leak (one
    /// stable point at the origin, every eigenvalue -leak), not the zero network alone.
    func testLeakyNODEFixedPointIsTheOriginWithTheLeakAsEigenvalues() {
        var configuration = SVAEConfiguration(observations: 4)
        configuration.latent = 2
        configuration.hidden = 3
        configuration.fieldLeak = 0.4
        let model = SVAE<Float>(configuration: configuration)
        var random = RandomSource(seed: 9)
        let starts = (0..<32).map { _ in [random.normal(), random.normal()] }
        let (fixed, _, system) = ModelFixedPoints.find(model: model, starts: starts)
        XCTAssertEqual(system, .flow)
        XCTAssertEqual(fixed.count, 1)
        XCTAssertClose(fixed[0].z, [0, 0], absolute: 1e-6, relative: 0)
        XCTAssertEqual(fixed[0].classification, "stable")
        for (re, im) in fixed[0].eigenvalues {
            XCTAssertEqual(re, -0.4, accuracy: 1e-6)
            XCTAssertEqual(im, 0, accuracy: 1e-9)
        }
    }
}
