import Analysis
import ArgumentParser
import Foundation
import Pipeline
import Preprocessing

/// `fmridyn decode`: how well latent timeseries predict the task condition of each volume.
struct Decode: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Cross-validated decoding of task conditions from a latents CSV.",
        discussion: """
            Multinomial L2 logistic regression (scikit-learn's objective, C = --c) on the z1..zK \
            columns (features z-scored on each training fold), folds from scikit-learn's GroupKFold \
            over --groups, balanced accuracy per fold. --lags L appends each volume's previous L \
            volumes of the same run. JSON keys: balanced_accuracy_mean, balanced_accuracy_sd, \
            per_fold, per_class_recall, confusion (rows true, columns predicted, in classes order), \
            classes, chance, p_value (null without --permutations). --classifier lda uses scikit-learn's \
            lsqr LDA (optional --shrinkage: a number in [0, 1], or auto for Ledoit-Wolf). \
            --model DIR --maps MAPS_DIR refits the classifier on every sample and maps its weights \
            through the model's linear decoder to regions: MAPS_DIR/maps.tsv (region, network, one \
            column per condition) and, with --atlas, maps.nii.gz (one volume per condition).

            Example:
              fmridyn decode latents.csv --target condition --groups subject --folds 5 --exclude rest --out decoding.json
              fmridyn decode latents.csv --exclude rest --out decoding.json --model model --maps maps --atlas power264 --radius 6
            """
    )

    @Argument(help: "A latents CSV from fmridyn latents.")
    var latents: String
    @Option var target = "condition"
    @Option var groups = "subject"
    @Option var folds = 5
    @Option(help: "logreg or lda.")
    var classifier: Decoding.ClassifierKind = .logreg
    @Option(help: "LDA shrinkage: a number in [0, 1], or auto (Ledoit-Wolf, as scikit-learn's shrinkage='auto'); none by default.")
    var shrinkage: String?
    @Option var lags = 0
    @Option(help: "Labels to leave out, comma-separated (e.g. rest).")
    var exclude: String?
    @Option var permutations = 0
    @Option(help: "Inverse regularisation strength.")
    var c = 1.0
    @Option var out: String
    @Option(help: "With --maps: the model directory whose linear decoder maps the classifier weights to regions.")
    var model: String?
    @Option(help: "Write spatial localisation maps here: maps.tsv (region x condition) and, with --atlas, maps.nii.gz.")
    var maps: String?
    @Option(help: "With --maps: the atlas the regions came from (bundled name, label image or coordinate TSV) to paint maps.nii.gz.")
    var atlas: String?
    @Option(help: "With --maps and a coordinate atlas: sphere radius in mm.")
    var radius = 5.0
    @OptionGroup var diagnostics: DiagnosticOptions

    func validate() throws {
        try NumericOptions.count("--permutations", permutations, 0...100_000, why: "each permutation refits every fold")
        if shrinkage != nil, ldaShrinkage == nil { throw ValidationError("--shrinkage must be auto or a number between 0 and 1.") }
        guard folds >= 2 else { throw ValidationError("--folds must be at least 2.") }
        try NumericOptions.positive("--c", c)
        try NumericOptions.positive("--radius", radius, unit: "mm")
        guard lags >= 0, permutations >= 0 else { throw ValidationError("--lags and --permutations must be 0 or more.") }
        if (maps == nil) != (model == nil) { throw ValidationError("--maps DIR and --model DIR go together: the maps need the model's decoder.") }
        if atlas != nil && maps == nil { throw ValidationError("--atlas only applies with --maps.") }
    }

    /// The classifier of --classifier, --c and --shrinkage.
    var chosenClassifier: Decoding.Classifier { classifier == .lda ? .lda(shrinkage: ldaShrinkage) : .logisticRegression(c: c) }

    /// The parsed --shrinkage (nil when absent or invalid).
    var ldaShrinkage: LinearDiscriminant.Shrinkage? {
        guard let shrinkage else { return nil }
        if shrinkage == "auto" { return .ledoitWolf }
        guard let alpha = Double(shrinkage), (0...1).contains(alpha) else { return nil }
        return .fixed(alpha)
    }

    /// The decoding these options ask for.
    var decoding: LatentDecoding {
        var decoding = LatentDecoding()
        decoding.target = target
        decoding.groups = groups
        decoding.folds = folds
        decoding.classifier = chosenClassifier
        decoding.lags = lags
        decoding.permutations = permutations
        decoding.excluded = Set(exclude.map { $0.split(separator: ",").map(String.init) } ?? [])
        return decoding
    }

    func run() throws {
        try OutputLocation.requireWritable(file: out)
        let decoding = self.decoding
        let samples = try decoding.samples(latentsCSV: latents)
        let result = decoding.decode(samples)
        for warning in result.warnings { diagnostics.makeLogger().warning("\(latents): \(warning)") }
        try OutputFiles.write(Data((LatentDecoding.record(result, samples: samples).rendered() + "\n").utf8), to: out)
        if let maps, let model {
            try LocalisationMapWriter.write(features: samples.features, labels: samples.labels, classifier: chosenClassifier, latent: samples.latent,
                                            modelDirectory: model, to: maps, atlas: atlas, radius: radius)
        }
        print(String(format: "balanced accuracy %.3f +- %.3f over %d folds (chance %.3f)", result.mean, result.sd, result.perFold.count, result.chance))
    }
}
