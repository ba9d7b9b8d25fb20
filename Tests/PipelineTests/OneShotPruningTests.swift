import Core
import Model
import Pipeline
import Sparse
import XCTest

final class OneShotPruningTests: XCTestCase {
    /// Global magnitude pruning at 0.75 keeps the quarter of the prunable weights of largest |w|.
    func testGlobalMagnitudeKeepsTheLargestWeights() throws {
        var configuration = SVAEConfiguration(observations: 6)
        configuration.latent = 2
        configuration.hidden = 8
        let svae = SVAE<Float>(configuration: configuration)
        let masks = try OneShotPruning.masks(svae, method: .magnitude, sparsity: 0.75, scope: .global, seed: 1)
        let names = prunableParameters(svae)
        XCTAssertEqual(Set(masks.masks.keys), Set(names))
        var kept: [Float] = [], removed: [Float] = []
        for name in names {
            guard let parameter = svae.parameters.first(where: { $0.name == name }), let mask = masks.masks[name] else { continue }
            for (w, m) in zip(svae[keyPath: parameter.path].scalars, mask.scalars) {
                if m == 1 { kept.append(abs(w)) } else { removed.append(abs(w)) }
            }
        }
        let total = kept.count + removed.count
        XCTAssertEqual(Double(kept.count) / Double(total), 0.25, accuracy: 1.0 / Double(total))
        XCTAssertGreaterThanOrEqual(try XCTUnwrap(kept.min()), try XCTUnwrap(removed.max()))
        XCTAssertThrowsError(try OneShotPruning.masks(svae, method: .snip, sparsity: 0.5, scope: .global, seed: 1)) { error in
            XCTAssertTrue("\(error)".contains("`data`"))
        }
    }
}
