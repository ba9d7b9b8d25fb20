import ArgumentParser
import Foundation
import Pipeline
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

    /// The runs of a dataset these conventions select (the command adds subjects, task, ...).
    var selection: BIDSRunSelection {
        var selection = BIDSRunSelection()
        selection.filterFile = bidsFilterFile
        selection.derivatives = derivatives.isEmpty ? nil : derivatives
        selection.skipValidation = skipBidsValidation
        return selection
    }

    /// The filter file's query, when one was given.
    func filter() throws -> BIDSFilter? { try selection.filter() }
}
