import Foundation

/// The temporal filter of `SignalCleaner`.
public enum TemporalFilter: String, Sendable, CaseIterable {
    /// Butterworth (order 5 by default), zero-phase: nilearn's default filter.
    case butterworth
    /// DCT drift regressors added to the confounds (high-pass only), as nilearn's `cosine`.
    case cosine
    /// FFT brick wall (fmridyn only; differs from nilearn, see `FourierFilter`).
    case fft
}

/// What `SignalCleaner` does, mirroring nilearn's `signal.clean` parameters.
public struct CleaningOptions: Equatable, Sendable {
    public var detrend = false
    public var filter: TemporalFilter? = nil
    /// Hz; frequencies below are removed.
    public var highPass: Double? = nil
    /// Hz; frequencies above are removed.
    public var lowPass: Double? = nil
    /// Seconds; required by every filter and by censoring with interpolation.
    public var repetitionTime: Double? = nil
    public var standardize: Standardization = .none
    /// z-score confounds before projecting them out (nilearn's default); otherwise scale by max |value|.
    public var standardizeConfounds = true
    public var butterworthOrder = 5

    public init(detrend: Bool = false, filter: TemporalFilter? = nil, highPass: Double? = nil, lowPass: Double? = nil,
                repetitionTime: Double? = nil, standardize: Standardization = .none, standardizeConfounds: Bool = true) {
        self.detrend = detrend
        self.filter = filter
        self.highPass = highPass
        self.lowPass = lowPass
        self.repetitionTime = repetitionTime
        self.standardize = standardize
        self.standardizeConfounds = standardizeConfounds
    }

    /// Whether anything at all is asked (nilearn maskers do nothing by default; so does fmridyn).
    public var isIdentity: Bool { !detrend && filter == nil && standardize == .none }
}

/// A user error in the cleaning request, with its fix.
public struct CleaningError: Error, CustomStringConvertible, Equatable, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Cleans the signals of one run in nilearn's order:
/// 1. censored volumes filled by cubic spline (Butterworth) or dropped (other filters);
/// 2. detrend (mean and linear trend) of signals and confounds;
/// 3. filter signals and confounds alike, then drop censored volumes;
/// 4. project out the confounds (standardised, pivoted QR);
/// 5. standardise.
///
/// Everything that depends only on the run (filter design, confound basis, spline weights)
/// is prepared once in `init`; `clean` then works on any block of columns, so voxel-mode
/// data can be cleaned a slab at a time.
public struct SignalCleaner: Sendable {
    public let options: CleaningOptions
    public let timePoints: Int
    /// Volumes kept after censoring (all when nothing is censored).
    public let keptTimePoints: [Int]
    /// Number of confound regressors projected out (after collinear ones are dropped).
    public var confoundRank: Int { projection?.rank ?? 0 }
    private let zeroPhase: ZeroPhaseFilter?
    private let projection: ConfoundProjection?
    private let spline: CubicSplineWeights?
    /// Volumes the temporal steps run on (all, the kept ones, or the span between the first
    /// and last kept volume when censored volumes are interpolated).
    private let workingRows: [Int]
    /// Positions in `workingRows` that are censored and interpolated, and that are kept.
    private let interpolatedPositions: [Int]
    private let keptPositions: [Int]

    /// - Parameters:
    ///   - timePoints: volumes in the run.
    ///   - confounds: `timePoints` rows of nuisance regressors, or nil.
    ///   - keep: per-volume flags (false = censored), or nil to keep every volume.
    public init(options: CleaningOptions, timePoints: Int, confounds: SignalMatrix? = nil, keep: [Bool]? = nil) throws {
        self.options = options
        self.timePoints = timePoints
        guard timePoints >= 1 else { throw CleaningError("the run has no volumes to clean") }
        if let confounds, confounds.timePoints != timePoints {
            throw CleaningError("the confounds have \(confounds.timePoints) rows but the run has \(timePoints) volumes; give one confound row per volume")
        }
        if let keep, keep.count != timePoints {
            throw CleaningError("the censoring mask has \(keep.count) entries but the run has \(timePoints) volumes; give one 1/0 line per volume")
        }
        let kept = keep.map { flags in flags.indices.filter { flags[$0] } } ?? Array(0..<timePoints)
        guard !kept.isEmpty else { throw CleaningError("every volume is censored; loosen `fdThreshold`/`dvarsThreshold` or check the censor file") }
        keptTimePoints = kept
        let censoredCount = timePoints - kept.count

        try Self.validate(options)
        // With the Butterworth filter, censored volumes between kept ones are filled by a cubic
        // spline so the filter sees a regular series; censored volumes before the first or
        // after the last kept one are dropped (no extrapolation, nilearn's default). Other
        // filters drop censored volumes first.
        let interpolates = options.filter == .butterworth && censoredCount > 0
        let workingRows = interpolates ? Array(kept[0]...kept[kept.count - 1]) : kept
        let keptSet = Set(kept)
        let interpolatedPositions = interpolates ? workingRows.indices.filter { !keptSet.contains(workingRows[$0]) } : []
        let keptPositions = interpolates ? workingRows.indices.filter { keptSet.contains(workingRows[$0]) } : Array(workingRows.indices)
        self.workingRows = workingRows
        self.interpolatedPositions = interpolatedPositions
        self.keptPositions = keptPositions
        let workingLength = workingRows.count

        var spline: CubicSplineWeights? = nil
        var zeroPhase: ZeroPhaseFilter? = nil
        if interpolates, !interpolatedPositions.isEmpty, let tr = options.repetitionTime {
            spline = CubicSplineWeights(knownTimes: keptPositions.map { Double(workingRows[$0]) * tr },
                                        queryTimes: interpolatedPositions.map { Double(workingRows[$0]) * tr })
        }
        self.spline = spline

        if options.filter == .butterworth, let tr = options.repetitionTime {
            let rate = 1 / tr
            let band: Butterworth.Band
            switch (options.highPass, options.lowPass) {
            case let (high?, low?): band = .bandPass(high, low)
            case let (high?, nil): band = .highPass(high)
            case let (nil, low?): band = .lowPass(low)
            case (nil, nil): band = .lowPass(rate / 2)  // unreachable: validate requires a cutoff
            }
            let filter = ZeroPhaseFilter(Butterworth.design(order: options.butterworthOrder, band: band, samplingRate: rate))
            guard workingLength > filter.padLength else {
                throw CleaningError("the Butterworth filter needs more than \(filter.padLength) volumes (its zero-phase padding); the run has \(workingLength). Use `filter` cosine or a longer run")
            }
            zeroPhase = filter
        }
        self.zeroPhase = zeroPhase

        // Confounds go through the same steps as the signals, then get standardised.
        var allConfounds = confounds
        if options.filter == .cosine, let high = options.highPass, let tr = options.repetitionTime {
            let drift = CosineDrift.regressors(highPass: high, timePoints: timePoints, repetitionTime: tr)
            if drift.columns > 0 {
                allConfounds = allConfounds.map { Self.appendUnlessPresent(drift, to: $0) } ?? drift
            }
        }
        if var matrix = allConfounds, matrix.columns > 0 {
            if censoredCount > 0 { matrix = matrix.selectingTimePoints(workingRows) }
            let fourier = options.filter == .fft ? Self.makeFourier(options, length: matrix.timePoints) : nil
            matrix.values.withUnsafeMutableBufferPointer { block in
                Self.temporalSteps(block, timePoints: matrix.timePoints, columns: matrix.columns, options: options,
                                   spline: spline, interpolated: interpolatedPositions, kept: keptPositions,
                                   zeroPhase: zeroPhase, fourier: fourier)
            }
            if interpolates { matrix = matrix.selectingTimePoints(keptPositions) }
            let count = matrix.timePoints
            matrix.values.withUnsafeMutableBufferPointer { all in
                for column in 0..<matrix.columns {
                    let signal = UnsafeMutableBufferPointer(rebasing: all[(column * count)..<((column + 1) * count)])
                    if options.standardizeConfounds {
                        Standardization.zscore.apply(signal)
                    } else {
                        let largest = signal.reduce(0) { max($0, abs($1)) }
                        if largest > 0 { for index in signal.indices { signal[index] /= largest } }
                    }
                }
            }
            projection = ConfoundProjection(confounds: matrix)
        } else {
            projection = nil
        }
    }

    private static func validate(_ options: CleaningOptions) throws {
        // Written so that NaN fails too (every comparison with NaN is false).
        if let high = options.highPass, !(high > 0 && high.isFinite) { throw CleaningError("`highPass` must be a positive number of Hz (got \(high))") }
        if let low = options.lowPass, !(low > 0 && low.isFinite) { throw CleaningError("`lowPass` must be a positive number of Hz (got \(low))") }
        if let high = options.highPass, let low = options.lowPass, high >= low {
            throw CleaningError("`highPass` (\(high) Hz) must be below `lowPass` (\(low) Hz): the band between them is what is kept")
        }
        guard let filter = options.filter else {
            if options.highPass != nil || options.lowPass != nil {
                throw CleaningError("cutoffs were given without a filter; add `filter` butterworth (or cosine, fft)")
            }
            return
        }
        guard let tr = options.repetitionTime, tr > 0, tr.isFinite else {
            throw CleaningError("filtering needs the repetition time; pass `repetitionTime` SECONDS (or fix pixdim[4] / RepetitionTime)")
        }
        let nyquist = 0.5 / tr
        for (name, cutoff) in [("`highPass`", options.highPass), ("`lowPass`", options.lowPass)] {
            if let cutoff, cutoff >= nyquist {
                throw CleaningError("\(name) \(cutoff) Hz is at or above the Nyquist frequency \(nyquist) Hz (TR \(tr) s); choose a cutoff below \(nyquist) Hz")
            }
        }
        switch filter {
        case .butterworth, .fft:
            if options.highPass == nil && options.lowPass == nil {
                throw CleaningError("`filter` \(filter.rawValue) needs `highPass` and/or `lowPass`")
            }
        case .cosine:
            if options.highPass == nil { throw CleaningError("`filter` cosine is a high-pass filter; give `highPass` HZ") }
        }
    }

    private static func makeFourier(_ options: CleaningOptions, length: Int) -> FourierFilter? {
        guard let tr = options.repetitionTime else { return nil }
        return FourierFilter(length: length, repetitionTime: tr, highPass: options.highPass, lowPass: options.lowPass)
    }

    /// nilearn skips cosine regressors when the user's confounds already hold them
    /// (correlation above 0.9 with any column).
    private static func appendUnlessPresent(_ drift: SignalMatrix, to confounds: SignalMatrix) -> SignalMatrix {
        func correlation(_ a: ArraySlice<Double>, _ b: ArraySlice<Double>) -> Double {
            let n = Double(a.count)
            let meanA = a.reduce(0, +) / n, meanB = b.reduce(0, +) / n
            var ab = 0.0, aa = 0.0, bb = 0.0
            for (x, y) in zip(a, b) { ab += (x - meanA) * (y - meanB); aa += (x - meanA) * (x - meanA); bb += (y - meanB) * (y - meanB) }
            return aa > 0 && bb > 0 ? ab / (aa * bb).squareRoot() : 0
        }
        for d in 0..<drift.columns {
            for c in 0..<confounds.columns where correlation(drift.column(d), confounds.column(c)) > 0.9 {
                return confounds
            }
        }
        return confounds.appendingColumns(drift)
    }

    /// Steps 1-3 (interpolate, detrend, filter) on a column-major block, in place.
    private static func temporalSteps(_ block: UnsafeMutableBufferPointer<Double>, timePoints: Int, columns: Int,
                                      options: CleaningOptions, spline: CubicSplineWeights?, interpolated: [Int], kept: [Int],
                                      zeroPhase: ZeroPhaseFilter?, fourier: FourierFilter?) {
        spline?.fill(block, timePoints: timePoints, columns: columns, knownIndices: kept, queryIndices: interpolated)
        func signal(_ column: Int) -> UnsafeMutableBufferPointer<Double> {
            UnsafeMutableBufferPointer(rebasing: block[(column * timePoints)..<((column + 1) * timePoints)])
        }
        let pad = zeroPhase?.padLength ?? 0
        var scratch = [Double](repeating: 0, count: timePoints + 2 * pad)
        var lanes = [SIMD4<Double>](repeating: .zero, count: zeroPhase == nil ? 0 : timePoints + 2 * pad)
        var column = 0
        while column < columns {
            let group = zeroPhase != nil && columns - column >= 4 ? 4 : 1
            for member in column..<(column + group) {
                if options.detrend { Detrend.apply(signal(member)) }
                fourier?.apply(signal(member))
            }
            if let zeroPhase {
                if group == 4 {
                    lanes.withUnsafeMutableBufferPointer { zeroPhase.apply4((column..<(column + 4)).map(signal), scratch: $0) }
                } else {
                    scratch.withUnsafeMutableBufferPointer { zeroPhase.apply(signal(column), scratch: $0) }
                }
            }
            column += group
        }
    }

    /// Cleans a run's signals (every column); the result has `keptTimePoints.count` rows.
    public func clean(_ signals: SignalMatrix) -> SignalMatrix {
        var matrix = signals
        clean(&matrix)
        return matrix
    }

    /// Cleans in place (no copy of the matrix unless volumes are censored). Columns are
    /// independent until the confound projection, so the temporal steps and the
    /// standardisation run on `threads` column slabs at once.
    public func clean(_ matrix: inout SignalMatrix, threads: Int = ProcessInfo.processInfo.activeProcessorCount) {
        precondition(matrix.timePoints == timePoints, "signals must have the run's \(timePoints) volumes")
        if keptTimePoints.count < timePoints { matrix = matrix.selectingTimePoints(workingRows) }
        let count = matrix.timePoints, columns = matrix.columns
        let originalMeans = options.standardize == .psc
            ? (0..<columns).map { matrix.column($0).reduce(0, +) / Double(count) } : []
        // FFTW plans are made once per slab here, not concurrently (FFTW's planner is not thread-safe).
        let slabs = Self.slabs(columns: columns, threads: options.filter == .fft ? 1 : threads)
        let fourier = options.filter == .fft ? Self.makeFourier(options, length: count) : nil
        let (spline, interpolated, kept, zeroPhase) = (self.spline, interpolatedPositions, keptPositions, self.zeroPhase)
        let options = self.options
        matrix.values.withUnsafeMutableBufferPointer { all in
            nonisolated(unsafe) let block = all
            nonisolated(unsafe) let fourier = fourier
            DispatchQueue.concurrentPerform(iterations: slabs.count) { slab in
                let range = slabs[slab]
                let part = UnsafeMutableBufferPointer(rebasing: block[(range.lowerBound * count)..<(range.upperBound * count)])
                Self.temporalSteps(part, timePoints: count, columns: range.count, options: options, spline: spline,
                                   interpolated: interpolated, kept: kept, zeroPhase: zeroPhase, fourier: fourier)
            }
        }
        if keptPositions.count < matrix.timePoints { matrix = matrix.selectingTimePoints(keptPositions) }
        let rows = matrix.timePoints
        matrix.values.withUnsafeMutableBufferPointer { all in
            projection?.apply(all, columns: columns)
            nonisolated(unsafe) let block = all
            DispatchQueue.concurrentPerform(iterations: slabs.count) { slab in
                for column in slabs[slab] {
                    let signal = UnsafeMutableBufferPointer(rebasing: block[(column * rows)..<((column + 1) * rows)])
                    if options.standardize == .psc {
                        // nilearn adds the original mean back when cleaning removed it.
                        let mean = signal.reduce(0, +) / Double(rows)
                        if abs(mean) < 0.1 * abs(originalMeans[column]) {
                            for index in signal.indices { signal[index] += originalMeans[column] }
                        }
                    }
                    options.standardize.apply(signal)
                }
            }
        }
    }

    /// Contiguous column ranges, one per thread (a single one for small inputs).
    static func slabs(columns: Int, threads: Int) -> [Range<Int>] {
        let count = max(1, min(threads, columns / 64))
        let size = (columns + count - 1) / max(1, count)
        return stride(from: 0, to: max(columns, 1), by: max(size, 1)).map { $0..<min(columns, $0 + size) }
    }
}
