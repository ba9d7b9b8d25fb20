import Analysis
import Core
import Foundation
import Model
import NIfTI
import Preprocessing

/// `decode --maps`: the classifier refitted on every sample, its weights mapped through the
/// model's linear decoder to regions, written as TSV and (with the atlas) as a 4-D NIfTI.
public enum LocalisationMapWriter {
    /// `model`: the model of `modelDirectory` when the caller has it loaded (read from the directory otherwise).
    public static func write(features: [[Double]], labels: [String], classifier: Decoding.Classifier, latent: Int, modelDirectory: String,
                             to directory: String, atlas: String?, radius: Double, model: (SVAE<Float>, ModelDescription)? = nil) throws {
        let (svae, description) = try model ?? Trainer.loadModel(from: modelDirectory)
        guard let linear = svae.decoder.linear else {
            throw PipelineError("\(modelDirectory): `maps` needs a linear decoder (this model's is an MLP, which has no single spatial map per latent)")
        }
        guard svae.configuration.latent == latent else {
            throw PipelineError("\(modelDirectory) has \(svae.configuration.latent) latents but the CSV has \(latent) z columns; use the model that wrote the latents")
        }
        // Scales as the cross-validation uses (population SD over all samples).
        let d = features[0].count, n = Double(features.count)
        let means = (0..<d).map { f in features.reduce(0) { $0 + $1[f] } / n }
        let scales = (0..<d).map { f -> Double in
            let v = features.reduce(0) { $0 + ($1[f] - means[f]) * ($1[f] - means[f]) } / n
            return v > 0 ? v.squareRoot() : 1
        }
        let scaled = features.map { row in (0..<d).map { (row[$0] - means[$0]) / scales[$0] } }
        let classes: [String], weights: [[Double]]
        switch classifier {
        case .logisticRegression(let c):
            var model = LogisticRegression(c: c)
            model.fit(scaled, labels)
            (classes, weights) = (model.classes, model.weights)
        case .lda(let shrinkage):
            var model = LinearDiscriminant(shrinkage: shrinkage)
            model.fit(scaled, labels)
            (classes, weights) = (model.classes, model.weights)
        }
        let regions = svae.configuration.observations
        let decoder = (0..<regions).map { r in (0..<latent).map { Double(linear.weight.scalars[r * latent + $0]) } }
        let maps = LocalisationMaps.regionMaps(classifierWeights: weights, featureScales: scales, latent: latent, decoder: decoder)
        let names = description.featureNames ?? (1...regions).map { "feature_\($0)" }

        // Voxel models: the component-space maps through the PCA axes, one volume per condition.
        if let projection = try VoxelProjection.load(from: modelDirectory) {
            try OutputDirectory.create(directory)
            let file = "maps" + ProjectedMaps.fileExtension(projection)
            try ProjectedMaps.write(maps, names: classes, projection: projection, to: directory + "/" + file)
            var tsv = (["component"] + classes).joined(separator: "\t") + "\n"
            for r in 0..<regions { tsv += ([names[r]] + maps.map { String($0[r]) }).joined(separator: "\t") + "\n" }
            try OutputFiles.write(Data(tsv.utf8), to: directory + "/maps_components.tsv")
            let sidecar: [(String, JSONValue)] = [("conditions", .array(classes.map { .string($0) })), ("voxels", .integer(projection.voxels)),
                                                   ("model", .string(modelDirectory)),
                                                   ("volumes", .string("\(file) has one \(projection.brainModels == nil ? "volume" : "map") per condition, in the order of conditions")),
                                                   ("units", .string("decoded standardised signal per unit of the condition's classifier score, through the voxel PCA"))]
            try OutputFiles.write(Data((JSONValue.object(sidecar).rendered() + "\n").utf8), to: directory + "/maps.json")
            return
        }

        // Networks and voxels from the atlas, matched to the model's regions by name.
        let image = try atlas.map { try AtlasImage($0, radius: radius, regions: names) }
        let networks = image?.networks ?? [String](repeating: "n/a", count: regions)

        try OutputDirectory.create(directory)
        var tsv = (["region", "network"] + classes).joined(separator: "\t") + "\n"
        for r in 0..<regions {
            tsv += ([names[r], networks[r]] + maps.map { String($0[r]) }).joined(separator: "\t") + "\n"
        }
        try OutputFiles.write(Data(tsv.utf8), to: directory + "/maps.tsv")
        if let image { try image.write(maps, to: directory + "/maps.nii.gz") }
        var sidecar: [(String, JSONValue)] = [("conditions", .array(classes.map { .string($0) })), ("regions", .integer(regions)),
                                               ("model", .string(modelDirectory)),
                                               ("units", .string("decoded standardised signal per unit of the condition's classifier score"))]
        if image != nil { sidecar.append(("volumes", .string("maps.nii.gz has one volume per condition, in the order of conditions"))) }
        try OutputFiles.write(Data((JSONValue.object(sidecar).rendered() + "\n").utf8), to: directory + "/maps.json")
    }
}
