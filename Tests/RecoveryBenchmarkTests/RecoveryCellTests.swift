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

    /// Cached cells: short variant lists keep their readable name (earlier caches stay valid);
    /// long ones, which passed the 255-byte file-name limit, get a bounded name that still
    /// differs between lists.
    func testCacheFileNamesStayReadableOrBounded() {
        let cell = RecoveryCell(system: .multistable, noise: 1, seed: 2)
        XCTAssertEqual(RecoveryBenchmark.cacheFileName(variants: ["node", "rnn"], epochs: 300, cell: cell),
                       "node+rnn_epochs300_tuning_multistable4_noise1.0_nuisance0.0_seed2.json")
        let long = (1...5).map { "node-hrf-driven+window=160+burn=32+shoot=\($0)" }
        let name = RecoveryBenchmark.cacheFileName(variants: long, epochs: 300, cell: cell)
        XCTAssertLessThan(name.utf8.count, 255)
        XCTAssertTrue(name.hasPrefix(String(long.joined(separator: "+").prefix(60)) + "-"))
        XCTAssertNotEqual(name, RecoveryBenchmark.cacheFileName(variants: long.reversed(), epochs: 300, cell: cell))
    }
}
