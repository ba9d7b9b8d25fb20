import ArgumentParser
import Foundation
import Logging
import Model
import Pipeline
import Preprocessing

/// `fmridyn bids BIDS_DIR OUTPUT_DIR participant|group`: the BIDS-App convention.
struct BIDSApp: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bids",
        abstract: "Run fmridyn as a BIDS App: participant-level extraction, group-level model, latents, fixed points, decoding and report.",
        discussion: """
            participant: for each selected run, region timeseries (the fMRIPrep preprocessed BOLD \
            and confounds when derivatives/ has them) as OUTPUT_DIR/sub-XX/[ses-YY/]func/\
            sub-XX_..._atlas-A_timeseries.tsv with a JSON sidecar of every cleaning setting, and the \
            per-volume conditions as ..._atlas-A_conditions.tsv (volume, onset, condition, \
            condition_hrf). Subjects are independent: one cluster job per participant.
            group: fits the model on every participant's derivatives into OUTPUT_DIR/models/, writes \
            per-run ..._desc-latents_timeseries.tsv, and OUTPUT_DIR/group/ with latents.csv, \
            fixed_points.json, decoding.json (the model against PCA, FastICA and raw regions, labels \
            delayed by the HRF peak, rest left out, folds by subject), maps/ (the classifier's \
            weights through the linear decoder per region and painted into the atlas) and report.html.
            Both levels write OUTPUT_DIR/dataset_description.json (DatasetType derivative). Work whose \
            outputs are complete and were made with the same settings from older inputs is skipped \
            (--force redoes it); every file is written atomically, and an interrupted group fit \
            resumes from its checkpoint. The atlas defaults to power264. docs/cluster.md has a \
            SLURM recipe.

            Examples:
              fmridyn bids /data/ds000114 /scratch/fmridyn participant --participant-label 01 02 --task motor \\
                --confound-strategy motion24,wm_csf --detrend --high-pass 0.01 --standardize zscore
              fmridyn bids /data/ds000114 /scratch/fmridyn group --task motor --latent-dim 8 --epochs 100
            """
    )

    @Argument(help: "The BIDS dataset (read only).")
    var bidsDir: String
    @Argument(help: "Where the derivatives go (not inside bids_dir).")
    var outputDir: String
    @Argument(help: "participant or group.")
    var analysisLevel: String

    @Option(parsing: .upToNextOption, help: "Subjects to process, with or without sub- (all when omitted).")
    var participantLabel: [String] = []
    @Option(help: "Task to process (all when omitted).")
    var task: String?
    @Option(parsing: .upToNextOption, help: "Sessions to process, with or without ses-.")
    var session: [String] = []
    @Option(name: .customLong("run"), parsing: .upToNextOption, help: "Runs to process.")
    var runLabels: [String] = []
    @Option(help: "fMRIPrep output space to prefer.")
    var space: String?
    @Flag(help: "Redo work even when its outputs are complete and up to date.")
    var force = false
    @Option(help: "group: cross-validation folds for decoding (at most the number of subjects).")
    var folds = 5
    @Option(help: "group: where the fit's intermediates go (checkpoints, training state), e.g. a scratch disk; OUTPUT_DIR/models receives only the finished model. A rerun resumes from here, or reuses the published model when this folder is gone and the settings match.")
    var workDir: String?

    @OptionGroup(title: "BIDS-App conventions") var conventions: BIDSAppOptions
    @OptionGroup(title: "Extraction and cleaning (participant level)") var cleaning: ExtractionOptions
    @OptionGroup(title: "Model and training (group level)") var fit: FitOptions
    @OptionGroup var diagnostics: DiagnosticOptions

    func validate() throws {
        guard ["participant", "group"].contains(analysisLevel) else {
            throw ValidationError("analysis_level must be participant or group (got \(analysisLevel)).")
        }
        let source = BIDSParticipantLevel.canonical(bidsDir), target = BIDSParticipantLevel.canonical(outputDir)
        if target == source || target.hasPrefix(source + "/") {
            throw ValidationError("output_dir \(outputDir) is \(target == source ? "the BIDS directory itself" : "inside the BIDS directory"); choose a folder outside \(bidsDir) (BIDS datasets stay read-only)")
        }
        if cleaning.atlas == nil && cleaning.mask != nil {
            throw ValidationError("the BIDS App extracts regions: give --atlas (voxel mode is not offered here).")
        }
        guard folds >= 2 else { throw ValidationError("--folds must be at least 2.") }
    }

    var atlas: String { cleaning.atlas ?? "power264" }

    /// The atlas as a BIDS entity value (letters and digits only).
    var atlasEntity: String {
        let base = (atlas as NSString).lastPathComponent.components(separatedBy: ".").first ?? atlas
        let value = base.filter { $0.isLetter || $0.isNumber }
        return value.isEmpty ? "custom" : value
    }

    func run() throws {
        let logger = diagnostics.makeLogger()
        if !conventions.skipBidsValidation { try BIDSLayout.requireDataset(bidsDir) }
        // Also removes temporaries a killed job of either level left in any folder of the tree.
        try BIDSDerivativeDataset.prepare(outputDir: outputDir, bidsDir: bidsDir, level: analysisLevel,
                                          commandLine: CommandLine.arguments.joined(separator: " "))
        if analysisLevel == "participant" {
            try participantLevel(logger: logger)
        } else {
            try groupLevel(logger: logger)
        }
    }

    func say(_ line: String) {
        diagnostics.progress(line)
    }

    // MARK: participant level

    func participantLevel(logger: Logger) throws {
        var selection = conventions.selection
        selection.subjects = participantLabel
        selection.sessions = session
        selection.task = task
        selection.runs = runLabels
        selection.space = space
        let runs = try selection.selectedRuns(root: bidsDir)
        var settings = cleaning.settings
        settings.atlas = atlas
        let level = BIDSParticipantLevel(bidsDir: bidsDir, outputDir: outputDir, atlas: atlas, atlasEntity: atlasEntity, settings: settings)
        let (written, skipped) = try level.extract(runs, force: force, progress: say) { logger.warning("\($0)") }
        logger.info("\(outputDir): \(written) runs extracted, \(skipped) up to date")
    }

    // MARK: group level

    /// The participant-level outputs this group run reads.
    func derivativeRuns() throws -> [BIDSDerivativeRun] {
        var selection = BIDSDerivativeRun.Selection(atlasEntity: atlasEntity)
        selection.subjects = Set(participantLabel.map { $0.hasPrefix("sub-") ? String($0.dropFirst(4)) : $0 })
        selection.sessions = Set(session.map { $0.hasPrefix("ses-") ? String($0.dropFirst(4)) : $0 })
        selection.task = task
        selection.runs = runLabels
        selection.space = space
        selection.filter = try conventions.filter()
        return try BIDSDerivativeRun.read(outputDir: outputDir, selection: selection)
    }

    func groupLevel(logger: Logger) throws {
        let derivatives = try derivativeRuns()
        guard let first = derivatives.first else {
            // A missing input, not a usage error: exit status 1, as before the move.
            throw PipelineError("\(outputDir): no participant-level outputs for atlas \(atlasEntity); run the participant level first (same --atlas)", kind: .input)
        }
        let (model, training) = fit.configurations(observations: first.data.timeseries.columns, repetitionTime: first.data.repetitionTime)
        var level = BIDSGroupLevel(outputDir: outputDir, workDir: workDir, atlas: atlas, mapsRadius: cleaning.radius, folds: folds)
        level.force = force
        let outcome = try level.run(derivatives, model: model, training: training, testFraction: fit.testFraction, say: diagnostics.progress) {
            logger.warning("\($0)")
        }
        guard !outcome.upToDate else { return }
        if let table = outcome.decodingTable { print(table) }
        logger.info("\(outputDir)/group: latents.csv, fixed_points.json (\(outcome.fixedPoints) fixed points)\(outcome.decoding ? ", decoding.json" : ""), report.html")
    }
}
