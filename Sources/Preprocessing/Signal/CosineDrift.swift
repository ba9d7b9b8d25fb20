import Foundation

/// Discrete cosine (DCT-II) drift regressors for high-pass filtering by regression, as
/// nilearn's `create_cosine_drift`: sqrt(2/n) cos(pi/n (t + 1/2) k) for k = 1...order with
/// order = min(n - 1, floor(2 n f_high dt)). The constant column is not included.
public enum CosineDrift {
    public static func regressors(highPass: Double, timePoints n: Int, repetitionTime: Double) -> SignalMatrix {
        guard n > 1 else { return SignalMatrix(timePoints: n, columns: 0) }
        let order = min(n - 1, Int((2 * Double(n) * highPass * repetitionTime).rounded(.down)))
        var matrix = SignalMatrix(timePoints: n, columns: max(0, order))
        let normaliser = (2 / Double(n)).squareRoot()
        for k in stride(from: 1, through: order, by: 1) {
            for t in 0..<n {
                matrix[t, k - 1] = normaliser * cos(Double.pi / Double(n) * (Double(t) + 0.5) * Double(k))
            }
        }
        return matrix
    }
}
