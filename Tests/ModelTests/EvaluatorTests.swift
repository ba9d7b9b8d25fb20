import Core
import Model
import TrainingTestSupport
import XCTest

/// The evaluator's mean ELBO is the model's objective on the windows with the documented noise
/// seed: in one batch, exactly -(reconstruction + KL) of one objective call with that seed.
final class EvaluatorTests: XCTestCase {
    func testMeanELBOIsTheObjectiveWithTheFixedNoise() throws {
        let (model, _) = TrainingFixtures.configurations()
        let data = try WindowDataset(runs: TrainingFixtures.runs(), window: model.window, stride: model.stride, validationFraction: 0, seed: 1)
        let windows = data.training
        let svae = SVAE<Float>(configuration: model)
        let evaluator = Evaluator(model: model, batchSize: windows.count)
        var noise = RandomSource(seed: model.seed ^ 0x0A11_DA7E)
        let objective = try svae.objective(data.batch(windows), inputs: nil, klWeight: 1, random: &noise)
        let expected = -Double(objective.reconstruction + objective.kl)
        XCTAssertEqual(try evaluator.meanELBO(svae, data, windows: windows), expected, accuracy: 1e-9 * abs(expected))
        // Fixed noise: the same number twice, and the trainer scores with the same evaluator.
        XCTAssertEqual(try evaluator.meanELBO(svae, data, windows: windows), try evaluator.meanELBO(svae, data, windows: windows))
        var training = TrainingConfiguration()
        training.batchSize = windows.count
        let trainer = Trainer(directory: NSTemporaryDirectory() + "unused", model: model, training: training)
        XCTAssertEqual(try trainer.meanELBO(svae, data, windows: windows), expected, accuracy: 1e-9 * abs(expected))
        XCTAssertTrue(try evaluator.meanELBO(svae, data, windows: []).isNaN, "no windows, no score")
    }
}
