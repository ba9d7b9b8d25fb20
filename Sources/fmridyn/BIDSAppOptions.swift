import ArgumentParser
import Foundation
import Preprocessing

/// The BIDS-App conventions every command that reads a BIDS dataset shares (fMRIPrep's
/// spellings): which runs, where derivatives are, whether the input is checked.
struct BIDSAppOptions: ParsableArguments {
    @Option(help: "A JSON file selecting BOLD runs by entity, in fMRIPrep's format: {\"bold\": {\"session\": \"01\", \"run\": [1, 2]}}.")
    var bidsFilterFile: String?
    @Option(parsing: .upToNextOption, help: "Folders with fMRIPrep outputs (default: every folder under BIDS_DIR/derivatives).")
    var derivatives: [String] = []
    @Flag(help: "Do not check that the input is a BIDS dataset (dataset_description.json with Name and BIDSVersion).")
    var skipBidsValidation = false

    /// The filter file's query, when one was given.
    func filter() throws -> BIDSFilter? {
        try bidsFilterFile.map { try BIDSFilter(contentsOf: $0) }
    }

    /// Checks the dataset (unless skipped) and applies the filter to `runs`.
    func select(_ runs: [BIDSRun], root: String) throws -> [BIDSRun] {
        if !skipBidsValidation { try BIDSLayout.requireDataset(root) }
        guard let filter = try filter() else { return runs }
        return runs.filter(filter.accepts)
    }

    /// `--derivatives`, or nil for the default search.
    var derivativeRoots: [String]? { derivatives.isEmpty ? nil : derivatives }
}
