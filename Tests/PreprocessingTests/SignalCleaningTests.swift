import Foundation
import TestSupport
import XCTest

@testable import Preprocessing

/// Signal cleaning against nilearn 0.14 / scipy 1.17 (bench/golden/signal_clean.py).
final class SignalCleaningTests: XCTestCase {
    nonisolated(unsafe) static let golden: [String: Any] = {
        (try? Fixtures.json("signal/golden.json") as? [String: Any]) ?? [:]
    }()

    func matrix(_ any: Any?) -> SignalMatrix { SignalMatrix(rows: GoldenArray(any).rows) }
    func array(_ any: Any?) -> [Double] { GoldenArray(any).values }

    var inputs: [String: Any] { Self.golden["inputs"] as? [String: Any] ?? [:] }

    func testButterworthSectionsMatchScipy() throws {
        let cases = try XCTUnwrap(Self.golden["butter"] as? [[String: Any]])
        XCTAssertEqual(cases.count, 4)
        let signal = matrix(inputs["signals"]).column(0)
        for entry in cases {
            let fs = try XCTUnwrap(entry["fs"] as? Double)
            let band: Butterworth.Band
            switch entry["btype"] as? String {
            case "low": band = .lowPass(try XCTUnwrap(entry["wn"] as? Double))
            case "high": band = .highPass(try XCTUnwrap(entry["wn"] as? Double))
            default:
                let edges = try XCTUnwrap(entry["wn"] as? [Double])
                band = .bandPass(edges[0], edges[1])
            }
            let sos = Butterworth.design(order: 5, band: band, samplingRate: fs)
            let expected = GoldenArray(entry["sos"])
            XCTAssertEqual(sos.sections.count, expected.shape[0], "\(band)")
            XCTAssertClose(sos.sections.flatMap { $0 }, expected.values, absolute: 1e-12, relative: 1e-9, "\(band)")
            let filter = ZeroPhaseFilter(sos)
            XCTAssertClose(filter.steadyState, array(entry["zi"]), absolute: 1e-12, relative: 1e-9, "zi \(band)")
            var values = Array(signal)
            var scratch = [Double](repeating: 0, count: values.count + 2 * filter.padLength)
            values.withUnsafeMutableBufferPointer { v in scratch.withUnsafeMutableBufferPointer { filter.apply(v, scratch: $0) } }
            XCTAssertClose(values, array(entry["filtfilt"]), absolute: 1e-9, relative: 1e-9, "sosfiltfilt \(band)")
        }
    }

    func testCubicSplineMatchesScipyNotAKnot() throws {
        let entry = try XCTUnwrap(Self.golden["cubic_spline"] as? [String: Any])
        let known = array(entry["known_times"]), values = array(entry["known_values"]), query = array(entry["query_times"])
        XCTAssertEqual(known.count, 25)
        let spline = CubicSplineWeights(knownTimes: known, queryTimes: query)
        let interpolated = (0..<query.count).map { row in (0..<known.count).reduce(0.0) { $0 + spline.weights[row * known.count + $1] * values[$1] } }
        XCTAssertClose(interpolated, array(entry["values"]), absolute: 1e-10, relative: 1e-9)
    }

    func testSplineSpecialCases() {
        // Two points: a line (extrapolated); three: the parabola through them.
        let line = CubicSplineWeights(knownTimes: [0, 2], queryTimes: [1, 3])
        XCTAssertEqual(line.weights, [0.5, 0.5, -0.5, 1.5])
        let parabola = CubicSplineWeights(knownTimes: [0, 1, 3], queryTimes: [2])
        let y = [0.0, 1, 9]  // y = t^2
        XCTAssertClose(zip(parabola.weights, y).reduce(0) { $0 + $1.0 * $1.1 }, 4, relative: 1e-12)
    }

    func testCosineDriftMatchesNilearn() throws {
        let entry = try XCTUnwrap(Self.golden["cosine"] as? [String: Any])
        let expected = GoldenArray(entry["drift"]).rows
        let drift = CosineDrift.regressors(highPass: 0.01, timePoints: 150, repetitionTime: 2)
        // nilearn's last column is the constant, which clean() drops.
        XCTAssertEqual(drift.columns, expected[0].count - 1)
        XCTAssertClose(drift.rows.flatMap { $0 }, expected.flatMap { $0.dropLast() }, absolute: 1e-12, relative: 0)
    }

    func testCleanMatchesNilearn() throws {
        let cases = try XCTUnwrap(Self.golden["clean"] as? [[String: Any]])
        XCTAssertEqual(cases.count, 12)
        let signals = matrix(inputs["signals"])
        let confounds = matrix(inputs["confounds"])
        let keep = (inputs["keep"] as? [Int] ?? []).map { $0 == 1 }
        for entry in cases {
            let name = entry["name"] as? String ?? "?"
            let raw = entry["options"] as? [String: Any] ?? [:]
            var options = CleaningOptions()
            options.detrend = raw["detrend"] as? Bool ?? false
            switch raw["filter"] as? String {
            case "butterworth": options.filter = .butterworth
            case "cosine": options.filter = .cosine
            default: options.filter = nil
            }
            options.highPass = raw["high_pass"] as? Double
            options.lowPass = raw["low_pass"] as? Double
            options.repetitionTime = raw["t_r"] as? Double
            switch raw["standardize"] as? String {
            case "zscore_sample": options.standardize = .zscore
            case "psc": options.standardize = .psc
            default: options.standardize = .none
            }
            options.standardizeConfounds = raw["standardize_confounds"] as? Bool ?? true
            let useConfounds = raw["confounds"] as? Bool ?? false
            let censor = raw["censor"] as? Bool ?? false
            let cleaner = try SignalCleaner(options: options, timePoints: signals.timePoints,
                                            confounds: useConfounds ? confounds : nil, keep: censor ? keep : nil)
            let result = cleaner.clean(signals)
            let expected = matrix(entry["result"])
            XCTAssertEqual(result.timePoints, expected.timePoints, name)
            XCTAssertClose(result.values, expected.values, absolute: 1e-6, relative: 1e-6, name)
            if useConfounds { XCTAssertEqual(cleaner.confoundRank, options.filter == .cosine ? 3 + 6 : 3, "\(name): the collinear column is dropped") }
        }
    }

    func testUserErrorsNameTheFix() {
        func message(_ options: CleaningOptions, timePoints: Int = 150) -> String {
            do { _ = try SignalCleaner(options: options, timePoints: timePoints); return "" } catch { return "\(error)" }
        }
        XCTAssertTrue(message(CleaningOptions(filter: .butterworth, lowPass: 0.1)).contains("`repetitionTime`"))
        XCTAssertTrue(message(CleaningOptions(filter: .butterworth, lowPass: 0.3, repetitionTime: 2)).contains("Nyquist"))
        XCTAssertTrue(message(CleaningOptions(filter: .butterworth, highPass: 0.1, lowPass: 0.05, repetitionTime: 2)).contains("below `lowPass`"))
        XCTAssertTrue(message(CleaningOptions(filter: .cosine, lowPass: 0.1, repetitionTime: 2)).contains("`highPass`"))
        XCTAssertTrue(message(CleaningOptions(filter: .butterworth, highPass: 0.01, lowPass: 0.1, repetitionTime: 2), timePoints: 30).contains("33 volumes"))
        XCTAssertTrue(message(CleaningOptions(highPass: 0.01)).contains("`filter`"))
    }

    func testFourierFilterKeepsOnlyTheBand() {
        // Sum of sinusoids at bins 3, 10 and 40 of 128 samples (TR 1 s): a 0.05-0.2 Hz band
        // keeps only bin 10 (0.078 Hz) exactly.
        let n = 128
        let tone = { (bin: Int, t: Int) in cos(2 * Double.pi * Double(bin) * Double(t) / Double(n)) }
        var signal = (0..<n).map { tone(3, $0) + tone(10, $0) + tone(40, $0) }
        let filter = FourierFilter(length: n, repetitionTime: 1, highPass: 0.05, lowPass: 0.2)
        signal.withUnsafeMutableBufferPointer { filter.apply($0) }
        XCTAssertClose(signal, (0..<n).map { tone(10, $0) }, absolute: 1e-12, relative: 0)
    }
}
