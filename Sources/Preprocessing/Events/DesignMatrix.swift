/// Task regressors at the frame times, as nilearn's `make_first_level_design_matrix`
/// builds its condition columns (without drift terms): each condition's events become a
/// boxcar on a grid `oversampling` times finer than the TR starting 24 s before the first
/// frame, are convolved with the HRF, and are sampled at the frame times by linear interpolation.
public struct DesignMatrix: Sendable {
    /// Condition names, sorted (one column each).
    public let conditions: [String]
    /// `volumes x conditions`.
    public let regressors: SignalMatrix

    /// - Parameters:
    ///   - hrf: nil for the plain boxcar (used for per-volume labels).
    ///   - frameTimes: defaults to `t * TR` for `t` in `0..<volumes`.
    public init(events: [Event], volumes: Int, repetitionTime: Double, hrf: HemodynamicResponse?,
                oversampling: Int = 50, onsetShift: Double = 0) {
        let frameTimes = (0..<volumes).map { Double($0) * repetitionTime }
        conditions = Array(Set(events.map(\.condition))).sorted()
        var matrix = SignalMatrix(timePoints: volumes, columns: conditions.count)
        let (grid, gridTimes) = Self.highResolutionGrid(frameTimes: frameTimes, oversampling: oversampling)
        let kernel = hrf?.kernel(repetitionTime: Self.minimumSpacing(frameTimes), oversampling: oversampling)
        for (column, condition) in conditions.enumerated() {
            let selected = events.filter { $0.condition == condition }
            var boxcar = Self.sample(selected, on: gridTimes, count: grid, shift: onsetShift)
            if let kernel { boxcar = Self.convolve(boxcar, kernel) }
            let sampled = Self.interpolate(boxcar, at: gridTimes, frameTimes: frameTimes)
            for t in 0..<volumes { matrix[t, column] = sampled[t] }
        }
        regressors = matrix
    }

    static func minimumSpacing(_ times: [Double]) -> Double {
        guard times.count > 1 else { return 1 }
        return zip(times.dropFirst(), times).map { $0 - $1 }.min() ?? 1
    }

    /// nilearn's `_compute_n_frames_high_res` and `linspace(min - 24, max * (1 + 1/(n-1)), n_hr)`.
    static func highResolutionGrid(frameTimes: [Double], oversampling: Int) -> (Int, [Double]) {
        let n = frameTimes.count, minOnset = -24.0
        let low = frameTimes.min() ?? 0, high = frameTimes.max() ?? 0
        let spanFactor = n > 1 ? Double(n - 1) / (high - low) : 1
        let countValue = spanFactor * ((high * (1 + 1 / Double(max(1, n - 1)))) - low - minOnset) * Double(oversampling) + 1
        let count = Int(countValue.rounded(.toNearestOrEven))
        let start = low + minOnset, end = high * (1 + 1 / Double(max(1, n - 1)))
        let times = (0..<count).map { count > 1 ? start + (end - start) * Double($0) / Double(count - 1) : start }
        return (count, times)
    }

    /// The boxcar: +modulation at the first grid time >= onset, -modulation at the first grid
    /// time >= offset (one step later for zero durations), cumulatively summed.
    static func sample(_ events: [Event], on times: [Double], count: Int, shift: Double) -> [Double] {
        var steps = [Double](repeating: 0, count: count)
        func firstIndex(atLeast value: Double) -> Int {
            var low = 0, high = count  // searchsorted, side "left"
            while low < high {
                let middle = (low + high) / 2
                if times[middle] < value { low = middle + 1 } else { high = middle }
            }
            return min(low, count - 1)
        }
        for event in events {
            let onset = firstIndex(atLeast: event.onset + shift)
            var offset = firstIndex(atLeast: event.onset + shift + event.duration)
            if offset < count - 1 && offset == onset { offset += 1 }
            steps[onset] += event.modulation
            steps[offset] -= event.modulation
        }
        var running = 0.0
        for index in 0..<count {
            running += steps[index]
            steps[index] = running
        }
        return steps
    }

    /// Full convolution truncated to the signal's length (`np.convolve(x, h)[:len(x)]`).
    static func convolve(_ signal: [Double], _ kernel: [Double]) -> [Double] {
        var output = [Double](repeating: 0, count: signal.count)
        for (index, value) in signal.enumerated() where value != 0 {
            let span = min(kernel.count, signal.count - index)
            for k in 0..<span { output[index + k] += value * kernel[k] }
        }
        return output
    }

    /// Linear interpolation of (gridTimes, values) at the frame times.
    static func interpolate(_ values: [Double], at gridTimes: [Double], frameTimes: [Double]) -> [Double] {
        frameTimes.map { t in
            var low = 0, high = gridTimes.count - 1
            if t <= gridTimes[0] { return values[0] }
            if t >= gridTimes[high] { return values[high] }
            while high - low > 1 {
                let middle = (low + high) / 2
                if gridTimes[middle] <= t { low = middle } else { high = middle }
            }
            let fraction = (t - gridTimes[low]) / (gridTimes[high] - gridTimes[low])
            return values[low] + fraction * (values[high] - values[low])
        }
    }
}

/// Per-volume condition labels.
public enum ConditionLabels {
    /// The label of each volume: the condition whose boxcar (the sum of the modulations of
    /// its events with onset <= t < onset + duration, evaluated exactly at t = volume x TR)
    /// exceeds 0.5 (the largest when several do; the first in sorted order on ties), else
    /// `rest`. With `shiftByHRFPeak`, events are delayed by that HRF's peak time so labels
    /// follow the BOLD response rather than the stimulus.
    public static func labels(events: [Event], volumes: Int, repetitionTime: Double,
                              shiftByHRFPeak hrf: HemodynamicResponse? = nil, rest: String = "rest") -> [String] {
        let shift = hrf?.peakTime(repetitionTime: repetitionTime) ?? 0
        let conditions = Array(Set(events.map(\.condition))).sorted()
        return (0..<volumes).map { volume in
            let t = Double(volume) * repetitionTime
            var best: (String, Double)? = nil
            for condition in conditions {
                let value = events.reduce(0.0) { sum, event in
                    let start = event.onset + shift
                    return event.condition == condition && start <= t && t < start + event.duration ? sum + event.modulation : sum
                }
                if value > 0.5 && value > (best?.1 ?? -.infinity) { best = (condition, value) }
            }
            return best?.0 ?? rest
        }
    }
}
