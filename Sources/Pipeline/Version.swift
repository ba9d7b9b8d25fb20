/// The version every output records (provenance, methods text, `GeneratedBy`, checkpoints).
public enum FMRIDynVersion {
    public static let current = "0.1.0"
}
