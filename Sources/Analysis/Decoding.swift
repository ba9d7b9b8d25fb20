import LinearAlgebra
import CLinearAlgebra
import Core
import Foundation

/// Multinomial logistic regression with an L2 penalty, scikit-learn's objective and defaults:
/// minimise C * sum_i cross-entropy(y_i, softmax(W x_i + b)) + 1/2 |W|^2 (intercept not
/// penalised) by L-BFGS, stopping as scikit-learn's lbfgs does when the largest gradient entry
/// of the objective divided by n C (scikit-learn's scaling) is at most `tolerance` (1e-4), or
/// after `maxIterations` (100).
public struct LogisticRegression: Sendable {
    public var c = 1.0
    public var tolerance = 1e-4
    public var maxIterations = 100
    /// [classes x features] and [classes].
    public private(set) var weights: [[Double]] = []
    public private(set) var intercepts: [Double] = []
    public private(set) var classes: [String] = []

    public init(c: Double = 1.0, tolerance: Double = 1e-4, maxIterations: Int = 100) {
        self.c = c
        self.tolerance = tolerance
        self.maxIterations = maxIterations
    }

    public mutating func fit(_ x: [[Double]], _ y: [String]) {
        classes = Array(Set(y)).sorted()
        let k = classes.count, d = x.first?.count ?? 0, n = x.count
        let index = Dictionary(uniqueKeysWithValues: classes.enumerated().map { ($1, $0) })
        let targets = y.map { index[$0] ?? 0 }
        // Feature-major X (d x n): every pass of the objective runs over contiguous samples.
        let problem = SoftmaxProblem(x: x, targets: targets, classes: k, c: c)
        func objective(_ theta: [Double]) -> (Double, [Double]) { problem.evaluate(theta) }
        let theta = LBFGS.minimize(objective, start: [Double](repeating: 0, count: k * d + k), tolerance: tolerance * Double(n) * c, maxIterations: maxIterations)
        weights = (0..<k).map { Array(theta[($0 * d)..<(($0 + 1) * d)]) }
        intercepts = Array(theta[(k * d)...])
    }

    public func predict(_ x: [[Double]]) -> [String] {
        x.map { row in
            var best = 0, bestScore = -Double.infinity
            for j in 0..<classes.count {
                var score = intercepts[j]
                for (w, v) in zip(weights[j], row) { score += w * v }
                if score > bestScore { best = j; bestScore = score }
            }
            return classes[best]
        }
    }
}

/// The logistic-regression objective's data and scratch: X feature-major (d x n), targets,
/// and per-part buffers so that the samples split into `parts` evaluated concurrently.
final class SoftmaxProblem: @unchecked Sendable {
    let n: Int, d: Int, k: Int, c: Double
    let design: UnsafeMutablePointer<Double>
    let targets: UnsafeMutablePointer<Int>
    /// Sample ranges evaluated concurrently; each has its own scratch and gradient.
    let parts: [Range<Int>]
    let scratch: UnsafeMutablePointer<Double>
    let partGradients: UnsafeMutablePointer<Double>
    let partLosses: UnsafeMutablePointer<Double>
    /// Samples per block: the logits of a block stay in L1 across the passes over it.
    static let blockSize = 256
    var scratchPerPart: Int { Self.blockSize * (k + 3) }

    init(x: [[Double]], targets labels: [Int], classes k: Int, c: Double) {
        n = x.count
        d = x.first?.count ?? 0
        self.k = k
        self.c = c
        design = .allocate(capacity: max(1, n * d))
        for (i, row) in x.enumerated() { for f in 0..<d { design[f * n + i] = row[f] } }
        targets = .allocate(capacity: max(1, n))
        targets.initialize(from: labels, count: n)
        // Two parts when there is enough work to pay for the hand-off.
        let count = 1
        let total = x.count
        parts = (0..<count).map { ($0 * total / count)..<(($0 + 1) * total / count) }
        scratch = .allocate(capacity: count * Self.blockSize * (k + 3))
        partGradients = .allocate(capacity: count * (k * d + k))
        partLosses = .allocate(capacity: count)
    }

    deinit {
        design.deallocate()
        targets.deallocate()
        scratch.deallocate()
        partGradients.deallocate()
        partLosses.deallocate()
    }

    /// C sum_i cross-entropy + 1/2 |W|^2 and its gradient at theta = (W row-major, b).
    func evaluate(_ theta: [Double]) -> (Double, [Double]) {
        let size = k * d + k
        theta.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            nonisolated(unsafe) let t = base
            if parts.count == 1 {
                evaluate(part: 0, theta: t)
            } else {
                DispatchQueue.concurrentPerform(iterations: parts.count) { evaluate(part: $0, theta: t) }
            }
        }
        var gradient = [Double](repeating: 0, count: size)
        var loss = 0.0
        for part in parts.indices {
            loss += partLosses[part]
            for p in 0..<size { gradient[p] += partGradients[part * size + p] }
        }
        loss *= c
        for p in 0..<(k * d) { loss += 0.5 * theta[p] * theta[p]; gradient[p] += theta[p] }
        return (loss, gradient)
    }

    /// The unpenalised cross-entropy sum of one part and C (p - onehot)-weighted gradient.
    private func evaluate(part: Int, theta: UnsafePointer<Double>) {
        let x = design, n = self.n, d = self.d, k = self.k, c = self.c
        let size = k * d + k
        let g = partGradients + part * size
        g.initialize(repeating: 0, count: size)
        let z = scratch + part * scratchPerPart
        let m = z + k * Self.blockSize, totals = m + Self.blockSize, zt = totals + Self.blockSize
        var loss = 0.0
        var start = parts[part].lowerBound
        while start < parts[part].upperBound {
            let count = min(Self.blockSize, parts[part].upperBound - start)
            // z_j = b_j + sum_f W_jf x_f, and the running maximum over classes.
            for j in 0..<k {
                let row = z + j * count, bias = theta[k * d + j]
                for i in 0..<count { row[i] = bias }
                for f in 0..<d {
                    let w = theta[j * d + f], feature = x + f * n + start
                    for i in 0..<count { row[i] += w * feature[i] }
                }
                if j == 0 { m.update(from: row, count: count) } else { for i in 0..<count { m[i] = max(m[i], row[i]) } }
            }
            for i in 0..<count { zt[i] = z[targets[start + i] * count + i] - m[i] }
            // Softmax numerators and their totals.
            for i in 0..<count { totals[i] = 0 }
            for j in 0..<k {
                let row = z + j * count
                for i in 0..<count { row[i] -= m[i] }
                SoftmaxKernels.exponentiate(row, count: count)
                for i in 0..<count { totals[i] += row[i] }
            }
            // Cross-entropy, then the residual C (p - onehot) in place of z.
            loss += SoftmaxKernels.sumOfLogs(totals, count: count) - SoftmaxKernels.sum(zt, count: count)
            for i in 0..<count { totals[i] = c / totals[i] }
            for j in 0..<k {
                let row = z + j * count
                for i in 0..<count { row[i] *= totals[i] }
            }
            for i in 0..<count { z[targets[start + i] * count + i] -= c }
            for j in 0..<k {
                let row = z + j * count
                g[k * d + j] += SoftmaxKernels.sum(row, count: count)
                for f in 0..<d { g[j * d + f] += SoftmaxKernels.dot(row, x + f * n + start, count: count) }
            }
            start += count
        }
        partLosses[part] = loss
    }
}

/// scikit-learn's GroupKFold (no shuffle): groups, largest first (ties: later group first), each
/// to the fold with the fewest samples so far. Returns the test indices of each fold.
public enum GroupKFold {
    public static func folds(groups: [String], count: Int) -> [[Int]] {
        let unique = Array(Set(groups)).sorted()
        let position = Dictionary(uniqueKeysWithValues: unique.enumerated().map { ($1, $0) })
        var sizes = [Int](repeating: 0, count: unique.count)
        for g in groups { sizes[position[g] ?? 0] += 1 }
        let order = unique.indices.sorted { sizes[$0] < sizes[$1] || (sizes[$0] == sizes[$1] && $0 < $1) }.reversed()
        var foldSizes = [Int](repeating: 0, count: count)
        var groupFold = [Int](repeating: 0, count: unique.count)
        for group in order {
            let lightest = foldSizes.indices.min { foldSizes[$0] < foldSizes[$1] } ?? 0
            foldSizes[lightest] += sizes[group]
            groupFold[group] = lightest
        }
        return (0..<count).map { fold in groups.indices.filter { groupFold[position[groups[$0]] ?? 0] == fold } }
    }
}

/// Cross-validated decoding of per-sample labels.
public struct DecodingResult: Sendable {
    public var classes: [String]
    public var perFold: [Double]
    public var mean: Double
    public var sd: Double
    public var perClassRecall: [String: Double]
    /// confusion[true][predicted] counts over all test folds, in `classes` order.
    public var confusion: [[Int]]
    public var chance: Double
    public var pValue: Double?
    /// Classes that some training folds never see (1-based fold numbers): such a fold cannot
    /// predict the class, so its test samples of it score 0 (a condition of one subject only).
    public var classesMissingFromTraining: [String: [Int]] = [:]

    /// One sentence per class missing from training folds (empty when every fold sees all).
    public var warnings: [String] {
        classesMissingFromTraining.keys.sorted().map { name in
            let folds = classesMissingFromTraining[name] ?? []
            return "class \(name) is absent from the training data of fold\(folds.count == 1 ? "" : "s") \(folds.map(String.init).joined(separator: ", ")); those folds cannot predict it and score its samples 0 (it occurs in too few groups)"
        }
    }
}

public enum Decoding {
    /// Mean of per-class recalls over the classes present in `truth` (scikit-learn's balanced_accuracy_score).
    public static func balancedAccuracy(truth: [String], predicted: [String]) -> Double {
        let classes = Array(Set(truth)).sorted()
        let recalls = classes.map { c -> Double in
            let members = truth.indices.filter { truth[$0] == c }
            return Double(members.filter { predicted[$0] == c }.count) / Double(members.count)
        }
        return recalls.reduce(0, +) / Double(max(1, recalls.count))
    }

    /// The classifiers by name, as options and reports spell them.
    public enum ClassifierKind: String, Sendable, CaseIterable {
        /// L2 logistic regression (scikit-learn's `LogisticRegression`).
        case logreg
        /// Linear discriminant analysis (scikit-learn's `solver="lsqr"`).
        case lda
    }

    /// Fits `classifier` on the rows `train` of `features` (standardised with their mean and
    /// standard deviation) and predicts the rows `test`.
    public static func fitAndPredict(features: [[Double]], labels: [String], train: [Int], test: [Int], classifier: Classifier) -> [String] {
        guard let d = features.first?.count, !train.isEmpty else { return test.map { _ in "" } }
        var mean = [Double](repeating: 0, count: d), std = [Double](repeating: 0, count: d)
        for row in train { for f in 0..<d { mean[f] += features[row][f] } }
        for f in 0..<d { mean[f] /= Double(train.count) }
        for row in train { for f in 0..<d { let v = features[row][f] - mean[f]; std[f] += v * v } }
        for f in 0..<d { let v = std[f] / Double(train.count); std[f] = v > 0 ? v.squareRoot() : 1 }
        func scale(_ row: [Double]) -> [Double] { (0..<d).map { (row[$0] - mean[$0]) / std[$0] } }
        switch classifier {
        case .logisticRegression(let c):
            var model = LogisticRegression(c: c)
            model.fit(train.map { scale(features[$0]) }, train.map { labels[$0] })
            return model.predict(test.map { scale(features[$0]) })
        case .lda(let shrinkage):
            var model = LinearDiscriminant(shrinkage: shrinkage)
            model.fit(train.map { scale(features[$0]) }, train.map { labels[$0] })
            return model.predict(test.map { scale(features[$0]) })
        }
    }

    /// Balanced accuracy on the rows whose group is in `testGroups` of a classifier fitted on
    /// all other rows (one train/test split by group; nil when either side is empty).
    public static func heldOutAccuracy(features: [[Double]], labels: [String], groups: [String], testGroups: Set<String>,
                                       classifier: Classifier = .logisticRegression(c: 1)) -> Double? {
        let test = groups.indices.filter { testGroups.contains(groups[$0]) }
        let train = groups.indices.filter { !testGroups.contains(groups[$0]) }
        guard !test.isEmpty, !train.isEmpty else { return nil }
        let predicted = fitAndPredict(features: features, labels: labels, train: train, test: test, classifier: classifier)
        return balancedAccuracy(truth: test.map { labels[$0] }, predicted: predicted)
    }

    /// GroupKFold cross-validation of L2 logistic regression on features standardised with the
    /// training fold's mean and standard deviation; optional label-permutation p-value.
    public enum Classifier: Sendable {
        case logisticRegression(c: Double)
        case lda(shrinkage: LinearDiscriminant.Shrinkage?)
    }

    public static func crossValidate(features: [[Double]], labels: [String], groups: [String], folds: Int, c: Double = 1,
                                     classifier: Classifier? = nil, permutations: Int = 0, seed: UInt64 = 1) -> DecodingResult {
        let classifier = classifier ?? .logisticRegression(c: c)
        let classes = Array(Set(labels)).sorted()
        let foldIndices = GroupKFold.folds(groups: groups, count: folds).filter { !$0.isEmpty }
        // Folds are independent fits: they run concurrently (one per core), each writing its
        // own slot, so the result does not depend on scheduling.
        func run(_ labels: [String]) -> (perFold: [Double], predicted: [String]) {
            var guessesPerFold = [[String]](repeating: [], count: foldIndices.count)
            guessesPerFold.withUnsafeMutableBufferPointer { slots in
                nonisolated(unsafe) let output = slots
                DispatchQueue.concurrentPerform(iterations: foldIndices.count) { fold in
                    output[fold] = fitAndPredict(test: foldIndices[fold], labels: labels)
                }
            }
            var predicted = [String](repeating: "", count: labels.count)
            var scores: [Double] = []
            for (test, guesses) in zip(foldIndices, guessesPerFold) {
                for (i, g) in zip(test, guesses) { predicted[i] = g }
                scores.append(balancedAccuracy(truth: test.map { labels[$0] }, predicted: guesses))
            }
            return (scores, predicted)
        }
        @Sendable func fitAndPredict(test: [Int], labels: [String]) -> [String] {
            let testSet = Set(test)
            return Self.fitAndPredict(features: features, labels: labels, train: labels.indices.filter { !testSet.contains($0) }, test: test,
                                      classifier: classifier)
        }
        let (perFold, predicted) = run(labels)
        let mean = perFold.reduce(0, +) / Double(max(1, perFold.count))
        let sd = perFold.count > 1 ? (perFold.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(perFold.count)).squareRoot() : 0
        var recall: [String: Double] = [:]
        var confusion = [[Int]](repeating: [Int](repeating: 0, count: classes.count), count: classes.count)
        let position = Dictionary(uniqueKeysWithValues: classes.enumerated().map { ($1, $0) })
        for (t, p) in zip(labels, predicted) { confusion[position[t] ?? 0][position[p] ?? 0] += 1 }
        for (i, c) in classes.enumerated() { recall[c] = Double(confusion[i][i]) / Double(max(1, confusion[i].reduce(0, +))) }
        var pValue: Double? = nil
        if permutations > 0 {
            var random = RandomSource(seed: seed)
            var atLeast = 0
            for _ in 0..<permutations {
                var shuffled = labels
                shuffled.shuffle(using: &random)
                let score = run(shuffled).perFold
                if score.reduce(0, +) / Double(max(1, score.count)) >= mean { atLeast += 1 }
            }
            pValue = Double(atLeast + 1) / Double(permutations + 1)
        }
        var missing: [String: [Int]] = [:]
        for (fold, test) in foldIndices.enumerated() {
            let testSet = Set(test)
            let seen = Set(labels.indices.filter { !testSet.contains($0) }.map { labels[$0] })
            for name in classes where !seen.contains(name) { missing[name, default: []].append(fold + 1) }
        }
        var result = DecodingResult(classes: classes, perFold: perFold, mean: mean, sd: sd, perClassRecall: recall, confusion: confusion,
                                    chance: 1 / Double(max(1, classes.count)), pValue: pValue)
        result.classesMissingFromTraining = missing
        return result
    }
}

/// Principal component analysis by LAPACK SVD of the centred data (dgesdd): the SVD route of
/// `PrincipalComponents`, with the axes as rows.
public struct PCA: Sendable {
    public let fit: PrincipalComponents
    public var mean: [Double] { fit.mean }
    /// [components x features], unit rows, in decreasing variance.
    public let components: [[Double]]
    public var explainedVariance: [Double] { fit.explainedVariance }

    public init(fitting x: [[Double]], components k: Int) {
        let fit = PrincipalComponents(rows: x, components: k)
        self.fit = fit
        components = (0..<fit.count).map { Array(fit.axes[($0 * fit.features)..<(($0 + 1) * fit.features)]) }
    }

    public func transform(_ x: [[Double]]) -> [[Double]] { fit.transform(x) }
}

/// Linear discriminant analysis as scikit-learn's `solver="lsqr"`: class means, the
/// prior-weighted within-class covariance (each class's empirical covariance, optionally
/// shrunk), coef = Sigma^-1 means, intercept = -1/2 diag(means coef^T) + log priors.
public struct LinearDiscriminant: Sendable {
    /// How each class covariance is regularised.
    public enum Shrinkage: Sendable, Equatable {
        /// (1 - alpha) S + alpha mu I with mu = trace(S) / d (scikit-learn's float shrinkage).
        case fixed(Double)
        /// scikit-learn's `"auto"`: the class's features are standardised, the Ledoit-Wolf
        /// shrunk covariance of the standardised data is computed and scaled back.
        case ledoitWolf
    }

    public var shrinkage: Shrinkage?
    public private(set) var classes: [String] = []
    public private(set) var weights: [[Double]] = []
    public private(set) var intercepts: [Double] = []

    public init(shrinkage: Shrinkage? = nil) { self.shrinkage = shrinkage }

    public mutating func fit(_ x: [[Double]], _ y: [String]) {
        classes = Array(Set(y)).sorted()
        let d = x.first?.count ?? 0, n = Double(x.count)
        var covariance = [Double](repeating: 0, count: d * d)
        var means: [[Double]] = [], priors: [Double] = []
        for c in classes {
            let members = x.indices.filter { y[$0] == c }.map { x[$0] }
            let count = Double(members.count)
            let mean = (0..<d).map { f in members.reduce(0) { $0 + $1[f] } / count }
            var own = [Double](repeating: 0, count: d * d)
            for row in members { for i in 0..<d { for j in 0..<d { own[i * d + j] += (row[i] - mean[i]) * (row[j] - mean[j]) / count } } }
            switch shrinkage {
            case .fixed(let alpha):
                let mu = (0..<d).reduce(0) { $0 + own[$1 * d + $1] } / Double(d)
                for i in 0..<d { for j in 0..<d { own[i * d + j] = (1 - alpha) * own[i * d + j] + (i == j ? alpha * mu : 0) } }
            case .ledoitWolf:
                // StandardScaler's scale (1 for constant features), Ledoit-Wolf on the scaled
                // data, then back: S_ij = s_i s_j LW_ij.
                let scale = (0..<d).map { own[$0 * d + $0] > 0 ? own[$0 * d + $0].squareRoot() : 1 }
                let standardized = members.map { row in (0..<d).map { (row[$0] - mean[$0]) / scale[$0] } }
                let shrunk = LedoitWolf.covariance(standardized)
                for i in 0..<d { for j in 0..<d { own[i * d + j] = scale[i] * scale[j] * shrunk[i * d + j] } }
            case nil:
                break
            }
            let prior = count / n
            for index in own.indices { covariance[index] += prior * own[index] }
            means.append(mean)
            priors.append(prior)
        }
        // Solve Sigma W^T = means^T for all classes at once (least squares, as scipy's lstsq).
        var b = [Double](repeating: 0, count: d * classes.count)  // row-major d x classes
        for (k, mean) in means.enumerated() { for f in 0..<d { b[f * classes.count + k] = mean[f] } }
        // A failed solve (non-finite covariance) gives zero weights: every class scored by its prior.
        b = (try? DenseLinearAlgebra.leastSquaresSVD(covariance, b, rows: d, columns: d, rightHandSides: classes.count).solution)
            ?? [Double](repeating: 0, count: d * classes.count)
        weights = classes.indices.map { k in (0..<d).map { b[$0 * classes.count + k] } }
        intercepts = classes.indices.map { k in -0.5 * zip(means[k], weights[k]).reduce(0) { $0 + $1.0 * $1.1 } + Foundation.log(priors[k]) }
    }

    public func predict(_ x: [[Double]]) -> [String] {
        x.map { row in
            let scores = classes.indices.map { k in intercepts[k] + zip(weights[k], row).reduce(0) { $0 + $1.0 * $1.1 } }
            return classes[scores.indices.max { scores[$0] < scores[$1] } ?? 0]
        }
    }
}

/// The Ledoit-Wolf shrunk covariance (scikit-learn's `ledoit_wolf`): the empirical covariance S
/// of the centred data pulled toward mu I, mu = trace(S) / d, by the shrinkage
/// alpha = min(b^2, d^2) / d^2 with d^2 = ||S - mu I||_F^2 / p and
/// b^2 = (sum_k ||x_k x_k^T - S||_F^2) / (p n^2), as in Ledoit and Wolf (2004).
public enum LedoitWolf {
    /// The shrinkage alpha in [0, 1] for rows `x` (n x p; centred here).
    public static func shrinkage(_ x: [[Double]]) -> Double {
        estimate(x).shrinkage
    }

    /// The shrunk covariance, row-major p x p.
    public static func covariance(_ x: [[Double]]) -> [Double] {
        estimate(x).covariance
    }

    static func estimate(_ x: [[Double]]) -> (shrinkage: Double, covariance: [Double]) {
        let n = x.count, p = x.first?.count ?? 0
        guard n > 0, p > 0 else { return (0, []) }
        let mean = (0..<p).map { f in x.reduce(0) { $0 + $1[f] } / Double(n) }
        let centred = x.map { row in (0..<p).map { row[$0] - mean[$0] } }
        var empirical = [Double](repeating: 0, count: p * p)
        for row in centred { for i in 0..<p { for j in 0..<p { empirical[i * p + j] += row[i] * row[j] } } }
        for index in empirical.indices { empirical[index] /= Double(n) }
        let mu = (0..<p).reduce(0) { $0 + empirical[$1 * p + $1] } / Double(p)
        if p == 1 { return (0, empirical) }
        // delta: distance of S to mu I; beta: the sampling variance of S's entries.
        var delta = 0.0
        for i in 0..<p { for j in 0..<p { let v = empirical[i * p + j] - (i == j ? mu : 0); delta += v * v } }
        delta /= Double(p)
        var beta = 0.0
        for row in centred {
            for i in 0..<p { for j in 0..<p { let v = row[i] * row[j] - empirical[i * p + j]; beta += v * v } }
        }
        beta /= Double(p) * Double(n) * Double(n)
        let alpha = delta > 0 ? min(beta, delta) / delta : 0
        var shrunk = empirical
        for i in 0..<p { for j in 0..<p { shrunk[i * p + j] = (1 - alpha) * empirical[i * p + j] + (i == j ? alpha * mu : 0) } }
        return (alpha, shrunk)
    }
}
