import Foundation
import Preprocessing

/// The JSON files `fmridyn simulate` writes, as types. Member names are the files' keys
/// (BIDS's and the ground truth's public spelling), so the synthesised coding is the format.
enum SimulationSidecars {
    /// `dataset_description.json` of the raw dataset and of the confounds derivative.
    struct DatasetDescription: Encodable {
        struct Generator: Encodable {
            let Name: String
            let Version: String
        }
        let Name: String
        let BIDSVersion = "1.8.0"
        let DatasetType: String
        let GeneratedBy = [Generator(Name: "fmridyn simulate", Version: "0.1.0")]
    }

    /// `*_bold.json`.
    struct BoldSidecar: Encodable {
        let RepetitionTime: Double
        let TaskName: String
    }

    /// One column's entry in `*_desc-confounds_timeseries.json`.
    struct ConfoundColumn: Encodable {
        let Description: String
        var Units: String? = nil
    }

    /// `ground_truth/fixed_points.json`: the true system and its fixed points.
    struct GroundTruth: Encodable {
        struct FixedPoint: Encodable {
            let z: [Double]
            /// Real parts of the Jacobian's eigenvalues.
            let eigenvalues: [Double]
            /// stable, unstable or saddle.
            let classification: String
        }
        let system: String
        let kind: String
        let dimension: Int
        let condition_inputs: [String: [Double]]
        let fixed_points: [FixedPoint]
        let nuisance: Double
        let noise: Double
        /// Only for systems with a stable cycle.
        let cycle_period_s: Double?
        /// Only for the planar systems: imaginary parts, per fixed point.
        let eigenvalues_imaginary: [[Double]]?
    }

    /// Indented, keys sorted: the layout these files have always had.
    static func write<Value: Encodable>(_ value: Value, to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try OutputFiles.write(try encoder.encode(value), to: path)
    }
}
