import Core
import Foundation
import TestSupport
import XCTest

@testable import Simulation

/// The simulator's systems against their equations.
final class SystemKindTests: XCTestCase {
    /// Analytic Jacobians against central differences of the field, at random states.
    func testJacobiansMatchTheField() {
        var random = RandomSource(seed: 4)
        for kind in SystemKind.allCases {
            let system = LatentSystem(kind: kind, dimension: 3, seed: 1)
            for _ in 0..<5 {
                let z = (0..<system.dimension).map { _ in random.uniform(-1.5, 1.5) }
                let jacobian = system.jacobian(z)
                for j in 0..<system.dimension {
                    var plus = z, minus = z
                    plus[j] += 1e-6; minus[j] -= 1e-6
                    let (fp, fm) = (system.field(plus), system.field(minus))
                    for i in 0..<system.dimension {
                        XCTAssertEqual(jacobian[i][j], (fp[i] - fm[i]) / 2e-6, accuracy: 1e-6, "\(kind) d f\(i) / d z\(j)")
                    }
                }
            }
        }
    }

    /// Planar systems: one fixed point at the origin with the stated eigenvalues.
    func testPlanarFixedPoints() throws {
        let rotation = LatentSystem(kind: .rotation, dimension: 4, seed: 1)
        XCTAssertEqual(rotation.dimension, 2)
        let point = try XCTUnwrap(rotation.detailedFixedPoints.first)
        XCTAssertEqual(point.kind, "stable")
        XCTAssertEqual(point.eigenvalues[0].re, -0.15, accuracy: 1e-12)
        XCTAssertEqual(abs(point.eigenvalues[0].im), 2 * Double.pi / 16, accuracy: 1e-12)
        let cycle = try XCTUnwrap(LatentSystem(kind: .limitCycle, dimension: 2, seed: 1).detailedFixedPoints.first)
        XCTAssertEqual(cycle.kind, "unstable")
        XCTAssertEqual(cycle.eigenvalues[0].re, 0.5, accuracy: 1e-12)
        XCTAssertEqual(abs(cycle.eigenvalues[0].im), 2 * Double.pi / 20, accuracy: 1e-12)
        let vanDerPol = try XCTUnwrap(LatentSystem(kind: .vanDerPol, dimension: 2, seed: 1).detailedFixedPoints.first)
        XCTAssertEqual(vanDerPol.kind, "unstable")
        // trace s (1 - 0) = s, determinant s^2: eigenvalues s/2 +- i s sqrt(3)/2.
        let s = 6.6633 / 20
        XCTAssertEqual(vanDerPol.eigenvalues[0].re, s / 2, accuracy: 1e-12)
        XCTAssertEqual(abs(vanDerPol.eigenvalues[0].im), s * 3.0.squareRoot() / 2, accuracy: 1e-12)
    }

    /// Noise-free runs settle on the stated cycles: the Hopf circle of radius 1 and both periods 20 s.
    func testCyclesHaveTheStatedPeriod() {
        for kind in [SystemKind.limitCycle, .vanDerPol] {
            var system = LatentSystem(kind: kind, dimension: 2, seed: 1)
            system.noise = 0
            var random = RandomSource(seed: 1)
            let times = (0..<20_000).map { Double($0) * 0.01 }
            let path = system.integrate(from: [0.3, 0], sampleTimes: times, condition: { _ in nil }, step: 0.001, random: &random)
            var crossings: [Double] = []
            for t in 10_000..<path.count where path[t - 1][1] < 0 && path[t][1] >= 0 {
                let fraction = -path[t - 1][1] / (path[t][1] - path[t - 1][1])
                crossings.append(times[t - 1] + fraction * 0.01)
            }
            XCTAssertGreaterThanOrEqual(crossings.count, 3, "\(kind) oscillates")
            let period = ((crossings.last ?? 0) - (crossings.first ?? 0)) / Double(max(1, crossings.count - 1))
            XCTAssertEqual(period, 20, accuracy: 0.1, "\(kind) period")
            if kind == .limitCycle {
                for z in path.suffix(2000) { XCTAssertEqual((z[0] * z[0] + z[1] * z[1]).squareRoot(), 1, accuracy: 1e-3) }
            }
        }
    }

    /// Switching: the input acts only in the first two seconds of a block; the well holds the state.
    func testSwitchingPulsesAndHolds() {
        var system = LatentSystem(kind: .switching, dimension: 3, seed: 2)
        system.noise = 0
        let target = system.inputs["tongue"] ?? []
        var random = RandomSource(seed: 1)
        let start = target.map { -$0 }
        let path = system.integrate(from: start, sampleTimes: [12], condition: { t in t < 12 ? ("tongue", t) : nil }, random: &random)
        // After the pulse the state sits in the target's well, at the fixed point (not pushed past it).
        for (value, sign) in zip(path[0], target) { XCTAssertEqual(value * sign, 1, accuracy: 1e-3) }
        XCTAssertNil(system.input(condition: "tongue", elapsed: 2.5))
        XCTAssertNotNil(system.input(condition: "tongue", elapsed: 1.5))
    }

    /// The structured nuisance has `nuisance` times the task signal's energy over the brain.
    func testNuisanceEnergyRatio() {
        var options = SimulationOptions()
        options.nuisance = 2.5
        let simulator = Simulator(options: options)
        var random = RandomSource(seed: 9)
        let maps = (0..<3).map { _ in (0..<50).map { _ in random.normal() } }
        let nuisanceMaps = (0..<3).map { _ in (0..<50).map { _ in random.normal() } }
        let bold = (0..<40).map { _ in (0..<3).map { _ in random.normal() } }
        let series = simulator.structuredNuisance(maps: maps, nuisanceMaps: nuisanceMaps, bold: bold, random: &random)
        func energy(_ m: [[Double]], _ s: [[Double]]) -> Double {
            s.reduce(0) { total, row in total + (0..<50).reduce(0) { sum, v in
                let value = row.indices.reduce(0) { $0 + m[$1][v] * row[$1] }
                return sum + value * value
            } }
        }
        XCTAssertEqual(energy(nuisanceMaps, series) / energy(maps, bold), 2.5, accuracy: 1e-9)
    }

    /// A diverged latent path is refused with the system, run and time named.
    func testDivergedPathIsRefused() {
        XCTAssertNoThrow(try Simulator.requireFinite([[1, 2], [3, 4]], times: [0, 0.072], system: .vanDerPol, subject: "01", run: 1))
        XCTAssertThrowsError(try Simulator.requireFinite([[1, 2], [.infinity, .nan]], times: [0, 0.072], system: .vanDerPol, subject: "02", run: 2)) { error in
            let message = "\(error)"
            XCTAssertTrue(message.contains("vanderpol") && message.contains("sub-02 run 2") && message.contains("0.072 s"), message)
        }
    }
}
