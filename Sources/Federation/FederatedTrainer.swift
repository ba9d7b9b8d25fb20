import Core
import Foundation
import Model
import Sparse

/// Fits one SVAE across sites that never share data (one site per rank of `communicator`):
///
/// - **FedAvg** (`exchange == .weights`, dense): every round each site trains `localEpochs`
///   on its own training windows from the current global model (its Adam moments stay on the
///   site), sends its weights, and the new global model is the mean of the sites' weights
///   weighted by their training windows (McMahan et al. 2017).
/// - **SSFL** (weights, `sparsity > 0`): before training each site scores SNIP saliency on its
///   own windows; the sites' scores, weighted by windows, give one global mask; every round
///   only the mask's kept values travel (packed, the mask is known to all).
/// - **SalientGrads** (`exchange == .gradients`, sparse): the same agreed mask, but every step
///   each site sends its masked gradient on one batch of its own windows; the window-weighted
///   mean drives one optimiser that every rank runs identically. Dense: FedSGD.
///
/// Every reduction is a gather followed by a sum in rank order, so all ranks hold the same
/// global model bit for bit. Rank 0 writes the model directory (`config.json`,
/// `model.safetensors` of the best round by validation ELBO, `training_log.csv`,
/// `federated.json`).
public struct FederatedTrainer {
    public let directory: String
    public let model: SVAEConfiguration
    public let training: TrainingConfiguration
    public let federation: FederatedConfiguration
    public var communicator: any Communicator
    public var version = "0"
    public var progress: ((String) -> Void)?
    /// For tests: the gradients of these optimiser steps (counted from 1 on each rank, over all
    /// rounds) are multiplied by the given factor, NaN as a diverging rollout makes them.
    public var gradientFactorsAtSteps: [Int: Float] = [:]

    public init(directory: String, model: SVAEConfiguration, training: TrainingConfiguration, federation: FederatedConfiguration,
                communicator: any Communicator) {
        self.directory = directory
        self.model = model
        self.training = training
        self.federation = federation
        self.communicator = communicator
    }

    var files: ModelDirectory { ModelDirectory(directory) }

    /// Trains; `siteOfRun[i]` is the rank whose site holds run i (that rank must hold its
    /// values in `data.store`).
    @discardableResult
    public func fit(_ data: WindowDataset, siteOfRun: [Int]) throws -> FederatedRecord {
        try ComputeThreads.withSingleThreadedBLAS { try train(data, siteOfRun: siteOfRun) }
    }

    private func train(_ data: WindowDataset, siteOfRun: [Int]) throws -> FederatedRecord {
        let rank = communicator.rank, ranks = communicator.size, leader = communicator.isLeader
        let lock = try communicator.agree { () -> DirectoryLock? in
            guard leader else { return nil }
            let lock = try DirectoryLock.acquire(directory, purpose: "federated training")
            DirectoryLock.removeStaleTemporaries(in: directory)
            return lock
        }
        defer { lock?.release() }
        let siteTraining = data.training.filter { siteOfRun[$0.run] == rank }
        let siteValidation = (data.validation.isEmpty ? data.training : data.validation).filter { siteOfRun[$0.run] == rank }
        let counts = try communicator.allGather([Double(siteTraining.count), Double(siteValidation.count)])
        let trainingCounts = counts.map { Int($0[0]) }, validationCounts = counts.map { Int($0[1]) }
        let totalTraining = trainingCounts.reduce(0, +)
        guard totalTraining > 0 else { throw TrainingError("no site has training windows; add subjects") }

        var svae = SVAE<Float>(configuration: model)
        if leader {
            let names = data.runs[0].featureNames
            let description = ModelDescription(model: model, training: training, fmridynVersion: version, split: data.splitDescription,
                                               featureNames: names.count == model.observations ? names : nil)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try AtomicWrite.write(encoder.encode(description), to: files.configuration)
            try files.recordProgress(epoch: 0, step: 0, finished: false)
        }

        // The agreed mask (sparse methods): every site's SNIP scores, weighted by its windows.
        var masks: ParameterMasks<Float>? = nil
        let before = communicator.traffic
        if federation.sparsity > 0 {
            let names = prunableParameters(svae)
            let shapes = Dictionary(uniqueKeysWithValues: svae.parameters.filter { names.contains($0.name) }.map { ($0.name, svae[keyPath: $0.path].shape) })
            let scores = siteTraining.isEmpty ? [:]
                : try GradientSaliency.snip(svae, names: names, data: data, windows: siteTraining, batches: federation.pruneBatches,
                                            batchSize: training.batchSize, seed: model.seed ^ UInt64(rank + 1))
            let flat = names.flatMap { scores[$0] ?? [Double](repeating: 0, count: shapes[$0, default: []].reduce(1, *)) }
            let gathered = try communicator.allGather(flat)
            var sum = [Double](repeating: 0, count: flat.count)
            for site in 0..<ranks {
                let weight = Double(trainingCounts[site]) / Double(totalTraining)
                for index in sum.indices { sum[index] += weight * gathered[site][index] }
            }
            var aggregated: [String: [Double]] = [:]
            var offset = 0
            for name in names {
                let count = shapes[name, default: []].reduce(1, *)
                aggregated[name] = Array(sum[offset..<(offset + count)])
                offset += count
            }
            let agreed = Pruning.masks(scores: aggregated, order: names, shapes: shapes, sparsity: federation.sparsity,
                                       scope: PruningScope(rawValue: federation.scope) ?? .global)
            agreed.apply(to: &svae)
            masks = agreed
        }
        let maskTraffic = communicator.traffic - before
        let kept = keptPositions(svae, masks: masks)
        progress?("\(federation.method): \(ranks) sites, \(kept.count) of \(svae.parameterCount) parameters exchanged per message")

        var adam = Adam<Float>(learningRate: training.learningRate)
        var rounds: [FederatedRecord.Round] = []
        var roundTraffic: [Traffic] = []
        var best = (round: 0, elbo: -Double.greatestFiniteMagnitude)
        var log: [(round: Int, elbo: Double, seconds: Double)] = []
        let start = Date()
        // A step whose gradient has a NaN or infinite entry, or whose loss is not finite, is
        // skipped (`NonFiniteGradientGuard`); after `limit` in a row the fit stops on every rank
        // together, never one rank alone while the others wait in a gather. With exchanged
        // gradients a site with a non-finite loss sends NaN, so every rank's mean is NaN and all
        // skip the same step. With exchanged weights a site whose guard is exhausted stops its
        // local training and sends NaN weights, which every rank sees after the gather.
        var nonFinite = NonFiniteGradientGuard()
        var optimiserStep = 0
        // The test hook scales this site's own gradient, before anything is exchanged.
        func scaleForTests(_ gradient: inout SVAE<Float>) {
            optimiserStep += 1
            if let factor = gradientFactorsAtSteps[optimiserStep] {
                for (_, path) in gradient.parameters { gradient[keyPath: path] = (gradient[keyPath: path] * factor).detached }
            }
        }
        func guardedUpdate(_ model: inout SVAE<Float>, _ gradient: inout SVAE<Float>, lossIsFinite: Bool, round: Int) {
            if nonFinite.admit(&gradient, maxNorm: training.clipNorm, lossIsFinite: lossIsFinite) {
                adam.update(&model, along: gradient, masks: masks)
            } else if !nonFinite.exhausted {
                progress?("site \(rank), round \(round): the gradient is not finite; the step is skipped (\(nonFinite.inARow) in a row)")
            }
        }
        func stopped(site: Int, round: Int) -> TrainingError {
            TrainingError("the gradient or loss was not finite at \(NonFiniteGradientGuard.limit) steps in a row on site \(site) (round \(round)); training stopped. The best round so far is saved in \(directory); lower `learningRate`")
        }
        for round in 1...federation.rounds {
            let roundStart = communicator.traffic
            let began = Date()
            switch federation.exchange {
            case .weights:
                var local = svae
                localTraining: for epoch in 0..<federation.localEpochs {
                    let klWeight = warmedKL(epoch: (round - 1) * federation.localEpochs + epoch)
                    var order = siteTraining
                    var shuffle = RandomSource(seed: seed(round: round, epoch: epoch, rank: rank))
                    order.shuffle(using: &shuffle)
                    for (batch, first) in stride(from: 0, to: order.count, by: training.batchSize).enumerated() {
                        let slice = Array(order[first..<min(order.count, first + training.batchSize)])
                        var result = try localGradient(local, data, slice, klWeight: klWeight,
                                                       seed: seed(round: round, epoch: epoch, rank: rank) &+ UInt64(batch + 1))
                        scaleForTests(&result.gradient)
                        guardedUpdate(&local, &result.gradient, lossIsFinite: result.loss.isFinite, round: round)
                        if nonFinite.exhausted { break localTraining }
                    }
                }
                var message = pack(local, kept)
                if nonFinite.exhausted { message = [Float](repeating: .nan, count: message.count) }
                let gathered = try communicator.allGather(message)
                if let site = gathered.firstIndex(where: { $0.contains { !$0.isFinite } }) { throw stopped(site: site, round: round) }
                svae = unpack(weightedMean(gathered, weights: trainingCounts.map { Double($0) / Double(totalTraining) }), into: svae, kept)
            case .gradients:
                let largest = trainingCounts.max() ?? 0
                let steps = federation.localEpochs * max(1, (largest + training.batchSize - 1) / training.batchSize)
                var order: [WindowDataset.Window] = []
                for epoch in 0..<federation.localEpochs {
                    var shuffled = siteTraining
                    var shuffle = RandomSource(seed: seed(round: round, epoch: epoch, rank: rank))
                    shuffled.shuffle(using: &shuffle)
                    order += shuffled
                }
                for step in 0..<steps {
                    let klWeight = warmedKL(epoch: (round - 1) * federation.localEpochs + step * federation.localEpochs / steps)
                    // Sites with fewer windows go round their own windows again.
                    let slice = order.isEmpty ? [] : (0..<min(training.batchSize, order.count)).map { order[(step * training.batchSize + $0) % order.count] }
                    var message: [Float] = [Float(slice.count)]
                    if !slice.isEmpty {
                        var result = try localGradient(svae, data, slice, klWeight: klWeight, seed: seed(round: round, epoch: step, rank: rank))
                        scaleForTests(&result.gradient)
                        message += result.loss.isFinite ? pack(result.gradient, kept) : [Float](repeating: .nan, count: kept.count)
                    } else {
                        message += [Float](repeating: 0, count: kept.count)
                    }
                    let gathered = try communicator.allGather(message)
                    let windows = gathered.map { Double($0.first ?? 0) }
                    let total = max(1, windows.reduce(0, +))
                    let mean = weightedMean(gathered.map { Array($0.dropFirst()) }, weights: windows.map { $0 / total })
                    var gradient = unpack(mean, into: svae, kept, zeroRest: true)
                    guardedUpdate(&svae, &gradient, lossIsFinite: true, round: round)
                    if nonFinite.exhausted {
                        let site = gathered.firstIndex { $0.contains { !$0.isFinite } } ?? rank
                        throw stopped(site: site, round: round)
                    }
                }
            }
            let elbo = try validationELBO(svae, data, windows: siteValidation, totalWindows: validationCounts.reduce(0, +), seedRank: rank)
            let traffic = communicator.traffic - roundStart
            roundTraffic.append(traffic)
            rounds.append(FederatedRecord.Round(round: round, validationElbo: elbo, bytesSent: [], bytesReceived: [], seconds: Date().timeIntervalSince(began)))
            log.append((round, elbo, Date().timeIntervalSince(start)))
            if elbo > best.elbo {
                best = (round, elbo)
                if leader { try Checkpoint.save(svae, masks: masks, to: directory) }
            }
            if leader {
                try files.recordProgress(epoch: round, step: round, finished: false)
                try writeLog(log)
            }
            progress?(String(format: "round %d/%d: validation ELBO %.3f, %d bytes sent by this rank", round, federation.rounds, elbo, traffic.sent))
        }
        // Every rank's counts, for the record (this gather is not part of any round).
        let counted = try communicator.allGather(roundTraffic.flatMap { [Double($0.sent), Double($0.received)] } + [Double(maskTraffic.sent)])
        for index in rounds.indices {
            rounds[index].bytesSent = counted.map { Int($0[2 * index]) }
            rounds[index].bytesReceived = counted.map { Int($0[2 * index + 1]) }
        }
        let runsBySite = (0..<ranks).map { site in data.runs.indices.filter { siteOfRun[$0] == site }.map { data.runs[$0].source } }
        // The same protocol dense: each message is a count header (4 bytes) and every parameter
        // as Float32 (and the window count, for gradients); the validation sums add 12 bytes.
        let messagesPerRound = federation.exchange == .weights ? 1
            : federation.localEpochs * max(1, ((trainingCounts.max() ?? 0) + training.batchSize - 1) / training.batchSize)
        let perMessage = 4 + 4 * (svae.parameterCount + (federation.exchange == .gradients ? 1 : 0))
        let record = FederatedRecord(
            method: federation.method, configuration: federation,
            sites: (0..<ranks).map { FederatedRecord.Site(rank: $0, runs: runsBySite[$0], trainingWindows: trainingCounts[$0], validationWindows: validationCounts[$0]) },
            parameters: svae.parameterCount, exchangedScalars: kept.count, maskBytesSent: counted.map { Int($0.last ?? 0) },
            denseBytesPerRound: perMessage * messagesPerRound + 12, rounds: rounds, bestRound: best.round, bestValidationElbo: best.elbo)
        if leader {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            encoder.keyEncodingStrategy = .convertToSnakeCase
            try AtomicWrite.write(encoder.encode(record), to: directory + "/federated.json")
            try files.recordProgress(epoch: federation.rounds, step: federation.rounds, finished: true)
        }
        try communicator.barrier()
        return record
    }

    /// The KL weight after `epoch` epochs (linear warm-up, as the one-process trainer).
    func warmedKL(epoch: Int) -> Double {
        training.beta * (training.klWarmupEpochs > 0 ? min(1, Double(epoch + 1) / Double(training.klWarmupEpochs)) : 1)
    }

    func seed(round: Int, epoch: Int, rank: Int) -> UInt64 {
        model.seed ^ (UInt64(round) &* 0x9E37_79B9_7F4A_7C15) ^ (UInt64(epoch + 1) &* 0xBF58_476D_1CE4_E5B9) ^ (UInt64(rank + 1) &* 0x94D0_49BB_1331_11EB)
    }

    func localGradient(_ svae: SVAE<Float>, _ data: WindowDataset, _ windows: [WindowDataset.Window], klWeight: Double,
                       seed: UInt64) throws -> (loss: Float, gradient: SVAE<Float>) {
        let x: Tensor<Float> = try data.batch(windows)
        let u: Tensor<Float>? = model.inputCount > 0 ? data.inputBatch(windows) : nil
        var noise = RandomSource(seed: seed)
        // A non-finite loss is not thrown here: one rank throwing alone would leave the others
        // waiting in the next gather. The caller skips the step on every rank instead.
        let (value, gradient) = try valueAndGradient(of: svae) { try $0.objective(x, inputs: u, klWeight: klWeight, random: &noise).loss }
        return (value, gradient)
    }

    /// Positions in `flattenedParameters` that travel: the mask's kept entries and every
    /// unmasked parameter (all positions when dense).
    func keptPositions(_ svae: SVAE<Float>, masks: ParameterMasks<Float>?) -> [Int] {
        var positions: [Int] = []
        var offset = 0
        for (name, path) in svae.parameters {
            let count = svae[keyPath: path].count
            if let mask = masks?.masks[name] {
                for index in 0..<count where mask.scalars[index] != 0 { positions.append(offset + index) }
            } else {
                positions += offset..<(offset + count)
            }
            offset += count
        }
        return positions
    }

    func pack(_ module: SVAE<Float>, _ kept: [Int]) -> [Float] {
        let flat = module.flattenedParameters
        return kept.map { flat[$0] }
    }

    /// `values` at `kept`, the other positions from `base` (or zero with `zeroRest`).
    func unpack(_ values: [Float], into base: SVAE<Float>, _ kept: [Int], zeroRest: Bool = false) -> SVAE<Float> {
        var flat = zeroRest ? [Float](repeating: 0, count: base.parameterCount) : base.flattenedParameters
        for (k, position) in kept.enumerated() { flat[position] = values[k] }
        var result = base
        result.loadFlattenedParameters(flat[...])
        return result
    }

    /// The weighted mean of equally long vectors, accumulated in Double in rank order.
    func weightedMean(_ vectors: [[Float]], weights: [Double]) -> [Float] {
        guard let width = vectors.first?.count else { return [] }
        var sum = [Double](repeating: 0, count: width)
        for (vector, weight) in zip(vectors, weights) where weight > 0 {
            for index in 0..<width { sum[index] += weight * Double(vector[index]) }
        }
        return sum.map { Float($0) }
    }

    /// Mean ELBO per validation window over every site: each site sums its own windows.
    func validationELBO(_ svae: SVAE<Float>, _ data: WindowDataset, windows: [WindowDataset.Window], totalWindows: Int, seedRank: Int) throws -> Double {
        var noise = RandomSource(seed: model.seed ^ 0x0A11_DA7E ^ (UInt64(seedRank + 1) &* 0x94D0_49BB_1331_11EB))
        var total = 0.0
        for first in stride(from: 0, to: windows.count, by: training.batchSize) {
            let slice = Array(windows[first..<min(windows.count, first + training.batchSize)])
            let objective = try svae.objective(data.batch(slice), inputs: model.inputCount > 0 ? data.inputBatch(slice) : nil, klWeight: 1, random: &noise)
            total += Double(objective.reconstruction + objective.kl) * Double(slice.count)
        }
        let sums = try communicator.allGather([total])
        var all = 0.0
        for value in sums { all += value[0] }
        return -all / Double(max(1, totalWindows))
    }

    /// `training_log.csv` with a row per round (the training ELBO columns are empty: the sites'
    /// own objectives are not sent).
    func writeLog(_ rows: [(round: Int, elbo: Double, seconds: Double)]) throws {
        var text = "epoch,step,train_elbo,recon,kl,val_elbo,lr,seconds\n"
        for row in rows {
            text += "\(row.round),\(row.round),,,,\(row.elbo),\(training.learningRate),\(String(format: "%.3f", row.seconds))\n"
        }
        try AtomicWrite.write(Data(text.utf8), to: files.trainingLog)
    }
}
