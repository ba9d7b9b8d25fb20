import Foundation

/// What `fixed_points.json` holds: the fixed and slow points of a learned field, with the
/// system they belong to and how many starts were used. Written by `fixed-points`, `demo` and
/// the BIDS App's group level, read by the report; serialised only at those edges.
///
/// JSON keys (docs/analysis.md): `system`, `starts`, `counts` {stable, unstable, saddle,
/// marginal}, `fixed_points` and `slow_points`: each {z, q, eigenvalues [[re, im]],
/// classification, count, memory (joint GRU maps only)}.
public struct FixedPointReport: Codable, Equatable, Sendable {
    public struct Point: Codable, Equatable, Sendable {
        public var z: [Double]
        /// The speed 0.5 |f(z)|^2 (flows) or 0.5 |F(z) - z|^2 (maps) at the point.
        public var q: Double
        /// Jacobian eigenvalues as (real, imaginary) pairs.
        public var eigenvalues: [[Double]]
        public var classification: String
        /// Starts that converged to the point.
        public var count: Int
        /// The GRU state of a joint map's fixed point (absent otherwise).
        public var memory: [Double]?

        /// The largest real part (flows) or modulus (maps) of the eigenvalues.
        public func leadingEigenvalue(isMap: Bool) -> Double? {
            let pairs = eigenvalues.filter { $0.count == 2 }
            return isMap ? pairs.map { ($0[0] * $0[0] + $0[1] * $0[1]).squareRoot() }.max() : pairs.map { $0[0] }.max()
        }
    }

    public var system: String
    public var starts: Int
    public var counts: [String: Int]
    public var fixedPoints: [Point]
    public var slowPoints: [Point]

    enum CodingKeys: String, CodingKey {
        case system, starts, counts
        case fixedPoints = "fixed_points"
        case slowPoints = "slow_points"
    }

    /// Whether the system is a map (an RNN's update) rather than a flow.
    public var isMap: Bool { system.hasPrefix("map") }

    public init(system: String, starts: Int, counts: [String: Int], fixedPoints: [Point], slowPoints: [Point]) {
        self.system = system
        self.starts = starts
        self.counts = counts
        self.fixedPoints = fixedPoints
        self.slowPoints = slowPoints
    }

    init(fixed: [FixedPoint], slow: [FixedPoint], system: FixedPointFinder.System, starts: Int) {
        func point(_ p: FixedPoint) -> Point {
            Point(z: p.z, q: p.q, eigenvalues: p.eigenvalues.map { [$0.0, $0.1] }, classification: p.classification, count: p.count,
                  memory: p.memory.isEmpty ? nil : p.memory)
        }
        var counts: [String: Int] = ["stable": 0, "unstable": 0, "saddle": 0, "marginal": 0]
        for p in fixed { counts[p.classification, default: 0] += 1 }
        let isJointMap = fixed.contains { !$0.memory.isEmpty } || slow.contains { !$0.memory.isEmpty }
        self.init(system: system == .flow ? "flow dz/dt = f(z)" : isJointMap ? "map (z, h) -> (z + W h', h'), h' = GRU(z, h)" : "map z' = F(z)",
                  starts: starts, counts: counts, fixedPoints: fixed.map(point), slowPoints: slow.map(point))
    }

    /// Pretty-printed JSON with sorted keys.
    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(self)
    }

    /// Reads a `fixed_points.json`; the error names the file and says how to write one.
    public static func read(contentsOf path: String) throws -> FixedPointReport {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw FixedPointReportError("\(path) cannot be read; write a fixed-points JSON with fmridyn fixed-points")
        }
        do { return try JSONDecoder().decode(FixedPointReport.self, from: data) } catch {
            throw FixedPointReportError("\(path) is not a fixed-points JSON (\(error)); write one with fmridyn fixed-points")
        }
    }
}

public struct FixedPointReportError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ description: String) { self.description = description }
}
