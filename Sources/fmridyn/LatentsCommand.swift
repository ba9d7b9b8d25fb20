import ArgumentParser
import Foundation
import Model
import Pipeline

/// `fmridyn latents`: posterior-mean latent timeseries of runs as CSV.
struct Latents: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Export posterior-mean latent timeseries of runs to CSV.",
        discussion: """
            Columns: subject,session,task,run,volume,time_s,condition,z1,...,zK. Runs are read one \
            at a time. --maps DIR writes \
            each latent's decoder column as DIR/zK.nii.gz (voxel models: through the voxel PCA, in \
            the input space; region models: painted into --maps-atlas) and DIR/decoder_maps.tsv. Sequential \
            models filter through each whole run (z_{t-1} = previous posterior mean); initial \
            models encode consecutive windows and integrate from each window's posterior mean. \
            --map-transition-sd Q writes instead each run's most probable path under the model \
            with transition noise of SD Q per TR, started from those means (neural-ODE models; \
            docs/recovery.md, eighth round). --task-free with it withholds the task inputs of a \
            model fitted with --external-inputs: the path starts from the autonomous rollout and \
            anneals Q from 1 down, so the task's kicks come from the data alone and the latents \
            can be decoded against the task (docs/recovery.md, ninth round); no events needed.

            Example:
              fmridyn latents --model model sub-01_task-motor_run-1_timeseries.tsv --tr 0.72 --events sub-01_task-motor_run-1_events.tsv --out latents.csv
              fmridyn latents --model model-wells bids_dir --out latents-map.csv --map-transition-sd 0.03
              fmridyn latents --model model-wells bids_dir --out latents-free.csv --map-transition-sd 0.1 --task-free
            """
    )

    @Option(help: "Model directory written by fmridyn fit.")
    var model: String

    @OptionGroup var input: ModelInputOptions

    @Option(help: "Output CSV.")
    var out: String

    @OptionGroup var diagnostics: DiagnosticOptions

    @Option(help: "Also write each latent's decoder column as a NIfTI map here (voxel models; region models with --maps-atlas).")
    var maps: String?
    @Option(help: "With --maps for a region model: the atlas its regions came from (bundled name, label image or coordinate TSV).")
    var mapsAtlas: String?
    @Option(help: "With --maps-atlas and a coordinate atlas: sphere radius in mm.")
    var mapsRadius = 5.0

    @Flag(help: "Read a model whose fit did not finish (its best parameters so far).")
    var allowUnfinished = false
    @Option(help: "Write each run's MAP path under the model with transition noise of this SD (latent units per TR) instead of the posterior means (neural-ODE models).")
    var mapTransitionSd: Double?
    @Flag(help: "With --map-transition-sd, for a model fitted with --external-inputs: withhold the task inputs, so the latents can be decoded against the task.")
    var taskFree = false

    func validate() throws {
        try NumericOptions.positive("--maps-radius", mapsRadius, unit: "mm")
        if let mapTransitionSd { try NumericOptions.positive("--map-transition-sd", mapTransitionSd, unit: "per TR") }
        if taskFree, mapTransitionSd == nil {
            throw ValidationError("--task-free reads out a MAP path: give its transition noise too, e.g. --map-transition-sd 0.1")
        }
    }

    func run() throws {
        try OutputLocation.requireWritable(file: out)
        var fitted = try FittedModel(directory: model, allowUnfinished: allowUnfinished)
        fitted.mapPath = mapTransitionSd.map { SVAE<Float>.MAPPathOptions(transitionSD: $0) }
        if taskFree {
            guard fitted.svae.configuration.inputCount > 0 else {
                throw ValidationError("\(model) was fitted without task inputs, so --task-free would change nothing; drop it (or fit with --external-inputs)")
            }
            fitted.taskFree = true
        }
        let svae = fitted.svae
        let trajectories = try fitted.trajectories(of: input.source)
        try LatentExport.write(trajectories, latent: svae.configuration.latent, to: out)
        diagnostics.makeLogger().info("\(out): \(trajectories.map(\.volumes.count).reduce(0, +)) volumes x \(svae.configuration.latent) latents")
        if let maps { try DecoderMaps.write(svae, description: fitted.description, modelDirectory: model, to: maps, atlas: mapsAtlas, radius: mapsRadius) }
    }
}
