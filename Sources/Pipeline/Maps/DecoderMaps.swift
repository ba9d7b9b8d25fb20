import Core
import Foundation
import Model
import NIfTI
import Preprocessing

/// `latents --maps`: each latent's decoder column as an image (voxel models through their PCA,
/// region models painted into the atlas their regions came from), and `decoder_maps.tsv`.
public enum DecoderMaps {
    public static func write(_ svae: SVAE<Float>, description: ModelDescription, modelDirectory: String, to directory: String,
                      atlas: String?, radius: Double) throws {
        guard let linear = svae.decoder.linear else {
            throw PipelineError("\(modelDirectory): `maps` needs a linear decoder (an MLP decoder has no single map per latent)")
        }
        let k = svae.configuration.latent, observations = svae.configuration.observations
        let columns = (0..<k).map { latent in (0..<observations).map { Double(linear.weight.scalars[$0 * k + latent]) } }
        try OutputDirectory.create(directory)
        let names = description.featureNames ?? (1...observations).map { "feature_\($0)" }
        var tsv = (["feature"] + (1...k).map { "z\($0)" }).joined(separator: "\t") + "\n"
        for row in 0..<observations { tsv += ([names[row]] + columns.map { String($0[row]) }).joined(separator: "\t") + "\n" }
        try OutputFiles.write(Data(tsv.utf8), to: directory + "/decoder_maps.tsv")
        if let projection = try VoxelProjection.load(from: modelDirectory) {
            // zK.nii.gz on the mask's grid, or zK.dscalar.nii over a grayordinate model's brain models.
            for (latent, column) in columns.enumerated() {
                try ProjectedMaps.write([column], names: ["z\(latent + 1)"], projection: projection,
                                        to: directory + "/z\(latent + 1)" + ProjectedMaps.fileExtension(projection))
            }
        } else if let atlas {
            let image = try AtlasImage(atlas, radius: radius, regions: names)
            for (latent, column) in columns.enumerated() { try image.write([column], to: directory + "/z\(latent + 1).nii.gz") }
        }
    }
}
