import Core
import Foundation

/// `evaluation.json`: the best model scored once on the held-out test windows after training.
public struct EvaluationReport: Codable, Sendable, Equatable {
    /// Mean ELBO per test window (nats; higher is better).
    public var testELBO: Double
    public var testWindows: Int
    /// Mean ELBO per validation window of the same model (the one early stopping kept).
    public var bestValidationELBO: Double
    /// How the runs were split (`WindowDataset.splitDescription`).
    public var split: String

    public init(testELBO: Double, testWindows: Int, bestValidationELBO: Double, split: String) {
        self.testELBO = testELBO
        self.testWindows = testWindows
        self.bestValidationELBO = bestValidationELBO
        self.split = split
    }

    enum CodingKeys: String, CodingKey {
        case testELBO = "test_elbo", testWindows = "test_windows", bestValidationELBO = "best_validation_elbo", split
    }

    /// Indented with sorted keys, written atomically.
    public func write(to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicWrite.write(encoder.encode(self), to: path)
    }

    public init(contentsOf path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else { throw CheckpointError("\(path): no such file") }
        do {
            self = try JSONDecoder().decode(Self.self, from: data)
        } catch {
            throw CheckpointError("\(path): not an fmridyn evaluation.json (\(error))")
        }
    }
}
