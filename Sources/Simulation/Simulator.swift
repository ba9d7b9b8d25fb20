import Core
import Foundation
import NIfTI
import Preprocessing

/// Settings of `fmridyn simulate`.
public struct SimulationOptions: Sendable, Codable {
    public var subjects = 4
    public var runs = 2
    public var volumes = 284
    public var repetitionTime = 0.72
    /// Voxel size in mm: 2, 3 or 4 (the bundled MNI 2 mm mask, resampled).
    public var grid = 2
    /// Multiplies every noise source (1 = realistic task fMRI, 0 = noise-free).
    public var noise = 1.0
    /// Latent dimension of the multistable and switching systems (the planar ones have 2).
    public var latentDimension = 4
    /// The true latent dynamics.
    public var system: SystemKind = .multistable
    /// Structured nuisance: fast (AR(1), phi 0.5 per TR), spatially smooth fluctuations of three
    /// broad components whose variance over the brain is `nuisance` times the task signal's;
    /// absent from the confounds (0 = none).
    public var nuisance = 0.0
    public var seed: UInt64 = 1
    public var task = "motor"

    public init() {}
}

/// What a simulation wrote.
public struct SimulationResult: Sendable {
    public var root: String
    public var boldFiles: [String]
    public var grid: Grid
    public var brainVoxels: Int
}

/// Task-fMRI with known latent dynamics, written as a BIDS dataset with fMRIPrep-style confounds
/// and the ground truth (latents, fixed points, spatial maps).
///
/// Per subject: latent spatial maps are pairs of Gaussian blobs (FWHM ~19 mm) at motor-network
/// coordinates inside the MNI brain mask, jittered in place (2 mm) and amplitude (10%) between
/// subjects. Per run: a block design of the five motor conditions drives `LatentSystem`; the
/// latents are convolved with the Glover HRF; voxels = baseline 1000 x (1 + 3% maps . latents)
/// plus, scaled by `noise`: AR(1) noise (1%), slow drift, a global signal, cardiac (1.1 Hz) and
/// respiratory (0.3 Hz) oscillations aliased by the TR, and motion whose six parameters also
/// leak into the data.
public struct Simulator {
    public let options: SimulationOptions
    public var progress: ((String) -> Void)?

    public init(options: SimulationOptions) { self.options = options }

    static let centres: [(Double, Double, Double)] = [
        (38, -22, 56), (-38, -22, 56), (8, -28, 70), (-8, -28, 70), (56, -6, 28), (-56, -6, 28),
        (0, -10, 52), (22, -58, -22), (-22, -58, -22), (44, -30, 46),
    ]

    public func run(into root: String) throws -> SimulationResult {
        let o = options
        guard [2, 3, 4].contains(o.grid) else { throw AtlasError("`grid` must be 2mm, 3mm or 4mm") }
        guard o.subjects >= 1, o.runs >= 1, o.volumes >= 10, o.repetitionTime > 0, o.latentDimension >= 2, o.noise >= 0, o.noise.isFinite,
              o.nuisance >= 0, o.nuisance.isFinite else {
            throw AtlasError("simulation needs at least 1 subject and run, 10 volumes, a positive TR, 2 latent dimensions, finite noise >= 0 and nuisance >= 0")
        }
        guard let maskPath = try BundledAtlases.path(for: "mni152") else { throw AtlasError("the bundled MNI mask is missing") }
        // One simulator per dataset directory at a time.
        let lock = try DirectoryLock.acquire(root, purpose: "simulate")
        defer { lock.release() }
        let mniMask = try BrainMask(contentsOf: maskPath)
        let grid = Self.grid(from: mniMask.grid, voxelSize: Double(o.grid))
        let mask = try mniMask.resampled(to: grid, path: maskPath)
        let system = LatentSystem(kind: o.system, dimension: o.latentDimension, seed: o.seed)
        try OutputDirectory.create(root + "/ground_truth")
        try SimulationSidecars.write(SimulationSidecars.DatasetDescription(Name: "fmridyn simulated motor task", DatasetType: "raw"),
                                     to: root + "/dataset_description.json")
        try SimulationSidecars.write(SimulationSidecars.DatasetDescription(Name: "fmridyn-sim confounds", DatasetType: "derivative"),
                                     to: try ensureDirectory(root + "/derivatives/fmridyn-sim") + "/dataset_description.json")
        // fMRIPrep's confounds name (BEP012) has no suffix in BIDS 1.11; listed so validators pass.
        try OutputFiles.write(Data("# fMRIPrep-style confounds (BEP012 names; no BIDS 1.11 suffix exists for them)\n*_desc-confounds_timeseries.tsv\n*_desc-confounds_timeseries.json\n".utf8),
                              to: root + "/derivatives/fmridyn-sim/.bidsignore")
        try writeFixedPoints(system, to: root + "/ground_truth/fixed_points.json")
        // The ground truth is not BIDS data: validators skip what .bidsignore lists.
        try OutputFiles.write(Data(Self.bidsignore.utf8), to: root + "/.bidsignore")

        let inside = mask.indices
        let world = inside.map { index -> (Double, Double, Double) in
            let i = index % grid.shape[0], j = (index / grid.shape[0]) % grid.shape[1], k = index / (grid.shape[0] * grid.shape[1])
            return grid.affine.apply((Double(i), Double(j), Double(k)))
        }
        var boldFiles: [String] = []
        for subjectNumber in 1...o.subjects {
            let subject = String(format: "%02d", subjectNumber)
            var random = RandomSource(seed: o.seed &* 1_000_003 &+ UInt64(subjectNumber))
            let maps = spatialMaps(world: world, count: system.dimension, random: &random)
            try writeMaps(maps, inside: inside, grid: grid, subject: subject, root: root)
            // Drawn from their own stream so that data without nuisance stay as before.
            var nuisanceRandom = RandomSource(seed: o.seed &* 7_919 &+ UInt64(subjectNumber) &+ 0x5A5A)
            let nuisanceMaps = o.nuisance > 0 ? self.nuisanceMaps(world: world, random: &nuisanceRandom) : []
            for run in 1...o.runs {
                progress?("simulating sub-\(subject) run \(run)")
                let file = try simulateRun(subject: subject, run: run, system: system, maps: maps, nuisanceMaps: nuisanceMaps,
                                           nuisanceRandom: &nuisanceRandom, inside: inside, grid: grid, random: &random, root: root)
                boldFiles.append(file)
            }
        }
        return SimulationResult(root: root, boldFiles: boldFiles, grid: grid, brainVoxels: inside.count)
    }

    /// An axis-aligned grid of the given voxel size covering the MNI mask's box.
    static func grid(from source: Grid, voxelSize: Double) -> Grid {
        let sourceSize = source.voxelSizes[0]
        if abs(sourceSize - voxelSize) < 1e-6 { return source }
        let shape = source.shape.map { Int((Double($0) * sourceSize / voxelSize).rounded(.up)) }
        var affine = source.affine
        for axis in 0..<3 { affine[axis, axis] = source.affine[axis, axis] / sourceSize * voxelSize }
        return Grid(shape: shape, affine: affine)
    }

    /// maps[k][v]: weight of latent k at in-brain voxel v.
    func spatialMaps(world: [(Double, Double, Double)], count: Int, random: inout RandomSource) -> [[Double]] {
        let sigma = 8.0
        return (0..<count).map { k in
            let amplitude = 1 + 0.1 * random.normal()
            var weights = [Double](repeating: 0, count: world.count)
            for (blob, sign) in [(2 * k, 1.0), (2 * k + 1, -0.6)] {
                let c = Self.centres[blob % Self.centres.count]
                let centre = (c.0 + 2 * random.normal(), c.1 + 2 * random.normal(), c.2 + 2 * random.normal())
                Self.addBlob(to: &weights, world: world, centre: centre, sigma: sigma, weight: sign * amplitude)
            }
            return weights
        }
    }

    /// weights[v] += weight exp(-|p_v - centre|^2 / (2 sigma^2)) at every voxel position p_v (mm).
    static func addBlob(to weights: inout [Double], world: [(Double, Double, Double)], centre: (Double, Double, Double), sigma: Double,
                        weight: Double) {
        for (v, p) in world.enumerated() {
            let d2 = (p.0 - centre.0) * (p.0 - centre.0) + (p.1 - centre.1) * (p.1 - centre.1) + (p.2 - centre.2) * (p.2 - centre.2)
            weights[v] += weight * Foundation.exp(-d2 / (2 * sigma * sigma))
        }
    }

    /// Three nuisance maps: each two broad blobs (sigma 15 mm, random signs) centred on random
    /// brain voxels, so they overlap task and non-task regions alike.
    func nuisanceMaps(world: [(Double, Double, Double)], random: inout RandomSource) -> [[Double]] {
        let sigma = 15.0
        return (0..<3).map { _ in
            var weights = [Double](repeating: 0, count: world.count)
            for _ in 0..<2 {
                let centre = world[Int(random.next() % UInt64(world.count))]
                let sign = random.uniform() < 0.5 ? -1.0 : 1.0
                Self.addBlob(to: &weights, world: world, centre: centre, sigma: sigma, weight: sign)
            }
            return weights
        }
    }

    func simulateRun(subject: String, run: Int, system: LatentSystem, maps: [[Double]], nuisanceMaps: [[Double]],
                     nuisanceRandom: inout RandomSource, inside: [Int], grid: Grid, random: inout RandomSource, root: String) throws -> String {
        let o = options
        let k = system.dimension
        let tr = o.repetitionTime, volumes = o.volumes
        let duration = Double(volumes) * tr
        let events = Paradigm.blocks(conditions: Array(system.inputs.keys).sorted(), duration: duration, random: &random)
        // Latents on a fine grid (TR / 10), HRF-convolved, sampled at the volumes.
        let oversampling = 10
        let fineTimes = (0..<(volumes * oversampling)).map { Double($0) * tr / Double(oversampling) }
        let start = (0..<k).map { _ in random.uniform() < 0.5 ? -1.0 : 1.0 }
        let neural = system.integrate(from: start, sampleTimes: fineTimes, condition: { Paradigm.active(at: $0, in: events) },
                                      random: &random)
        try Self.requireFinite(neural, times: fineTimes, system: system.kind, subject: subject, run: run)
        let kernel = HemodynamicResponse.glover.kernel(repetitionTime: tr, oversampling: oversampling)
        var bold = [[Double]](repeating: [Double](repeating: 0, count: k), count: volumes)
        for d in 0..<k {
            let series = neural.map { $0[d] }
            for t in 0..<volumes {
                let index = t * oversampling
                var sum = 0.0
                for (lag, weight) in kernel.enumerated() where lag <= index { sum += weight * series[index - lag] }
                bold[t][d] = sum
            }
        }
        let neuralAtVolumes = (0..<volumes).map { neural[$0 * oversampling] }

        // Nuisance signals (time courses), scaled by the noise level.
        let n = o.noise
        var motion = [[Double]](repeating: [Double](repeating: 0, count: 6), count: volumes)
        for t in 1..<volumes {
            for j in 0..<6 { motion[t][j] = 0.98 * motion[t - 1][j] + n * (j < 3 ? 0.03 : 0.0006) * random.normal() }
        }
        var global = [Double](repeating: 0, count: volumes)
        for t in 1..<volumes { global[t] = 0.95 * global[t - 1] + n * 0.001 * random.normal() }
        let times = (0..<volumes).map { Double($0) * tr }
        let drift = times.map { n * 0.004 * ($0 / duration - 0.5) + n * 0.002 * cos(2 * Double.pi * $0 / duration) }
        let cardiac = times.map { n * 0.002 * sin(2 * Double.pi * 1.1 * $0) }
        let respiration = times.map { n * 0.002 * sin(2 * Double.pi * 0.3 * $0 + 1) }
        let motionWeights = (0..<6).map { _ in (0..<inside.count).map { _ in random.normal() } }
        let physiologyWeights = inside.map { _ in random.uniform(0.2, 1) }
        let nuisanceSeries = structuredNuisance(maps: maps, nuisanceMaps: nuisanceMaps, bold: bold, random: &nuisanceRandom)

        // Voxels, volume by volume.
        let voxels = grid.voxelCount
        var data = [Float](repeating: 0, count: voxels * volumes)
        var noise = [Double](repeating: 0, count: inside.count)
        for t in 0..<volumes {
            let base = t * voxels
            for (v, index) in inside.enumerated() {
                noise[v] = 0.3 * noise[v] + n * 0.01 * random.normal()
                var signal = 0.0
                for d in 0..<k { signal += maps[d][v] * bold[t][d] }
                for (m, map) in nuisanceMaps.enumerated() { signal += map[v] * nuisanceSeries[t][m] }
                var motionLeak = 0.0
                for j in 0..<6 { motionLeak += motionWeights[j][v] * motion[t][j] * (j < 3 ? 0.05 : 2.5) }
                let relative = 0.03 * signal + noise[v] + drift[t] + global[t] + physiologyWeights[v] * (cardiac[t] + respiration[t]) + motionLeak
                data[base + index] = Float(1000 * (1 + relative))
            }
        }
        let prefix = "sub-\(subject)_task-\(o.task)_run-\(run)"
        let funcDirectory = try ensureDirectory(root + "/sub-\(subject)/func")
        let boldPath = funcDirectory + "/\(prefix)_bold.nii.gz"
        var header = NIfTIHeader.make(shape: grid.shape + [volumes], zooms: grid.voxelSizes, affine: grid.affine, datatype: .float32,
                                      code: 4, repetitionTime: tr)
        header.description = "fmridyn simulate seed \(o.seed)"
        try NIfTIWriter.write(data, header: header, to: boldPath)
        try SimulationSidecars.write(SimulationSidecars.BoldSidecar(RepetitionTime: tr, TaskName: o.task), to: funcDirectory + "/\(prefix)_bold.json")
        var eventsText = "onset\tduration\ttrial_type\n"
        for event in events { eventsText += "\(event.onset)\t\(event.duration)\t\(event.condition)\n" }
        try OutputFiles.write(Data(eventsText.utf8), to: funcDirectory + "/\(prefix)_events.tsv")
        try writeConfounds(motion: motion, global: global, data: data, inside: inside, voxels: voxels, prefix: prefix, subject: subject, root: root)
        // Ground truth latents.
        var truth = "volume\ttime_s\tcondition\t" + (1...k).map { "z\($0)" }.joined(separator: "\t") + "\t"
            + (1...k).map { "bold_z\($0)" }.joined(separator: "\t") + "\n"
        for t in 0..<volumes {
            let cells = [String(t), String(times[t]), Paradigm.condition(at: times[t], in: events) ?? "rest"]
                + neuralAtVolumes[t].map { String($0) } + bold[t].map { String($0) }
            truth += cells.joined(separator: "\t") + "\n"
        }
        try OutputFiles.write(Data(truth.utf8), to: root + "/ground_truth/\(prefix)_latents.tsv")
        return boldPath
    }

    /// Refuses a latent path that left the finite numbers (a diverged system would otherwise
    /// write a NaN image and NaN ground truth with exit status 0).
    static func requireFinite(_ states: [[Double]], times: [Double], system: SystemKind, subject: String, run: Int) throws {
        guard let bad = states.firstIndex(where: { !$0.allSatisfy(\.isFinite) }) else { return }
        throw AtlasError("simulation: the \(system.rawValue) latent system diverged in sub-\(subject) run \(run) at \(times[bad]) s (a non-finite state); nothing is written for that run: use another `seed` or `noise`")
    }

    /// Time courses [T][3] of the nuisance components: AR(1) with phi 0.5 per volume, scaled so
    /// that the nuisance's sum of squares over brain voxels and volumes is `nuisance` times the
    /// task signal's (maps . bold).
    func structuredNuisance(maps: [[Double]], nuisanceMaps: [[Double]], bold: [[Double]], random: inout RandomSource) -> [[Double]] {
        let volumes = bold.count
        guard !nuisanceMaps.isEmpty else { return [[Double]](repeating: [], count: volumes) }
        let m = nuisanceMaps.count
        var series = [[Double]](repeating: [Double](repeating: 0, count: m), count: volumes)
        for c in 0..<m {
            var value = random.normal()
            for t in 0..<volumes {
                series[t][c] = value
                value = 0.5 * value + (1 - 0.25).squareRoot() * random.normal()
            }
        }
        // Energies through the Gram matrices of the maps: sum_v (sum_k a_vk s_k)^2 = s' G s.
        func gram(_ a: [[Double]]) -> [[Double]] {
            a.map { x in a.map { y in zip(x, y).reduce(0) { $0 + $1.0 * $1.1 } } }
        }
        func energy(_ g: [[Double]], _ s: [[Double]]) -> Double {
            s.reduce(0) { total, row in
                var sum = 0.0
                for i in row.indices { for j in row.indices { sum += row[i] * g[i][j] * row[j] } }
                return total + sum
            }
        }
        let task = energy(gram(maps), bold), noise = energy(gram(nuisanceMaps), series)
        let scale = noise > 0 ? (options.nuisance * task / noise).squareRoot() : 0
        return series.map { $0.map { $0 * scale } }
    }

    func writeConfounds(motion: [[Double]], global: [Double], data: [Float], inside: [Int], voxels: Int, prefix: String,
                        subject: String, root: String) throws {
        let directory = try ensureDirectory(root + "/derivatives/fmridyn-sim/sub-\(subject)/func")
        let names = ["trans_x", "trans_y", "trans_z", "rot_x", "rot_y", "rot_z"]
        // fMRIPrep's names; the squares come last so that older readers of the first 16 columns
        // see what they always saw. With them the 24-parameter motion model (motion24) applies.
        let header = names + names.map { $0 + "_derivative1" } + ["framewise_displacement", "global_signal", "csf", "white_matter"]
            + names.map { $0 + "_power2" } + names.map { $0 + "_derivative1_power2" }
        var text = header.joined(separator: "\t") + "\n"
        for t in 0..<motion.count {
            var mean = 0.0
            for index in inside { mean += Double(data[t * voxels + index]) }
            mean /= Double(max(1, inside.count))
            let derivative = t == 0 ? nil : (0..<6).map { motion[t][$0] - motion[t - 1][$0] }
            let fd = derivative.map { d in (0..<3).reduce(0.0) { $0 + abs(d[$1]) } + (3..<6).reduce(0.0) { $0 + 50 * abs(d[$1]) } }
            var cells = motion[t].map { String($0) }
            cells += derivative?.map { String($0) } ?? Array(repeating: "n/a", count: 6)
            cells.append(fd.map { String($0) } ?? "n/a")
            cells += [String(mean), String(mean * (1 + global[t])), String(mean * (1 - global[t]))]
            cells += motion[t].map { String($0 * $0) }
            cells += derivative?.map { String($0 * $0) } ?? Array(repeating: "n/a", count: 6)
            text += cells.joined(separator: "\t") + "\n"
        }
        try OutputFiles.write(Data(text.utf8), to: directory + "/\(prefix)_desc-confounds_timeseries.tsv")
        typealias Column = SimulationSidecars.ConfoundColumn
        var columns: [String: Column] = [:]
        for (index, name) in names.enumerated() {
            let unit = index < 3 ? "mm" : "rad"
            let what = (index < 3 ? "translation along " : "rotation about ") + ["x", "y", "z"][index % 3]
            columns[name] = Column(Description: "Simulated head \(what)", Units: unit)
            columns[name + "_derivative1"] = Column(Description: "Backward difference of \(name) (n/a at the first volume)", Units: unit)
            columns[name + "_power2"] = Column(Description: "Square of \(name)", Units: unit + "^2")
            columns[name + "_derivative1_power2"] = Column(Description: "Square of \(name)_derivative1", Units: unit + "^2")
        }
        columns["framewise_displacement"] = Column(Description: "Power et al. (2012) framewise displacement: sum of absolute backward differences, rotations on a 50 mm sphere (n/a at the first volume)", Units: "mm")
        columns["global_signal"] = Column(Description: "Mean of the in-brain voxels")
        columns["csf"] = Column(Description: "Simulated mean CSF signal (the global mean scaled by the simulated global fluctuation)")
        columns["white_matter"] = Column(Description: "Simulated mean white-matter signal (the global mean scaled against the simulated global fluctuation)")
        try SimulationSidecars.write(columns, to: directory + "/\(prefix)_desc-confounds_timeseries.json")
    }

    func writeMaps(_ maps: [[Double]], inside: [Int], grid: Grid, subject: String, root: String) throws {
        for (k, map) in maps.enumerated() {
            var volume = [Float](repeating: 0, count: grid.voxelCount)
            for (v, index) in inside.enumerated() { volume[index] = Float(map[v]) }
            try NIfTIWriter.write(volume, header: .make(shape: grid.shape, zooms: grid.voxelSizes, affine: grid.affine, code: 4),
                                  to: root + "/ground_truth/sub-\(subject)_map-z\(k + 1).nii.gz")
        }
    }

    func writeFixedPoints(_ system: LatentSystem, to path: String) throws {
        let truth = SimulationSidecars.GroundTruth(
            system: system.equation, kind: system.kind.rawValue, dimension: system.dimension, condition_inputs: system.inputs,
            fixed_points: system.fixedPoints.map { .init(z: $0.point, eigenvalues: $0.eigenvalues, classification: $0.kind) },
            nuisance: options.nuisance, noise: options.noise, cycle_period_s: system.cyclePeriod,
            eigenvalues_imaginary: system.kind.isPlanar ? system.detailedFixedPoints.map { $0.eigenvalues.map(\.im) } : nil)
        try SimulationSidecars.write(truth, to: path)
    }

    func ensureDirectory(_ path: String) throws -> String {
        try OutputDirectory.create(path)
        return path
    }

    /// `ground_truth/` in git's pattern syntax (the BIDS validator's) and again as a pattern on
    /// full paths (bidsschematools matches patterns with a slash against the whole path).
    static let bidsignore = """
        # fmridyn simulate: the simulation's ground truth (latents, maps, fixed points) is not BIDS data
        ground_truth/
        */ground_truth/*

        """

}
