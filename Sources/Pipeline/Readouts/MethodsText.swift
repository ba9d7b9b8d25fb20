import Core
import Foundation
import Model
import Preprocessing

/// A methods paragraph in the manner of fMRIPrep's boilerplate: what was done, with which
/// software and settings, and what to cite; written by the BIDS App's group level as
/// `group/methods.md` (free to copy into a paper, as fMRIPrep's is).
public enum MethodsText {
    /// - Parameters:
    ///   - settings: the participant level's cleaning settings (a derivative sidecar's `Settings`).
    ///   - runs, subjects: what the model was fitted on; `atlas`: the atlas name.
    public static func render(description: ModelDescription, settings: JSONValue, runs: Int, subjects: Int, atlas: String,
                       repetitionTime: Double, decoding: Bool) -> String {
        let model = description.model, training = description.training
        func setting(_ key: String) -> String { settings[key]?.display ?? "none" }
        let versions = LibraryVersions.all.map { $0.version.hasPrefix($0.name) ? $0.version : "\($0.name) \($0.version)" }.joined(separator: "; ")
        var text = "# Methods\n\n"
        text += "Results were produced with fmridyn \(FMRIDynVersion.current) (Swift; libraries: \(versions)).\n\n"
        text += "**Region signals.** For each of \(runs) functional runs of \(subjects) subjects (repetition time \(String(format: "%.3g", repetitionTime)) s), "
        text += "regional signals were extracted with the \(atlas) atlas (\(setting("Strategy")) over each region's voxels"
        if BundledAtlases.coordinateAtlases.contains(atlas), let radius = settings["Radius"] { text += "; spheres of \(radius.display) mm around its coordinates" }
        text += "). Signals were cleaned in the order of nilearn's `signal.clean` (Abraham et al., 2014): "
        var steps: [String] = []
        if setting("Detrend") == "true" { steps.append("linear detrending") }
        if setting("HighPass") != "none" || setting("LowPass") != "none" {
            steps.append("\(setting("Filter") == "none" ? "Butterworth" : setting("Filter")) filtering (high-pass \(setting("HighPass")) Hz, low-pass \(setting("LowPass")) Hz)")
        }
        if setting("ConfoundStrategy") != "none" || setting("ConfoundColumns") != "none" {
            steps.append("regression of fMRIPrep confounds (strategies: \(setting("ConfoundStrategy")); columns: \(setting("ConfoundColumns")))")
        }
        if setting("FramewiseDisplacementThreshold") != "none" {
            steps.append("censoring of volumes with framewise displacement above \(setting("FramewiseDisplacementThreshold")) mm (Power et al., 2012)")
        }
        if setting("Standardize") != "none" { steps.append("standardisation (\(setting("Standardize")))") }
        text += (steps.isEmpty ? "none of the optional steps were applied" : steps.joined(separator: ", ")) + ".\n\n"
        text += "**Latent dynamics.** A sequential variational autoencoder (Krishnan et al., 2017) with \(model.latent) latent dimensions "
        text += model.dynamics == .node
            ? "whose state evolves as a neural ordinary differential equation (Chen et al., 2018; \(model.solver.rawValue) solver, step \(model.solverStep))"
            : "whose state evolves through a gated recurrent unit (Cho et al., 2014)"
        if model.dynamics == .node, let leak = model.fieldLeak, leak > 0 { text += " with a fixed decay of \(leak) per TR added to the field" }
        if let kernel = model.observationKernel, !kernel.isEmpty { text += ", the latents seen by the decoder through the Glover haemodynamic response (\(kernel.count) volumes)" }
        text += " was fitted to windows of \(model.window) volumes (stride \(model.stride)), inference \(model.inference.rawValue), hidden size \(model.hidden), "
        text += "\(model.decoder.rawValue) decoder, with Adam (Kingma & Ba, 2015; learning rate \(training.learningRate), batch \(training.batchSize)), "
        text += "KL weight \(training.beta) after a \(training.klWarmupEpochs)-epoch warm-up, gradient clipping at \(training.clipNorm), for at most "
        text += "\(training.epochs) epochs with early stopping on the validation ELBO (patience \(training.patience); split: \(description.split)); seed \(model.seed).\n\n"
        text += "**Read-outs.** Fixed points of the learned vector field were found by minimising its speed from starts on the latent states "
        text += "(Sussillo & Barak, 2013) and classified by the eigenvalues of the Jacobian."
        if decoding {
            text += " Task conditions (events delayed by the peak of the Glover haemodynamic response, rest excluded) were decoded from the latents "
            text += "with L2 logistic regression in cross-validation grouped by subject, against PCA, FastICA (Hyvärinen, 1999) and the raw regions at equal dimension."
        }
        text += "\n\n## References\n\n"
        text += """
            - Abraham A. et al. (2014). Machine learning for neuroimaging with scikit-learn. Front. Neuroinform. 8:14.
            - Chen R. T. Q., Rubanova Y., Bettencourt J., Duvenaud D. (2018). Neural ordinary differential equations. NeurIPS.
            - Cho K. et al. (2014). Learning phrase representations using RNN encoder-decoder for statistical machine translation. EMNLP.
            - Hyvärinen A. (1999). Fast and robust fixed-point algorithms for independent component analysis. IEEE Trans. Neural Netw. 10(3).
            - Kingma D. P., Ba J. (2015). Adam: a method for stochastic optimization. ICLR.
            - Krishnan R. G., Shalit U., Sontag D. (2017). Structured inference networks for nonlinear state space models. AAAI.
            - Power J. D. et al. (2012). Spurious but systematic correlations in functional connectivity MRI networks arise from subject motion. NeuroImage 59(3).
            - Sussillo D., Barak O. (2013). Opening the black box: low-dimensional dynamics in high-dimensional recurrent neural networks. Neural Comput. 25(3).

            """
        return text
    }
}
