import ArgumentParser
import Foundation
import Simulation

extension SystemKind: ExpressibleByArgument {}

/// `fmridyn simulate`: a BIDS dataset of task fMRI with known latent dynamics.
struct Simulate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Simulate task-fMRI with known latent dynamics as a BIDS dataset.",
        discussion: """
            A latent system driven by a block-design motor task: --system multistable (default; \
            dz/dt = z - z^3 + task input, 3^K fixed points), rotation (a stable spiral), limit-cycle \
            (Hopf: an unstable point inside a 20 s cycle), switching (double wells kicked by 2 s task \
            pulses and held by the field) or vanderpol (a 20 s Van der Pol cycle). The latents are (left/right hand, left/right foot, tongue), mapped to motor-network \
            blobs inside the MNI brain mask, convolved with the Glover HRF, plus AR(1) noise, drift, \
            global signal, cardiac/respiratory oscillations and motion (also in the confounds); \
            --nuisance S adds fast, spatially smooth fluctuations with S times the task signal's \
            variance that the confounds do not contain. \
            Writes sub-XX/func/*_bold.nii.gz, _events.tsv, _bold.json, \
            derivatives/fmridyn-sim/.../*_desc-confounds_timeseries.tsv and ground_truth/ (latents, \
            fixed_points.json, spatial maps). docs/simulation.md has the details.

            Example:
              fmridyn simulate --out sim --subjects 4 --runs 2 --volumes 284 --grid 2mm --seed 1
              fmridyn simulate --out sim-cycle --system limit-cycle --noise 0.5 --nuisance 2 --grid 4mm
            """
    )

    @Option(help: "Output directory (the BIDS root).")
    var out: String
    @Option var subjects = 4
    @Option var runs = 2
    @Option var volumes = 284
    @Option(help: "Repetition time in seconds.")
    var tr = 0.72
    @Option(help: "Voxel size: 2mm, 3mm or 4mm.")
    var grid = "2mm"
    @Option(help: "Noise level (1 realistic, 0 none).")
    var noise = 1.0
    @Option(name: .customLong("latent-dim"), help: "Latent dimension of the multistable and switching systems (the others are planar).")
    var latentDim = 4
    @Option(help: "True latent dynamics: \(SystemKind.allCases.map(\.rawValue).joined(separator: ", ")).")
    var system: SystemKind = .multistable
    @Option(help: "Structured nuisance variance, in multiples of the task signal's (0 none).")
    var nuisance = 0.0
    @Option var seed: UInt64 = 1
    @OptionGroup var diagnostics: DiagnosticOptions

    func validate() throws {
        try NumericOptions.count("--subjects", subjects, 1...10_000, why: "each subject is a simulated BIDS folder")
        try NumericOptions.count("--runs", runs, 1...1_000, why: "each run is a 4-D image")
        try NumericOptions.count("--volumes", volumes, 10...100_000, why: "each run's image is held while it is written")
        guard ["2mm", "3mm", "4mm"].contains(grid) else { throw ValidationError("--grid must be 2mm, 3mm or 4mm.") }
        guard subjects >= 1, runs >= 1 else { throw ValidationError("--subjects and --runs must be at least 1.") }
        guard volumes >= 10 else { throw ValidationError("--volumes must be at least 10.") }
        try NumericOptions.positive("--tr", tr, unit: "seconds")
        guard latentDim >= 2 else { throw ValidationError("--latent-dim must be at least 2.") }
        guard noise >= 0, noise.isFinite else { throw ValidationError("--noise must be a finite number, 0 or more.") }
        guard nuisance >= 0, nuisance.isFinite else { throw ValidationError("--nuisance must be a finite number, 0 or more.") }
    }

    var options: SimulationOptions {
        var o = SimulationOptions()
        o.subjects = subjects; o.runs = runs; o.volumes = volumes; o.repetitionTime = tr
        o.grid = Int(grid.dropLast(2)) ?? 2; o.noise = noise; o.latentDimension = latentDim; o.seed = seed
        o.system = system; o.nuisance = nuisance
        return o
    }

    func run() throws {
        var simulator = Simulator(options: options)
        let quiet = diagnostics.quiet
        simulator.progress = { if !quiet { FileHandle.standardError.write(Data(($0 + "\n").utf8)) } }
        let result = try simulator.run(into: out)
        diagnostics.makeLogger().info("\(out): \(result.boldFiles.count) runs on a \(result.grid.shape.map(String.init).joined(separator: "x")) grid, \(result.brainVoxels) brain voxels")
    }
}
