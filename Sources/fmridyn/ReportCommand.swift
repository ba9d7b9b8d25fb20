import ArgumentParser
import Foundation
import Model
import Pipeline
import Preprocessing

/// `fmridyn report`: one self-contained HTML page to look at a fit.
struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a self-contained HTML report (inline SVG, opens offline) of a fitted model.",
        discussion: """
            Sections: training curves from MODEL_DIR/training_log.csv (ELBO and validation ELBO, \
            reconstruction and KL, learning rate); with --latents, the first run's latent time \
            courses with condition blocks shaded and all volumes on the top two principal axes \
            coloured by condition; with --fixed-points, the fixed points on that projection \
            (filled = stable) and their Jacobian eigenvalues in the complex plane; with --decoding, \
            balanced accuracy with fold SD against chance (one bar per method for a fmridyn \
            compare JSON) and the confusion matrix; with --maps (from fmridyn decode --maps), each \
            condition's map as mean +- SD over the regions of each network (the 20 strongest regions \
            when the atlas names no networks); provenance \
            (version, command line, model configuration).

            Example:
              fmridyn report --model fit-out --latents latents.csv --fixed-points fixed_points.json \\
                --decoding decoding.json --out report.html
            """
    )

    @Option(help: "A model directory written by fmridyn fit.")
    var model: String
    @Option(help: "A latents CSV from fmridyn latents.")
    var latents: String?
    @Option(name: .customLong("fixed-points"), help: "A JSON file from fmridyn fixed-points.")
    var fixedPoints: String?
    @Option(help: "A JSON file from fmridyn decode or fmridyn compare.")
    var decoding: String?
    @Option(help: "Condition maps from fmridyn decode --maps: maps.tsv (regions, drawn by network) or maps.nii.gz (voxels, drawn as maximum-intensity projections).")
    var maps: String?
    @Option(help: "A directory of per-latent decoder maps z1.nii.gz... from fmridyn latents --maps (drawn as maximum-intensity projections).")
    var latentMaps: String?
    @Option(help: "The HTML file to write.")
    var out: String
    @OptionGroup var diagnostics: DiagnosticOptions

    func validate() throws {
        guard out.hasSuffix(".html") || out.hasSuffix(".htm") else { throw ValidationError("--out must name an .html file (got \(out)).") }
    }

    func run() throws {
        var report = try ReportSections.assemble(model: model, latents: latents, fixedPoints: fixedPoints)
        if let decoding { report.add(id: "decoding", title: "Task decoding", body: try ReportSections.decodingSection(path: decoding)) }
        if let maps {
            let lower = maps.lowercased()
            let body = lower.hasSuffix(".nii") || lower.hasSuffix(".nii.gz") ? try ReportSections.imageMapsSection(path: maps) : try ReportSections.mapsSection(path: maps)
            report.add(id: "maps", title: "Spatial maps", body: body)
        }
        if let latentMaps { report.add(id: "latent-maps", title: "Decoder maps per latent", body: try ReportSections.latentMapsSection(directory: latentMaps)) }
        report.add(id: "provenance", title: "Provenance", body: ReportSections.provenance(model: model))
        try OutputFiles.write(Data(report.rendered().utf8), to: out)
        print("wrote \(out) (\(report.sections.map(\.id).joined(separator: ", ")))")
    }
}
