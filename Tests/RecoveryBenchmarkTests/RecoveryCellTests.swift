import Foundation
import TestSupport
import XCTest

@testable import RecoveryBenchmark

/// One small cell of the benchmark end to end (the full grid is `fmridyn bench recovery`).
final class RecoveryCellTests: XCTestCase {
    /// On the default-noise multistable system, the HRF-aware model's latents recover the
    /// neural-level truth better than PCA at the true dimension (PCA of BOLD cannot undo the
    /// haemodynamic delay), and every score is produced.
    func testHRFModelBeatsPCAOnTheNeuralState() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var benchmark = RecoveryBenchmark(variants: [.nodeHRFNuisance], workDirectory: directory.path)
        benchmark.volumes = 160
        benchmark.epochs = 40
        let result = try benchmark.run(RecoveryCell(system: .multistable, noise: 1, seed: 1))
        let model = try XCTUnwrap(result.methods["node-hrf-nuisance"]), pca = try XCTUnwrap(result.methods["pca"])
        let (modelR2, pcaR2) = (try XCTUnwrap(model.stateR2Neural), try XCTUnwrap(pca.stateR2Neural))
        print("recovery cell: neural-state R2 model \(modelR2), PCA \(pcaR2)")
        XCTAssertGreaterThan(modelR2, pcaR2 + 0.05, "neural-state R2: model \(modelR2), PCA \(pcaR2)")
        XCTAssertEqual(model.level, "neural")
        XCTAssertNotNil(model.forecastR2Step1)
        XCTAssertNotNil(model.vectorFieldError)
        XCTAssertNotNil(model.fixedPoints)
        XCTAssertNotNil(result.methods["raw"]?.decoding)
        XCTAssertEqual(result.testSubjects.count, 1)
    }
}
