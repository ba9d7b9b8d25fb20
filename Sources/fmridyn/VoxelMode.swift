import ArgumentParser
import Foundation
import Model
import NIfTI
import Preprocessing

/// Voxel-mode plumbing shared by fit, latents and compare: the PCA projection learned on the
/// training runs, applied to every run a voxel model sees.
enum VoxelMode {
    /// Fits the projection on the runs of the training subjects (the same split the trainer
    /// makes), saves it into each model directory, and returns the runs as component scores.
    static func prepare(_ runs: [RunData], components: Int, validationFraction: Double, testFraction: Double, seed: UInt64,
                        window: Int, stride: Int, directories: [String], say: (String) -> Void) throws -> [RunData] {
        guard let space = runs.first?.voxelSpace else { return runs }
        guard runs.allSatisfy({ $0.voxelSpace == space }) else {
            throw ValidationError("voxel mode needs the same voxels in every run: give one --mask (e.g. mni152) and inputs in one space")
        }
        // Which runs train: the trainer's split, made on placeholder runs without the voxels.
        let placeholders = runs.map { run -> RunData in
            var light = run
            light.timeseries = SignalMatrix(timePoints: run.timeseries.timePoints, columns: 1)
            return light
        }
        let split = try WindowDataset(runs: placeholders, window: window, stride: stride, validationFraction: validationFraction,
                                      testFraction: testFraction, seed: seed)
        let trainingRuns = Set(split.training.map(\.run))
        say("voxel PCA: \(components) components from \(trainingRuns.count) training runs x \(space.indices.count) voxels")
        let projection = try VoxelProjection(fitting: trainingRuns.sorted().map { runs[$0].timeseries }, components: components,
                                             grid: space.grid, voxelIndices: space.indices)
        for directory in directories {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try projection.save(to: directory)
        }
        let explained = projection.explainedVariance.reduce(0, +)
        say(String(format: "voxel PCA: the components hold %.1f%% of the training variance", 100 * explained / max(1e-300, totalVariance(runs, trainingRuns))))
        return try apply(projection, to: runs)
    }

    /// Total variance (sum over voxels, n - 1 normalisation) of the training runs.
    static func totalVariance(_ runs: [RunData], _ training: Set<Int>) -> Double {
        let selected = training.sorted().map { runs[$0].timeseries }
        let total = selected.reduce(0) { $0 + $1.timePoints }
        guard let columns = selected.first?.columns, total > 1 else { return 0 }
        var sum = [Double](repeating: 0, count: columns), squares = [Double](repeating: 0, count: columns)
        for run in selected {
            run.values.withUnsafeBufferPointer { values in
                for c in 0..<columns { for t in 0..<run.timePoints { let x = values[c * run.timePoints + t]; sum[c] += x; squares[c] += x * x } }
            }
        }
        return (0..<columns).reduce(0) { $0 + (squares[$1] - sum[$1] * sum[$1] / Double(total)) } / Double(total - 1)
    }

    /// Runs as component scores (`pc1..pcK` features).
    static func apply(_ projection: VoxelProjection, to runs: [RunData]) throws -> [RunData] {
        try runs.map { run in
            guard run.voxelSpace != nil else {
                throw ValidationError("\(run.source): this model works on voxels; load the inputs with --voxels (and the model's --mask)")
            }
            var projected = run
            projected.timeseries = try projection.project(run.timeseries)
            projected.featureNames = (1...projection.components).map { "pc\($0)" }
            return projected
        }
    }

    /// Carries a voxel model's projection into a derived model directory (pruned, merged).
    static func copyProjection(from source: String, to destination: String) throws {
        guard let projection = try VoxelProjection.load(from: source) else { return }
        try projection.save(to: destination)
    }

    /// The runs as the model at `directory` expects them: projected for voxel models.
    static func runs(_ runs: [RunData], for directory: String) throws -> [RunData] {
        guard let projection = try VoxelProjection.load(from: directory) else { return runs }
        return try apply(projection, to: runs)
    }
}

/// `latents --maps`: each latent's decoder column as an image.
enum DecoderMaps {
    static func write(_ svae: SVAE<Float>, description: ModelDescription, modelDirectory: String, to directory: String,
                      atlas: String?, radius: Double) throws {
        guard let linear = svae.decoder.linear else {
            throw ValidationError("\(modelDirectory): --maps needs a linear decoder (an MLP decoder has no single map per latent)")
        }
        let k = svae.configuration.latent, observations = svae.configuration.observations
        let columns = (0..<k).map { latent in (0..<observations).map { Double(linear.weight.scalars[$0 * k + latent]) } }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let names = description.featureNames ?? (1...observations).map { "feature_\($0)" }
        var tsv = (["feature"] + (1...k).map { "z\($0)" }).joined(separator: "\t") + "\n"
        for row in 0..<observations { tsv += ([names[row]] + columns.map { String($0[row]) }).joined(separator: "\t") + "\n" }
        try OutputFiles.write(Data(tsv.utf8), to: directory + "/decoder_maps.tsv")
        if let projection = try VoxelProjection.load(from: modelDirectory) {
            for (latent, column) in columns.enumerated() {
                let header = NIfTIHeader.make(shape: projection.grid.shape, zooms: projection.grid.voxelSizes, affine: projection.grid.affine, code: 4)
                try NIfTIWriter.write(projection.image(projection.voxelMap(column)), header: header, to: directory + "/z\(latent + 1).nii.gz")
            }
        } else if let atlas {
            let image = try AtlasImage(atlas, radius: radius, regions: names)
            for (latent, column) in columns.enumerated() { try image.write([column], to: directory + "/z\(latent + 1).nii.gz") }
        }
    }
}
