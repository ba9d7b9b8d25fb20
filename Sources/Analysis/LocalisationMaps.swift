/// Spatial localisation of a task decoder: the classifier's weights on the latents mapped back
/// through the model's linear decoder to the observed regions.
public enum LocalisationMaps {
    /// maps[c][r] = sum_k D[r][k] v_c[k], with v_c[k] = sum over lags l of w_c[l K + k] / s[l K + k]:
    /// the classifier weights w (classes x (lags + 1) K, fitted on features divided by their
    /// scales s) in latent units, summed over lags, pushed through the decoder D (regions x K).
    /// Region r's value for condition c is how much the decoded brain pattern of "more c"
    /// changes there (standardised signal units per unit of the class score).
    public static func regionMaps(classifierWeights: [[Double]], featureScales: [Double], latent: Int, decoder: [[Double]]) -> [[Double]] {
        classifierWeights.map { weights in
            var latentWeights = [Double](repeating: 0, count: latent)
            for (index, w) in weights.enumerated() { latentWeights[index % latent] += w / featureScales[index] }
            return decoder.map { row in zip(row, latentWeights).reduce(0) { $0 + $1.0 * $1.1 } }
        }
    }
}
