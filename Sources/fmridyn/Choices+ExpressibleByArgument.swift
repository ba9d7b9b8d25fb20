import ArgumentParser
import Dynamics
import Federation
import Model
import Preprocessing

// The model's and the extraction's choices parse straight from their raw values, and --help lists them.
extension SVAEConfiguration.Inference: ExpressibleByArgument {}
extension SVAEConfiguration.DynamicsKind: ExpressibleByArgument {}
extension SVAEConfiguration.DecoderKind: ExpressibleByArgument {}
extension ODEMethod: ExpressibleByArgument {}
extension ReductionStrategy: ExpressibleByArgument {}
extension Standardization: ExpressibleByArgument {}
extension TemporalFilter: ExpressibleByArgument {}
extension NonFinitePolicy: ExpressibleByArgument {}
extension FederatedConfiguration.Exchange: ExpressibleByArgument {}

/// How the decoder sees the latents (`fit --observation`).
enum ObservationModel: String, CaseIterable, ExpressibleByArgument {
    /// The decoder reads each volume's latents (BOLD-level latents).
    case instantaneous
    /// Neural-level latents seen through the Glover HRF.
    case hrf
}
