import Analysis
import ArgumentParser
import Federation
import Model
import Pipeline
import Preprocessing
import Sparse

// The model's and the extraction's choices parse straight from their raw values, and --help lists them.
extension SVAEConfiguration.Inference: ExpressibleByArgument {}
extension SVAEConfiguration.DynamicsKind: ExpressibleByArgument {}
extension SVAEConfiguration.DecoderKind: ExpressibleByArgument {}
extension SVAEConfiguration.Solver: ExpressibleByArgument {}
extension ReductionStrategy: ExpressibleByArgument {}
extension Standardization: ExpressibleByArgument {}
extension TemporalFilter: ExpressibleByArgument {}
extension NonFinitePolicy: ExpressibleByArgument {}
extension FederatedConfiguration.Exchange: ExpressibleByArgument {}
extension PruningScope: ExpressibleByArgument {}
extension Saliency.SiteAggregation: ExpressibleByArgument {}
extension GroupSparseTraining.Grouping: ExpressibleByArgument {}
extension SparseMethod: ExpressibleByArgument {}
extension SiteKind: ExpressibleByArgument {}
extension OneShotPruneMethod: ExpressibleByArgument {}
extension SeedRobustness.Alignment: ExpressibleByArgument {}
extension Decoding.ClassifierKind: ExpressibleByArgument {}
extension SparseAdapter.MergeRule: ExpressibleByArgument {}
extension ModelComparison.Grouping: ExpressibleByArgument {}


/// How the decoder sees the latents (`fit --observation`).
enum ObservationModel: String, CaseIterable, ExpressibleByArgument {
    /// The decoder reads each volume's latents (BOLD-level latents).
    case instantaneous
    /// Neural-level latents seen through the Glover HRF.
    case hrf
}


/// `fmridyn adapt --scope`: how the fine-tuned fraction is spread over the weight matrices.
enum AdapterScope: String, CaseIterable, ExpressibleByArgument {
    case global, layer

    var pruningScope: PruningScope { self == .layer ? .layer : .global }
}

/// Where `fit` starts training from.
enum ModelStart: String, CaseIterable, ExpressibleByArgument {
    /// A random model (the default).
    case random
    /// Wells placed at the modes of a field-free path, the benchmark's `node-wells` start.
    case wells
}
