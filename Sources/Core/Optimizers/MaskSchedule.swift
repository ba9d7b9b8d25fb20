/// A rule that rewrites sparse-training masks during training (drop-and-grow, iterative
/// pruning, group sparse projection). The trainer calls it after every optimiser step; a
/// schedule keeps no state of its own (everything it needs derives from the step, the seed
/// and the model), so a resumed run makes the same decisions as an uninterrupted one.
public protocol MaskSchedule: Sendable {
    /// Called after optimiser step `step` (1-based) of `totalSteps` with that step's gradient.
    /// May change `masks`, the model's weights and the optimiser's moment buffers.
    func update<M: Module>(step: Int, totalSteps: Int, model: inout M, gradient: M, masks: inout ParameterMasks<M.Scalar>,
                           optimizer: inout OptimizerState<M.Scalar>) where M.Scalar == Float
}
