import Foundation
import RecoveryBenchmark
import Simulation
import XCTest

final class TaskGLMTests: XCTestCase {
    /// Noise-free regions that are one condition's response (an exponential decay of its
    /// boxcar) times a loading vector, plus a second condition's different response on other
    /// loadings: the rank-2 states span both responses exactly, so their affine fit to the two
    /// responses is exact, and rank 1 cannot hold both.
    func testStatesSpanTheConditionsResponses() throws {
        let conditions = ["a", "b"]
        let volumes = 120
        var labels: [String] = []
        for t in 0..<volumes { labels.append(t % 40 < 8 ? "a" : (t % 40 >= 20 && t % 40 < 26 ? "b" : "rest")) }
        // Responses: a decays at 0.8 per volume, b at 0.5, each driven by its boxcar.
        var responses = [[Double]](repeating: [0, 0], count: volumes)
        for t in 0..<volumes {
            let previous = t > 0 ? responses[t - 1] : [0, 0]
            responses[t] = [0.8 * previous[0] + (labels[t] == "a" ? 1 : 0), 0.5 * previous[1] + (labels[t] == "b" ? 1 : 0)]
        }
        let loadings: [[Double]] = [[1, 0.5, 0, -1, 0.2], [0, 1, -0.7, 0.3, 1]]
        let regions = responses.map { r in (0..<5).map { f in r[0] * loadings[0][f] + r[1] * loadings[1][f] } }
        // Spans 40 volumes at TR 1 s: long enough for 0.8^40 (1e-4) to be the whole response.
        let glm = try TaskGLM(regions: [regions], labels: [labels], conditions: conditions, repetitionTime: 1, span: 40, rank: 2, ridge: 1e-9)
        XCTAssertEqual(glm.lags, 41)
        let states = glm.states(labels: labels)
        XCTAssertEqual(states.count, volumes)
        XCTAssertEqual(Recovery.affineR2(recovered: states, truth: responses), 1, accuracy: 1e-6)
        let one = try TaskGLM(regions: [regions], labels: [labels], conditions: conditions, repetitionTime: 1, span: 40, rank: 1, ridge: 1e-9)
        XCTAssertLessThan(Recovery.affineR2(recovered: one.states(labels: labels), truth: responses), 0.9)
    }

    func testRefusesARankAboveTheRegions() {
        XCTAssertThrowsError(try TaskGLM(regions: [[[1, 2], [3, 4]]], labels: [["a", "rest"]], conditions: ["a"], repetitionTime: 1, rank: 3))
    }
}
