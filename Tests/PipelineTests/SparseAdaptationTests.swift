import Core
import Model
import Pipeline
import TestSupport
import TrainingTestSupport
import XCTest

final class SparseAdaptationTests: XCTestCase {
    /// An adapter changes at most its selected coordinates and turns the base model into the
    /// fine-tuned one; merging that one adapter gives the same model, so its ELBO equals the
    /// adapter's alone exactly.
    func testAdapterReproducesTheFineTunedModelAndMergesBack() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let (model, training) = TrainingFixtures.configurations()
        let base = directory.file("base")
        var trainer = Trainer(directory: base, model: model, training: training)
        trainer.version = "test"
        let runs = TrainingFixtures.runs()
        try trainer.fit(try WindowDataset(runs: runs, window: model.window, stride: model.stride, validationFraction: 0.34, seed: 1))

        var settings = SparseAdaptation.Settings()
        settings.keep = 0.1
        settings.epochs = 2
        settings.batchSize = 4
        settings.learningRate = 0.01
        let newRuns = TrainingFixtures.runs(volumes: 48, subjects: 2, seed: 99)
        let out = directory.file("adapter")
        let summary = try SparseAdaptation.adapt(modelDirectory: base, runs: newRuns, settings: settings, out: out) { _ in }
        XCTAssertGreaterThan(summary.coordinates, 0)
        XCTAssertLessThanOrEqual(summary.coordinates, Int((0.1 * Double(summary.prunableWeights)).rounded(.up)))
        XCTAssertTrue(summary.baseValidationELBO.isFinite && summary.adaptedValidationELBO.isFinite)
        let record = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/adapter.json"))) as? [String: Any])
        XCTAssertEqual(record["coordinates"] as? Int, summary.coordinates)
        XCTAssertEqual(record["scope"] as? String, "global")

        let (baseModel, _) = try Trainer.loadModel(from: base)
        let (tuned, _) = try Trainer.loadModel(from: out + "/training")
        let merged = directory.file("merged")
        let merge = try SparseAdaptation.merge(adapters: [out], modelDirectory: base, rule: .mean, evaluationRuns: newRuns, out: merged)
        XCTAssertEqual(merge.coordinates, summary.coordinates)
        let (mergedModel, _) = try Trainer.loadModel(from: merged)
        var changed = 0
        for (name, path) in baseModel.parameters {
            let before = baseModel[keyPath: path].scalars, after = tuned[keyPath: path].scalars, result = mergedModel[keyPath: path].scalars
            for i in before.indices {
                if before[i] != after[i] { changed += 1 }
                XCTAssertEqual(result[i], after[i], accuracy: 1e-6, "\(name)[\(i)]")
            }
        }
        XCTAssertGreaterThan(changed, 0)
        XCTAssertLessThanOrEqual(changed, summary.coordinates)
        XCTAssertEqual(try XCTUnwrap(merge.mergedELBO), try XCTUnwrap(merge.adapterELBOs.first?.elbo))
        XCTAssertNotEqual(try XCTUnwrap(merge.baseELBO), try XCTUnwrap(merge.mergedELBO))
    }
}
