import Analysis
import Core
import Foundation
import Model
import Preprocessing
import Reporting

/// What is read out of a fitted model, and where it goes.
public struct ReadoutPlan: Sendable {
    public var model: ModelDirectory
    /// Receives `latents.csv`, `fixed_points.json`, `decoding.json` and `maps/`.
    public var directory: String
    /// Starts of the fixed-point search, drawn around the latent trajectories.
    public var fixedPointStarts = 1024
    /// Seed of the starts and of FastICA.
    public var seed: UInt64 = 1
    /// GroupKFold folds by subject (at most the number of subjects).
    public var folds = 5
    /// Labels that are not decoded.
    public var excluded: Set<String> = ["rest"]
    /// The atlas the regions came from, for `maps/maps.nii.gz` and networks (region models).
    public var mapsAtlas: String?
    /// Sphere radius (mm) of a coordinate atlas.
    public var mapsRadius = 5.0
    /// The model's name in the decoding table (default: its dynamics, NODE or RNN).
    public var modelName: String?

    public init(model: ModelDirectory, directory: String) {
        self.model = model
        self.directory = directory
    }

    public var latents: String { directory + "/latents.csv" }
    public var fixedPoints: String { directory + "/fixed_points.json" }
    public var decoding: String { directory + "/decoding.json" }
    public var maps: String { directory + "/maps" }
}

/// The read-outs of a fitted model on its runs, in the order the pipeline makes them:
/// posterior-mean latents, fixed points of the learned dynamics from starts on the latents,
/// task decoding of the latents against PCA, FastICA and the raw regions at equal dimension
/// (same volumes, same folds), and the classifier's maps through a linear decoder.
public struct Readouts: Sendable {
    public var trajectories: [LatentTrajectory]
    public var fixedPoints: [FixedPoint]
    public var fixedPointReport: FixedPointReport
    /// nil when decoding was skipped (`decodingSkipped` says why).
    public var decoding: DecodingReport?
    /// The decoded volumes (with `decoding`).
    public var samples: DecodingSamples?
    public var decodingSkipped: String?
    /// The comparison as a plain-text table (with `decoding`).
    public var decodingTable: String?
    /// `maps/maps.tsv` when the maps were written (linear decoder, decoding done).
    public var mapsTable: String?

    /// Every volume's latents, runs in order.
    public var states: [[Double]] { trajectories.flatMap(\.states) }

    /// Computes and writes the read-outs of `runs` (as the model sees them: projected for
    /// voxel models). `labels` gives per run one decoding label per row (HRF-aligned; nil
    /// where a run has none); decoding needs labels for every run, two subjects and two classes.
    public static func compute(_ plan: ReadoutPlan, runs: [RunData], labels: [[String]?]) throws -> Readouts {
        precondition(labels.count == runs.count, "one label list per run")
        let (svae, description) = try plan.model.load()
        try OutputDirectory.create(plan.directory)
        let trajectories = try LatentExport.trajectories(model: svae, runs: runs)
        try LatentExport.write(trajectories, latent: svae.configuration.latent, to: plan.latents)
        let states = trajectories.flatMap(\.states)

        let starts = ModelFixedPoints.starts(from: states, dimension: svae.configuration.latent, count: plan.fixedPointStarts, seed: plan.seed)
        let (fixed, slow, system) = ModelFixedPoints.find(model: svae, starts: starts)
        let fixedPointReport = ModelFixedPoints.report(fixed: fixed, slow: slow, system: system, starts: starts.count)
        try OutputFiles.write(try fixedPointReport.encoded(), to: plan.fixedPoints)
        var readouts = Readouts(trajectories: trajectories, fixedPoints: fixed, fixedPointReport: fixedPointReport, decoding: nil, samples: nil,
                                decodingSkipped: nil, decodingTable: nil, mapsTable: nil)

        let subjects = Set(runs.map(\.subject))
        guard labels.allSatisfy({ $0 != nil }), subjects.count >= 2 else {
            readouts.decodingSkipped = "it needs events for every run and at least two subjects (have \(subjects.count))"
            return readouts
        }
        guard svae.configuration.inputCount == 0 else {
            readouts.decodingSkipped = "the model was fitted with the task as external inputs; its latents carry the labels"
            return readouts
        }
        let samples = DecodingSamples(labels: labels, groups: runs.map(\.subject), excluding: plan.excluded)
        guard samples.classes.count >= 2 else {
            readouts.decodingSkipped = "fewer than two conditions remain after leaving out \(plan.excluded.sorted().joined(separator: ", "))"
            return readouts
        }
        let regions = runs.map(\.standardized.rows)
        let latentRows = trajectories.map(\.states)
        let k = svae.configuration.latent
        let dynamics = description.model.dynamics.rawValue
        let features = samples.rows(of: latentRows)
        let methods = [DecodingComparison.Method(name: plan.modelName ?? dynamics.uppercased(), kind: dynamics, features: features)]
            + (try DecodingBaseline.methods(DecodingBaseline.allCases, allVolumes: regions.flatMap { $0 }, rows: samples.rows(of: regions),
                                            components: k, seed: plan.seed))
        let folds = min(plan.folds, subjects.count)
        let comparison = DecodingComparison(methods: methods, labels: samples.labels, groups: samples.groups, folds: folds)
        let decoding = DecodingReport(comparison, folds: folds, groups: "subject", samples: samples.count, classifier: Decoding.ClassifierKind.logreg.rawValue)
        try OutputFiles.write(Data(decoding.rendered.utf8), to: plan.decoding)
        readouts.decoding = decoding
        readouts.samples = samples
        readouts.decodingTable = comparison.table

        if svae.decoder.linear != nil {
            try LocalisationMapWriter.write(features: features, labels: samples.labels, classifier: .logisticRegression(c: 1), latent: k,
                                            modelDirectory: plan.model.path, to: plan.maps, atlas: plan.mapsAtlas, radius: plan.mapsRadius,
                                            model: (svae, description))
            readouts.mapsTable = plan.maps + "/maps.tsv"
        }
        return readouts
    }

    /// The report page: training, latents, fixed points, then `data` (the data summary's HTML),
    /// decoding, maps, `methods` (Markdown) and provenance.
    public func report(_ plan: ReadoutPlan, data: String?, methods: String?) throws -> HTMLReport {
        var report = try ReportSections.assemble(model: plan.model.path, latents: plan.latents, fixedPoints: plan.fixedPoints)
        if let data { report.add(id: "data", title: "Data", body: data) }
        if let decoding { report.add(id: "decoding", title: "Task decoding", body: ReportSections.decodingSection(decoding)) }
        if let mapsTable { report.add(id: "maps", title: "Spatial maps", body: try ReportSections.mapsSection(path: mapsTable)) }
        if let methods { report.add(id: "methods", title: "Methods", body: MarkdownHTML.render(methods)) }
        report.add(id: "provenance", title: "Provenance", body: ReportSections.provenance(model: plan.model.path))
        return report
    }
}
