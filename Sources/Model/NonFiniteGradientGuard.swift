import Core

/// The trainers' rule for a gradient with NaN or infinite entries. A finite loss can still have
/// one (a diverging ODE rollout's backward pass makes them); applying it would make every
/// parameter NaN, so the step is skipped, as PyTorch's GradScaler skips an overflowed step.
/// A gradient whose norm only overflows in Float, with finite entries, is clipped (to a zero
/// gradient) and applied, as before the guard; its entries are scanned only in that case.
public struct NonFiniteGradientGuard: Sendable, Equatable {
    /// Consecutive skipped steps after which a trainer stops with an error.
    public static let limit = 10
    /// Steps skipped since the last applied one.
    public private(set) var inARow = 0

    public init() {}

    /// Whether `limit` steps in a row have been skipped (the trainer should stop).
    public var exhausted: Bool { inARow >= Self.limit }

    /// Clips `gradient` to the global norm `maxNorm` (`clipGradientNorm`) and returns whether
    /// the step may be applied (false: an entry is NaN or infinite, or the loss was not, and
    /// the count rises).
    public mutating func admit<M: Module>(_ gradient: inout M, maxNorm: Double, lossIsFinite: Bool = true) -> Bool {
        let norm = clipGradientNorm(&gradient, maxNorm: maxNorm)
        if lossIsFinite, norm.isFinite || gradient.parameters.allSatisfy({ gradient[keyPath: $0.1].scalars.allSatisfy(\.isFinite) }) {
            inARow = 0
            return true
        }
        inARow += 1
        return false
    }
}
