/// Limited-memory BFGS (memory 10) with a backtracking Armijo line search; stops when the
/// largest gradient entry is at most `tolerance` (scipy's pgtol test) or the objective stops
/// decreasing.
public enum LBFGS {
    /// Minimises f (returning its value and gradient) from `start`.
    public static func minimize(_ f: ([Double]) -> (Double, [Double]), start: [Double], tolerance: Double, maxIterations: Int) -> [Double] {
        var x = start
        var (value, gradient) = f(x)
        var s: [[Double]] = [], y: [[Double]] = []
        func dot(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } }
        for _ in 0..<maxIterations {
            if (gradient.map(abs).max() ?? 0) <= tolerance { break }
            // Two-loop recursion.
            var q = gradient
            var alphas: [Double] = []
            for (si, yi) in zip(s, y).reversed() {
                let alpha = dot(si, q) / dot(yi, si)
                alphas.append(alpha)
                for i in q.indices { q[i] -= alpha * yi[i] }
            }
            if let sl = s.last, let yl = y.last { let scale = dot(sl, yl) / dot(yl, yl); q = q.map { $0 * scale } }
            for ((si, yi), alpha) in zip(zip(s, y), alphas.reversed()) {
                let beta = dot(yi, q) / dot(yi, si)
                for i in q.indices { q[i] += si[i] * (alpha - beta) }
            }
            var direction = q.map { -$0 }
            if dot(direction, gradient) >= 0 { direction = gradient.map { -$0 }; s.removeAll(); y.removeAll() }
            // Without curvature pairs the direction is the raw gradient, whose scale is
            // arbitrary: start its line search at a unit-length step (as L-BFGS-B does).
            var step = s.isEmpty ? min(1, 1 / max(dot(direction, direction).squareRoot(), 1e-300)) : 1.0
            var next = x, nextValue = value, nextGradient = gradient
            for _ in 0..<50 {
                next = zip(x, direction).map { $0 + step * $1 }
                (nextValue, nextGradient) = f(next)
                if nextValue <= value + 1e-4 * step * dot(gradient, direction) { break }
                step *= 0.5
            }
            let sk = zip(next, x).map { $0 - $1 }, yk = zip(nextGradient, gradient).map { $0 - $1 }
            if dot(sk, yk) > 1e-12 {
                s.append(sk); y.append(yk)
                if s.count > 10 { s.removeFirst(); y.removeFirst() }
            }
            let improvement = value - nextValue
            x = next; value = nextValue; gradient = nextGradient
            if abs(improvement) < 1e-15 * max(1, abs(value)) { break }
        }
        return x
    }
}
