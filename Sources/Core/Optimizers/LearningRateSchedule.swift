import Foundation

/// Learning-rate schedules with PyTorch's formulas (epoch-based).
public enum LearningRateSchedule: Sendable, Equatable {
    case constant
    /// StepLR: lr0 * gamma^floor(epoch / stepSize).
    case step(stepSize: Int, gamma: Double)
    /// CosineAnnealingLR (closed form): minimum + (lr0 - minimum)(1 + cos(pi epoch / period)) / 2.
    case cosine(period: Int, minimum: Double)

    public func learningRate(initial: Double, epoch: Int) -> Double {
        switch self {
        case .constant: return initial
        case .step(let size, let gamma): return initial * pow(gamma, Double(epoch / max(1, size)))
        case .cosine(let period, let minimum):
            return minimum + (initial - minimum) * (1 + cos(Double.pi * Double(epoch) / Double(max(1, period)))) / 2
        }
    }
}

/// ReduceLROnPlateau (mode min, relative threshold): after `patience` epochs without an
/// improvement below best * (1 - threshold), the rate is multiplied by `factor` (not below
/// `minimum`), then `cooldown` epochs pass before counting again.
public struct ReduceOnPlateau: Sendable, Equatable, Codable {
    public var factor: Double
    public var patience: Int
    public var threshold: Double
    public var cooldown: Int
    public var minimum: Double
    public private(set) var best = Double.infinity
    public private(set) var badEpochs = 0
    public private(set) var cooldownLeft = 0

    public init(factor: Double = 0.1, patience: Int = 10, threshold: Double = 1e-4, cooldown: Int = 0, minimum: Double = 0) {
        self.factor = factor
        self.patience = patience
        self.threshold = threshold
        self.cooldown = cooldown
        self.minimum = minimum
    }

    /// Records this epoch's metric and returns the learning rate to use next.
    public mutating func step(metric: Double, learningRate: Double) -> Double {
        if metric < best * (1 - threshold) {
            best = metric
            badEpochs = 0
        } else {
            badEpochs += 1
        }
        if cooldownLeft > 0 {
            cooldownLeft -= 1
            badEpochs = 0
        }
        if badEpochs > patience {
            badEpochs = 0
            cooldownLeft = cooldown
            return max(learningRate * factor, minimum)
        }
        return learningRate
    }
}
