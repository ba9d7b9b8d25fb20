import CFFTW

/// Brick-wall band-pass by FFT (FFTW): zeroes every frequency outside [highPass, lowPass].
///
/// This is not nilearn's filter (it has no `fft` option): a brick wall rings (Gibbs) and treats
/// the run as periodic, but it removes exactly the band asked for. Not thread-safe; one per thread.
public final class FourierFilter {
    public let length: Int
    private let real: UnsafeMutablePointer<Double>
    private let spectrum: OpaquePointer
    private let forward: fftw_plan
    private let inverse: fftw_plan
    private let keep: [Bool]

    /// - Parameters: cutoffs in Hz (nil: no bound), `repetitionTime` in seconds.
    public init(length: Int, repetitionTime: Double, highPass: Double?, lowPass: Double?) {
        self.length = length
        real = fftw_alloc_real(length)
        let bins = length / 2 + 1
        spectrum = OpaquePointer(fftw_alloc_complex(bins))
        forward = fftw_plan_dft_r2c_1d(Int32(length), real, UnsafeMutablePointer(spectrum), UInt32(FFTW_ESTIMATE))
        inverse = fftw_plan_dft_c2r_1d(Int32(length), UnsafeMutablePointer(spectrum), real, UInt32(FFTW_ESTIMATE))
        keep = (0..<bins).map { bin in
            let frequency = Double(bin) / (Double(length) * repetitionTime)
            return (highPass.map { frequency >= $0 } ?? true) && (lowPass.map { frequency <= $0 } ?? true)
        }
    }

    deinit {
        fftw_destroy_plan(forward)
        fftw_destroy_plan(inverse)
        fftw_free(real)
        fftw_free(UnsafeMutableRawPointer(spectrum))
    }

    public func apply(_ signal: UnsafeMutableBufferPointer<Double>) {
        precondition(signal.count == length)
        for index in 0..<length { real[index] = signal[index] }
        fftw_execute(forward)
        let bins = UnsafeMutablePointer<Double>(spectrum)
        for (bin, kept) in keep.enumerated() where !kept {
            bins[2 * bin] = 0
            bins[2 * bin + 1] = 0
        }
        fftw_execute(inverse)
        let scale = 1 / Double(length)
        for index in 0..<length { signal[index] = real[index] * scale }
    }
}
