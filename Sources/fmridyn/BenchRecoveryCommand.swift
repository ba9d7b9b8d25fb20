import ArgumentParser
import Foundation
import Preprocessing
import RecoveryBenchmark

/// `fmridyn bench recovery`: how well fitted dynamics recover the simulator's true latents,
/// fields, fixed points and cycles, against PCA, FastICA, the raw regions and
/// (for models given the task) a GLM of the regions on the task's lagged boxcars.
struct BenchRecovery: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recovery",
        abstract: "Score latent, field, fixed-point and cycle recovery on a fixed grid of simulated systems.",
        discussion: """
            The grid (docs/recovery.md), fixed before any model was tuned on it: systems multistable, \
            rotation, limit-cycle and switching x noise 0.25, 0.5, 1 and noise 1 with nuisance 2 x \
            seeds 1-3 (the tuning part); Van der Pol and a 3-D multistable system at noise 0.5 and at \
            noise 1 with nuisance 2, and the four systems at noise 1, seeds 11-13 (the held-out \
            part). Each cell simulates 4 subjects x 2 runs x 240 volumes (4 mm), extracts \
            Power-264, fits every --models variant and scores it with PCA, FastICA and the raw \
            regions, and (the baseline of models given the task) `glm`/`glm+8`: a ridge GLM of the \
            regions on the task's boxcars at lags 0-22 s, its fitted part reduced to K and K + 8 \
            dimensions. Writes OUT/recovery.json and OUT/recovery.md; finished cells are kept in \
            OUT/cells/ and a rerun resumes from them.

            Examples:
              fmridyn bench recovery --quick --out /tmp/recovery
              fmridyn bench recovery --part tuning --models node,rnn --out bench/results/recovery
            """
    )

    enum Part: String, ExpressibleByArgument, CaseIterable { case tuning, heldout, all }

    @Option(help: "Output directory.")
    var out: String
    @Flag(help: "Only the default-noise multistable cell, seeds 1-3.")
    var quick = false
    @Option(help: "Which part of the grid: tuning, heldout or all.")
    var part: Part = .all
    @Option(help: "Model variants, comma-separated: \(ModelVariant.all.map(\.name).joined(separator: ", ")). A variant takes settings after '+': read-outs map=Q1:Q2 (MAP paths) and free=Q1:Q2 (task-free MAP paths), refit=1, wells options and training keys (docs/recovery.md), e.g. node-wells-soft+map=0.1+free=0.3; also rollout-wells, the polynomial whole-run rollout fit, with settings such as rollout-wells+components=4:6:8+padding=zeros or rollout-wells+round=14 (docs/recovery.md).")
    var models = "node,rnn"
    @Option(help: "Only cells of this system (e.g. limit-cycle).")
    var system: String?
    @Option(help: "Only cells of this seed.")
    var seed: UInt64?
    @Option(help: "Training epochs per fit (early stopping applies).")
    var epochs = 300
    @Flag(help: "Write the report from the cells already in OUT/cells, running none (the rest are listed as not run).")
    var reportOnly = false
    @Flag(help: "Keep each cell's simulated data and fitted models in OUT/work.")
    var keepWork = false
    @OptionGroup var diagnostics: DiagnosticOptions

    var variants: [ModelVariant] { models.split(separator: ",").compactMap { ModelVariant.named(String($0)) } }
    /// `rollout-wells[+settings]` in --models: polynomial rollout fits (`RolloutFit`), not SVAEs.
    func rolloutFits() throws -> [(name: String, options: RolloutFit.Options)] {
        try models.split(separator: ",").compactMap { name in
            try RolloutFit.Options(specification: String(name)).map { (String(name), $0) }
        }
    }

    func validate() throws {
        let rollouts: [(name: String, options: RolloutFit.Options)]
        do { rollouts = try rolloutFits() } catch { throw ValidationError("--models: \(error)") }
        for name in models.split(separator: ",") where ModelVariant.named(String(name)) == nil && !rollouts.contains(where: { $0.name == name }) {
            throw ValidationError("--models: unknown variant '\(name)'; choose from \((ModelVariant.all.map(\.name) + [RolloutFit.methodName]).joined(separator: ", ")).")
        }
        guard !variants.isEmpty || !rollouts.isEmpty else { throw ValidationError("--models needs at least one variant.") }
        guard epochs >= 1 else { throw ValidationError("--epochs must be at least 1.") }
    }

    func run() throws {
        var cells = quick ? RecoveryGrid.quick : (part == .heldout ? [] : RecoveryGrid.tuning) + (part == .tuning ? [] : RecoveryGrid.heldOut)
        if let system { cells = cells.filter { $0.system.rawValue == system } }
        if let seed { cells = cells.filter { $0.seed == seed } }
        // Seed-major order (every setting's first seed, tuning and held out, then the second...),
        // so that an interrupted run has results for every setting.
        func rank(_ cell: RecoveryCell) -> Int {
            (cell.heldOut ? RecoveryGrid.heldOutSeeds : RecoveryGrid.tuningSeeds).firstIndex(of: cell.seed) ?? 0
        }
        cells = cells.enumerated().sorted { (rank($0.element), $0.offset) < (rank($1.element), $1.offset) }.map(\.element)
        guard !cells.isEmpty else { throw ValidationError("no cell of the grid matches --system \(system ?? "any") --seed \(seed.map(String.init) ?? "any").") }
        let cellDirectory = out + "/cells"
        try FileManager.default.createDirectory(atPath: cellDirectory, withIntermediateDirectories: true)
        let say = diagnostics.progress
        // Each process simulates in its own folder, so a report written meanwhile (or a second
        // run on other cells) never removes a running cell's files.
        let work = out + "/work/\(ProcessInfo.processInfo.processIdentifier)"
        var benchmark = RecoveryBenchmark(variants: variants, workDirectory: work)
        benchmark.epochs = epochs
        benchmark.keepWork = keepWork
        benchmark.rolloutFits = try rolloutFits()
        benchmark.progress = { say("   " + $0) }
        var results: [CellResult] = [], missing: [RecoveryCell] = []
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys]
        for (index, cell) in cells.enumerated() {
            let path = cellDirectory + "/" + RecoveryBenchmark.cacheFileName(variants: models.split(separator: ",").map(String.init), epochs: epochs, cell: cell)
            if let data = FileManager.default.contents(atPath: path), let cached = try? decoder.decode(CellResult.self, from: data) {
                say("[\(index + 1)/\(cells.count)] \(cell.setting) seed \(cell.seed): kept from \(path)")
                results.append(cached)
                continue
            }
            if reportOnly {
                missing.append(cell)
                continue
            }
            say("[\(index + 1)/\(cells.count)] \(cell.setting) seed \(cell.seed)")
            let result = try benchmark.run(cell)
            try OutputFiles.write(try encoder.encode(result), to: path)
            results.append(result)
        }
        if !keepWork, !reportOnly { try? FileManager.default.removeItem(atPath: work) }
        let report = RecoveryReport(cells: results, radius: benchmark.radius)
        try OutputFiles.write(try report.json(), to: out + "/recovery.json")
        var markdown = report.markdown()
        if !missing.isEmpty {
            markdown += "\nNot run (\(missing.count) of \(cells.count) cells): " + missing.map { "\($0.setting) seed \($0.seed)\($0.heldOut ? " (held out)" : "")" }.joined(separator: "; ") + "\n"
        }
        try OutputFiles.write(Data(markdown.utf8), to: out + "/recovery.md")
        print(markdown, terminator: "")
    }
}
