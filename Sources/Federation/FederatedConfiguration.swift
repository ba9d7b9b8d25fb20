import Sparse

/// Settings of a federated fit: each rank is a site that trains on its own runs and sends
/// only parameters (or gradients), never data.
public struct FederatedConfiguration: Codable, Equatable, Sendable {
    /// What sites send each round.
    public enum Exchange: String, Codable, CaseIterable, Sendable {
        /// The site's weights after its local epochs (FedAvg; SSFL with a mask).
        case weights
        /// A gradient every step, applied by one shared optimiser (SalientGrads with a mask).
        case gradients
    }

    /// Communication rounds.
    public var rounds = 10
    /// Epochs over the site's own training windows between two exchanges (weights), or the
    /// steps of one round in epochs of the largest site (gradients).
    public var localEpochs = 1
    public var exchange: Exchange = .weights
    /// Fraction of prunable weights removed by the agreed saliency mask (0: dense).
    public var sparsity = 0.0
    public var scope: String = PruningScope.global.rawValue
    /// Batches of its own windows each site scores SNIP saliency on.
    public var pruneBatches = 4
    /// How runs are grouped into sites (`subject` or `session`), for the record.
    public var sites = "subject"

    public init() {}

    /// The method's usual name: FedAvg, SSFL (masked weights) or SalientGrads (masked gradients).
    public var method: String {
        switch (exchange, sparsity > 0) {
        case (.weights, false): return "fedavg"
        case (.weights, true): return "ssfl"
        case (.gradients, false): return "fedsgd"
        case (.gradients, true): return "salientgrads"
        }
    }
}

/// `federated.json`: what each rank sent and received, per round, as counted from the buffers
/// handed to MPI, with the dense equivalent for comparison.
public struct FederatedRecord: Codable, Equatable, Sendable {
    public struct Site: Codable, Equatable, Sendable {
        public var rank: Int
        public var runs: [String]
        public var trainingWindows: Int
        public var validationWindows: Int
    }

    public struct Round: Codable, Equatable, Sendable {
        public var round: Int
        public var validationElbo: Double
        /// Per rank, bytes this round (the exchange of parameters or gradients, plus the
        /// validation sums).
        public var bytesSent: [Int]
        public var bytesReceived: [Int]
        public var seconds: Double
    }

    public var method: String
    public var configuration: FederatedConfiguration
    public var sites: [Site]
    public var parameters: Int
    /// Scalars a site sends per message (every parameter when dense; the mask's kept entries
    /// when sparse).
    public var exchangedScalars: Int
    /// Per rank, bytes of the one-off saliency exchange that agreed the mask (0 when dense).
    public var maskBytesSent: [Int]
    /// Bytes one rank would send per round with the same method dense (every parameter as
    /// Float32, once per round, or once per step for gradient exchange, with the headers).
    public var denseBytesPerRound: Int
    public var rounds: [Round]
    public var bestRound: Int
    public var bestValidationElbo: Double
}
