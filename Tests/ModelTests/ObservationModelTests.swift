import Core
import Dynamics
import Preprocessing
import TestSupport
import XCTest

@testable import Model

/// The HRF-aware observation model, the encoder lead, burn-in and decoder covariates.
final class ObservationModelTests: XCTestCase {
    func configuration() -> SVAEConfiguration {
        var c = SVAEConfiguration(observations: 5)
        c.latent = 2
        c.hidden = 3
        c.window = 6
        c.solverStep = 0.5
        c.observationKernel = [0.1, 0.5, 0.3, 0.2, -0.1]
        c.encoderLead = 2
        c.burnIn = 2
        c.covariates = ["trans_x", "global_signal"]
        return c
    }

    /// Every parameter's gradient (covariate map included) against central differences.
    func testObjectiveGradientWithKernelLeadBurnInAndCovariates() throws {
        for inference in SVAEConfiguration.Inference.allCases {
            var c = configuration()
            c.inference = inference
            var model = SVAE<Double>(configuration: c)
            for (name, path) in model.parameters where name.contains("node") || name.contains("covariates") {
                model[keyPath: path] = model[keyPath: path].detached + Tensor(repeating: 0.05, shape: model[keyPath: path].shape)
            }
            XCTAssertNotNil(model.parameters.first { $0.name == "decoder.covariates.weight" })
            let x = windows(2, 6, 7, seed: 1)
            func loss(_ m: SVAE<Double>) -> Tensor<Double> {
                var random = RandomSource(seed: 99)
                return (try? m.objective(x, klWeight: 0.7, random: &random).loss) ?? Tensor(.nan)
            }
            assertGradientsMatchCentralDifferences(model, every: 5, label: "\(inference)", loss)
        }
    }

    /// Lead: the encoder reads x_{t+2} (the last volume repeated). Burn-in: the reconstruction
    /// term is the likelihood of the volumes after the first two only.
    func testBurnInAndLead() throws {
        var c = configuration()
        c.covariates = nil
        let model = SVAE<Double>(configuration: c)
        let x = windows(1, 6, 5, seed: 2)
        let led = model.led(x).scalars
        for t in 0..<6 {
            for f in 0..<5 { XCTAssertEqual(led[t * 5 + f], x.scalars[min(t + 2, 5) * 5 + f]) }
        }
        // Observation: burn-in 2 of 6 volumes means the reconstruction sums 4 volumes of 5
        // features; with the latents fixed, it equals the NLL of the last four volumes.
        var random = RandomSource(seed: 5)
        let objective = try model.objective(x, klWeight: 0, random: &random)
        var again = RandomSource(seed: 5)
        let (latents, _) = try model.sampleLatents(x, random: &again)
        let mean = model.observe(latents).slice(alongAxis: 1, 2..<6)
        let expected = GaussianTerms.negativeLogLikelihood(x.slice(alongAxis: 1, 2..<6), mean: mean, logVariance: model.decoder.logVariance)
        XCTAssertEqual(Double(objective.reconstruction), expected.scalar, accuracy: 1e-9)
    }

    /// On known latents (each condition's boxcar at the volumes), the HRF observation equals the
    /// Glover regressors of the events' design matrix sampled at the TR, up to the kernel's
    /// resolution (nilearn-style regressors are built 50 times finer than the TR).
    func testHRFObservationMatchesTheDesignMatrix() throws {
        let tr = 2.0, volumes = 60
        let events = [Event(onset: 10, duration: 20, condition: "a"), Event(onset: 70, duration: 16, condition: "a"),
                      Event(onset: 40, duration: 10, condition: "b")]
        let design = DesignMatrix(events: events, volumes: volumes, repetitionTime: tr, hrf: .glover)
        var c = SVAEConfiguration(observations: 2)
        c.latent = 2
        c.observationKernel = HemodynamicResponse.glover.kernel(repetitionTime: tr, oversampling: 1)
        let model = SVAE<Double>(configuration: c)
        var boxcars = [Double](repeating: 0, count: volumes * 2)
        for t in 0..<volumes {
            for (d, name) in ["a", "b"].enumerated() {
                let time = Double(t) * tr
                if events.contains(where: { $0.condition == name && $0.onset <= time && time < $0.onset + $0.duration }) { boxcars[t * 2 + d] = 1 }
            }
        }
        let convolved = model.haemodynamic(Tensor(shape: [1, volumes, 2], scalars: boxcars)).scalars
        for (d, name) in ["a", "b"].enumerated() {
            guard let column = design.conditions.firstIndex(of: name) else { return XCTFail("no regressor for \(name)") }
            let regressor = (0..<volumes).map { design.regressors[$0, column] }
            let peak = regressor.map(abs).max() ?? 1
            // Both are unit-sum responses to the same boxcar: steady states agree, onsets differ
            // by the sub-TR timing of the finer kernel.
            let model = (0..<volumes).map { convolved[$0 * 2 + d] }
            let error = zip(model, regressor).map { abs($0 - $1) }.max() ?? 1
            XCTAssertLessThan(error / peak, 0.15, "\(name): max |kernel - design| = \(error) of peak \(peak)")
            let correlation = Self.correlation(model, regressor)
            XCTAssertGreaterThan(correlation, 0.98, "\(name)")
        }
    }

    /// A predictive-posterior model with two known inputs, its field moved off zero.
    func predictiveModel(_ dynamics: SVAEConfiguration.DynamicsKind, shootingInterval: Int? = nil) -> SVAE<Double> {
        var c = configuration()
        c.dynamics = dynamics
        c.covariates = nil
        c.predictivePosterior = true
        c.externalInputs = ["a", "b"]
        c.shootingInterval = shootingInterval
        var model = SVAE<Double>(configuration: c)
        for (name, path) in model.parameters where name.contains("node") {
            model[keyPath: path] = model[keyPath: path].detached + Tensor(repeating: 0.05, shape: model[keyPath: path].shape)
        }
        return model
    }

    /// The objective's gradient against central differences on two windows and their inputs,
    /// which are returned.
    @discardableResult
    func checkPredictiveGradient(_ model: SVAE<Double>, label: String) -> (Tensor<Double>, Tensor<Double>) {
        let x = windows(2, 6, 5, seed: 1), u = windows(2, 6, 2, seed: 4)
        func loss(_ m: SVAE<Double>) -> Tensor<Double> {
            var random = RandomSource(seed: 99)
            return (try? m.objective(x, inputs: u, klWeight: 0.7, random: &random).loss) ?? Tensor(.nan)
        }
        let checked = assertGradientsMatchCentralDifferences(model, every: 5, label: label, loss)
        XCTAssertGreaterThan(checked, 20)
        return (x, u)
    }

    /// The predictive posterior: its gradient (dynamics, input map and encoder) against central
    /// differences, and with the encoder's head silenced the filtered path is the field's own
    /// driven rollout from z_0 = 0 (the correction is all the encoder adds).
    func testPredictivePosterior() throws {
        for dynamics in SVAEConfiguration.DynamicsKind.allCases {
            let model = predictiveModel(dynamics)
            let (x, u) = checkPredictiveGradient(model, label: "predictive \(dynamics)")

            var silenced = model
            silenced.encoder.posterior.weight = Tensor(zeros: silenced.encoder.posterior.weight.shape)
            if let bias = silenced.encoder.posterior.bias { silenced.encoder.posterior.bias = Tensor(zeros: bias.shape) }
            let filtered = try silenced.filteredPath(x, inputs: u).scalars
            let rollout = try silenced.dynamics.path(Tensor(zeros: [2, 2]), steps: 5, drives: silenced.drives(u, steps: 5)).scalars
            XCTAssertEqual(filtered.count, rollout.count)
            for (a, b) in zip(filtered, rollout) { XCTAssertEqual(a, b, accuracy: 1e-12, "\(dynamics)") }
            XCTAssertTrue(rollout.contains { abs($0) > 1e-3 }, "the field moves the state")
            // Without the option the silenced encoder's path stays at 0.
            var plain = silenced.configuration
            plain.predictivePosterior = nil
            var encoderOnly = SVAE<Double>(configuration: plain)
            for (name, path) in encoderOnly.parameters { encoderOnly[keyPath: path] = silenced[keyPath: silenced.parameters.first { $0.name == name }!.path] }
            XCTAssertTrue(try encoderOnly.filteredPath(x, inputs: u).scalars.allSatisfy { $0 == 0 })
        }
    }

    /// Multiple shooting (`shootingInterval` M): the gradient against central differences;
    /// between the nodes t = 0, M, 2M the filtered path is exactly the field's driven rollout
    /// from the last node, at a node the encoder's correction moves it off that rollout; with
    /// one node per window the KL is the t = 0 posterior's against N(0, I) alone.
    func testMultipleShooting() throws {
        for dynamics in SVAEConfiguration.DynamicsKind.allCases {
            let model = predictiveModel(dynamics, shootingInterval: 3)
            let c = model.configuration
            let (x, u) = checkPredictiveGradient(model, label: "shooting \(dynamics)")

            let path = try model.filteredPath(x, inputs: u)
            func state(_ t: Int) -> Tensor<Double> { path.slice(alongAxis: 1, t..<(t + 1)).reshaped([2, 2]) }
            // The GRU carries a memory across steps, so its rollout restarts only at t = 0.
            for node in dynamics == .node ? [0, 3] : [0] {
                let drive = model.drives(u.slice(alongAxis: 1, node..<6), steps: 3)
                let rollout = try model.dynamics.path(state(node), steps: 3, drives: drive)
                for offset in 1...2 {
                    let expected = rollout.slice(alongAxis: 1, offset..<(offset + 1)).scalars
                    for (a, b) in zip(state(node + offset).scalars, expected) { XCTAssertEqual(a, b, accuracy: 1e-12, "\(dynamics) t=\(node + offset)") }
                }
                if node == 0 {
                    // The node at t = 3 is corrected: it is not where the rollout from t = 0 arrives.
                    let arrival = rollout.slice(alongAxis: 1, 3..<4).scalars
                    XCTAssertGreaterThan(zip(state(3).scalars, arrival).map { abs($0 - $1) }.max() ?? 0, 1e-4, "\(dynamics)")
                }
            }

            var single = c
            single.shootingInterval = 6
            var one = SVAE<Double>(configuration: single)
            for (name, path) in one.parameters { one[keyPath: path] = model[keyPath: model.parameters.first { $0.name == name }!.path] }
            var random = RandomSource(seed: 5)
            let kl = try one.objective(x, inputs: u, klWeight: 1, random: &random).kl
            let (mean, logVariance) = one.posterior(one.encoderStates(x), step: 0, previous: Tensor(zeros: [2, 2]))
            let expected = GaussianTerms.klPerDimension(mean: mean, logVariance: logVariance).sum().scalar / 2
            XCTAssertEqual(kl, expected, accuracy: 1e-10, "\(dynamics)")
        }
    }

    /// Known inputs follow the latents' level: a model with an observation kernel takes the
    /// events' boxcars (neural time), one without takes nilearn's HRF-convolved regressors.
    func testExternalInputsFollowTheLatentsLevel() throws {
        let tr = 2.0, volumes = 40
        let events = [Event(onset: 10, duration: 20, condition: "a"), Event(onset: 50, duration: 10, condition: "b")]
        var run = RunData(timeseries: SignalMatrix(timePoints: volumes, columns: 3), repetitionTime: tr)
        run.events = events
        var c = SVAEConfiguration(observations: 3)
        c.externalInputs = ["a", "b", "c"]
        var bold = [run]
        try ExternalInputs.attach(&bold, for: c)
        c.observationKernel = HemodynamicResponse.glover.kernel(repetitionTime: tr, oversampling: 1)
        var neural = [run]
        try ExternalInputs.attach(&neural, for: c)
        let design = DesignMatrix(events: events, volumes: volumes, repetitionTime: tr, hrf: .glover)
        for t in 0..<volumes {
            let time = Double(t) * tr
            for (column, name) in ["a", "b"].enumerated() {
                XCTAssertEqual(bold[0].inputs?[t, column] ?? .nan, design.regressors[t, column], accuracy: 1e-12, "BOLD-level \(name) at \(t)")
                let event = events.first { $0.condition == name }!
                // Inside the block (a TR from its edges) the boxcar is 1, outside it 0.
                if time >= event.onset + tr && time <= event.onset + event.duration - tr {
                    XCTAssertEqual(neural[0].inputs?[t, column] ?? .nan, 1, accuracy: 1e-9, "neural \(name) at \(t)")
                } else if time < event.onset - tr || time > event.onset + event.duration + tr {
                    XCTAssertEqual(neural[0].inputs?[t, column] ?? .nan, 0, accuracy: 1e-9, "neural \(name) at \(t)")
                }
            }
            // A condition without events is a zero channel at both levels.
            XCTAssertEqual(neural[0].inputs?[t, 2], 0)
            XCTAssertEqual(bold[0].inputs?[t, 2], 0)
        }
        // The convolved regressor lags the boxcar: at the block's onset volume it is still near 0.
        XCTAssertLessThan(abs(bold[0].inputs?[6, 0] ?? 1), 0.05)
    }

    static func correlation(_ a: [Double], _ b: [Double]) -> Double {
        let ma = a.reduce(0, +) / Double(a.count), mb = b.reduce(0, +) / Double(b.count)
        var ab = 0.0, aa = 0.0, bb = 0.0
        for (x, y) in zip(a, b) { ab += (x - ma) * (y - mb); aa += (x - ma) * (x - ma); bb += (y - mb) * (y - mb) }
        return ab / (aa * bb).squareRoot()
    }

    /// Forecasts: with a kernel, the first forecast volume depends on the window's path, and the
    /// covariates of the forecast volumes shift it by D c.
    func testForecastShapesAndCovariates() throws {
        var c = configuration()
        c.burnIn = nil
        var model = SVAE<Double>(configuration: c)
        model.decoder.covariateMap?.weight = Tensor(repeating: 0.5, shape: [5, 2])
        let x = windows(3, 6, 7, seed: 4)
        let zero = Tensor<Double>(zeros: [3, 4, 2])
        let ones = Tensor<Double>(repeating: 1, shape: [3, 4, 2])
        let base = try model.forecast(x, steps: 4, future: zero)
        let shifted = try model.forecast(x, steps: 4, future: ones)
        XCTAssertEqual(base.shape, [3, 4, 5])
        for (a, b) in zip(base.scalars, shifted.scalars) { XCTAssertEqual(b - a, 1.0, accuracy: 1e-12) }
    }
}
