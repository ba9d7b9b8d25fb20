import RealModule

/// Haemodynamic response models, with nilearn's parameters.
///
/// h(t) = G(t; delay/d, d) - ratio * G(t; undershoot/u, u), G a gamma density shifted by
/// dt = TR / oversampling, sampled on `round(length / dt)` points spanning [0, length] and
/// normalised to unit sum.
public enum HemodynamicResponse: String, Sendable, CaseIterable {
    /// Glover (1999): delay 6, undershoot 12, dispersions 0.9, ratio 0.48.
    case glover
    /// SPM canonical: delay 6, undershoot 16, dispersions 1, ratio 0.167.
    case spm

    var parameters: (delay: Double, undershoot: Double, dispersion: Double, undershootDispersion: Double, ratio: Double) {
        switch self {
        case .glover: return (6, 12, 0.9, 0.9, 0.48)
        case .spm: return (6, 16, 1, 1, 0.167)
        }
    }

    /// The kernel at resolution TR / oversampling over `length` seconds.
    public func kernel(repetitionTime: Double, oversampling: Int = 50, length: Double = 32) -> [Double] {
        let dt = repetitionTime / Double(oversampling)
        let count = Int((length / dt).rounded(.toNearestOrEven))
        let p = parameters
        let times = (0..<count).map { count > 1 ? length * Double($0) / Double(count - 1) : 0 }
        func gammaDensity(_ t: Double, shape: Double, scale: Double) -> Double {
            let x = (t - dt) / scale
            guard x > 0 else { return 0 }
            return Double.exp((shape - 1) * Double.log(x) - x - Double.logGamma(shape)) / scale
        }
        var values = times.map {
            gammaDensity($0, shape: p.delay / p.dispersion, scale: p.dispersion)
                - p.ratio * gammaDensity($0, shape: p.undershoot / p.undershootDispersion, scale: p.undershootDispersion)
        }
        let sum = values.reduce(0, +)
        for index in values.indices { values[index] /= sum }
        return values
    }

    /// Time of the kernel's maximum, in seconds (about 5 s for Glover).
    public func peakTime(repetitionTime: Double, oversampling: Int = 50) -> Double {
        let values = kernel(repetitionTime: repetitionTime, oversampling: oversampling)
        let index = values.indices.max { values[$0] < values[$1] } ?? 0
        return 32 * Double(index) / Double(max(1, values.count - 1))
    }
}
