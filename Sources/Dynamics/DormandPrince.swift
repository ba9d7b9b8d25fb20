import Core
import Foundation

/// Dormand-Prince 5(4) with torchdiffeq's step control: error ratio = RMS over all elements of
/// error / (atol + rtol max(|y0|, |y1|)); accept when <= 1; next step
/// dt min(ifactor, max(safety / ratio^(1/5), dfactor)) (dfactor 1 after an accepted step);
/// first step by Hairer-Norsett-Wanner's heuristic; outputs from the 4th-order interpolant.
enum DormandPrince {
    static let alpha: [Double] = [1.0 / 5, 3.0 / 10, 4.0 / 5, 8.0 / 9, 1, 1]
    static let beta: [[Double]] = [
        [1.0 / 5],
        [3.0 / 40, 9.0 / 40],
        [44.0 / 45, -56.0 / 15, 32.0 / 9],
        [19372.0 / 6561, -25360.0 / 2187, 64448.0 / 6561, -212.0 / 729],
        [9017.0 / 3168, -355.0 / 33, 46732.0 / 5247, 49.0 / 176, -5103.0 / 18656],
        [35.0 / 384, 0, 500.0 / 1113, 125.0 / 192, -2187.0 / 6784, 11.0 / 84],
    ]
    static let errorWeights: [Double] = [35.0 / 384 - 1951.0 / 21600, 0, 500.0 / 1113 - 22642.0 / 50085, 125.0 / 192 - 451.0 / 720,
                                         -2187.0 / 6784 - -12231.0 / 42400, 11.0 / 84 - 649.0 / 6300, -1.0 / 60]
    static let midWeights: [Double] = [6025192743.0 / 30085553152 / 2, 0, 51252292925.0 / 65400821598 / 2,
                                       -2691868925.0 / 45128329728 / 2, 187940372067.0 / 1594534317056 / 2,
                                       -1776094331.0 / 19743644256 / 2, 11237099.0 / 235043384 / 2]

    /// RMS over all elements (detached: step control does not take part in gradients).
    static func rms<S: TensorScalar>(_ values: [S]) -> Double {
        guard !values.isEmpty else { return 0 }
        return (values.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(values.count)).squareRoot()
    }

    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func weighted<S: TensorScalar>(_ k: [Tensor<S>], _ weights: [Double], scale: Double) -> Tensor<S> {
        var total: Tensor<S>? = nil
        for (term, weight) in zip(k, weights) where weight != 0 {
            let piece = term * S(weight * scale)
            total = total.map { $0 + piece } ?? piece
        }
        return total ?? k[0] * S(0)
    }

    @_specialize(where F == MLPVectorField<Float>)
    @_specialize(where F == MLPVectorField<Double>)
    static func solve<F: VectorField>(_ f: inout EvaluationCounter<F>, z0: Tensor<F.Scalar>, times: [Double],
                                      options: ODEOptions) throws -> ODESolution<F.Scalar> {
        typealias S = F.Scalar
        let rtol = options.relativeTolerance, atol = options.absoluteTolerance
        var t = times[0]
        var y = z0
        var f0 = try f(t, y)
        var dt = try options.firstStep ?? initialStep(&f, t0: t, y0: y, f0: f0, order: 4, rtol: rtol, atol: atol)
        var states = [z0]
        var steps = 0
        // Dense output of the last accepted step.
        var interval = (t0: t, t1: t, coefficients: [y])
        for target in times.dropFirst() {
            while target > interval.t1 {
                guard steps < options.maxSteps else {
                    throw ODEError("dopri5 took \(steps) steps (its step limit, ODEOptions.maxSteps) before t = \(target); the dynamics are stiff or diverging. Try a fixed-step solver (rk4), weight decay, or a larger limit")
                }
                steps += 1
                guard t + dt > t else {
                    throw ODEError("dopri5 step size underflowed (dt = \(dt)) at t = \(t); the dynamics are stiff or diverging. Try a fixed-step solver (rk4) or weight decay")
                }
                let t1 = t + dt
                var k = [f0]
                for stage in 0..<6 {
                    let ti = alpha[stage] == 1 ? t1 : t + alpha[stage] * dt
                    let yi = y + weighted(k, beta[stage], scale: dt)
                    k.append(try f(ti, yi))
                }
                // FSAL: the last stage's state is the 5th-order solution.
                let y1 = y + weighted(k, beta[5], scale: dt)
                let error = weighted(k, errorWeights, scale: dt)
                var ratios = [S](repeating: 0, count: error.count)
                for i in 0..<error.count {
                    let tolerance = atol + rtol * max(abs(Double(y.scalars[i])), abs(Double(y1.scalars[i])))
                    ratios[i] = S(Double(error.scalars[i]) / tolerance)
                }
                let ratio = rms(ratios)
                if ratio <= 1 {
                    let mid = y + weighted(k, midWeights, scale: dt)
                    interval = (t, t1, fit(y0: y, y1: y1, mid: mid, f0: k[0], f1: k[6], dt: dt))
                    t = t1
                    y = y1
                    f0 = k[6]
                }
                dt = nextStep(dt, ratio: ratio, options: options)
            }
            states.append(evaluate(interval.coefficients, t0: interval.t0, t1: interval.t1, at: target))
        }
        return ODESolution(states: states, evaluations: f.evaluations, steps: steps)
    }

    static func nextStep(_ dt: Double, ratio: Double, options: ODEOptions) -> Double {
        if ratio == 0 { return dt * options.increaseFactor }
        let decrease = ratio < 1 ? 1 : options.decreaseFactor
        return dt * min(options.increaseFactor, max(options.safety / pow(ratio, 1.0 / 5), decrease))
    }

    /// Hairer, Norsett and Wanner's starting step (torchdiffeq's `_select_initial_step`).
    static func initialStep<F: VectorField>(_ f: inout EvaluationCounter<F>, t0: Double, y0: Tensor<F.Scalar>, f0: Tensor<F.Scalar>,
                                            order: Int, rtol: Double, atol: Double) throws -> Double {
        let scale = y0.scalars.map { atol + abs(Double($0)) * rtol }
        let d0 = rms(zip(y0.scalars, scale).map { Double($0) / $1 })
        let d1 = rms(zip(f0.scalars, scale).map { Double($0) / $1 })
        let h0 = (d0 < 1e-5 || d1 < 1e-5) ? 1e-6 : 0.01 * d0 / d1
        let y1 = y0.detached + f0.detached * F.Scalar(h0)
        let f1 = try f(t0 + h0, y1)
        let d2 = rms(zip(zip(f1.scalars, f0.scalars), scale).map { (Double($0.0) - Double($0.1)) / $1 }) / h0
        let h1 = (d1 <= 1e-15 && d2 <= 1e-15) ? max(1e-6, h0 * 1e-3) : pow(0.01 / max(d1, d2), 1.0 / Double(order + 1))
        return min(100 * h0, h1)
    }

    /// Quartic through y0, y1, the midpoint and both slopes, in x = (t - t0) / dt.
    static func fit<S: TensorScalar>(y0: Tensor<S>, y1: Tensor<S>, mid: Tensor<S>, f0: Tensor<S>, f1: Tensor<S>, dt: Double) -> [Tensor<S>] {
        let h = S(dt)
        let a = (f1 - f0) * (2 * h) - (y1 + y0) * 8 + mid * 16
        let b = (f0 * 5 - f1 * 3) * h + y0 * 18 + y1 * 14 - mid * 32
        let c = (f1 - f0 * 4) * h - y0 * 11 - y1 * 5 + mid * 16
        let d = f0 * h
        return [y0, d, c, b, a]
    }

    static func evaluate<S: TensorScalar>(_ coefficients: [Tensor<S>], t0: Double, t1: Double, at t: Double) -> Tensor<S> {
        guard t1 > t0 else { return coefficients[0] }
        let x = (t - t0) / (t1 - t0)
        if x == 1 { return coefficients.dropFirst().reduce(coefficients[0]) { $0 + $1 } }
        var total = coefficients[0] + coefficients[1] * S(x)
        var power = x
        for coefficient in coefficients.dropFirst(2) {
            power *= x
            total = total + coefficient * S(power)
        }
        return total
    }
}
