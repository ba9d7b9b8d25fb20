import Core
import TestSupport
import XCTest

@testable import Analysis

/// Decoding pieces against scikit-learn 1.9 (bench/golden/decoding_sklearn.py).
final class DecodingTests: XCTestCase {
    nonisolated(unsafe) static let golden: [String: Any] = (try? Fixtures.json("analysis/sklearn_golden.json") as? [String: Any]) ?? [:]

    func testLogisticRegressionMatchesScikitLearn() throws {
        let x = try XCTUnwrap(Self.golden["x"] as? [[Double]]), labels = try XCTUnwrap(Self.golden["labels"] as? [String])
        var model = LogisticRegression(c: 1, tolerance: 1e-10, maxIterations: 10_000)
        model.fit(x, labels)
        XCTAssertEqual(model.classes, Self.golden["classes"] as? [String])
        XCTAssertClose(model.weights.flatMap { $0 }, (Self.golden["coef"] as? [[Double]] ?? []).flatMap { $0 }, absolute: 1e-5, relative: 1e-5)
        XCTAssertClose(model.intercepts, Self.golden["intercept"] as? [Double] ?? [], absolute: 1e-5, relative: 1e-5)
        let predicted = model.predict(x)
        XCTAssertEqual(predicted, Self.golden["predicted"] as? [String])
        XCTAssertEqual(Decoding.balancedAccuracy(truth: labels, predicted: predicted), Self.golden["balanced_accuracy"] as? Double ?? .nan, accuracy: 1e-12)
    }

    func testLDAMatchesScikitLearnLsqr() throws {
        let x = try XCTUnwrap(Self.golden["x"] as? [[Double]]), labels = try XCTUnwrap(Self.golden["labels"] as? [String])
        var lda = LinearDiscriminant()
        lda.fit(x, labels)
        XCTAssertClose(lda.weights.flatMap { $0 }, (Self.golden["lda_coef"] as? [[Double]] ?? []).flatMap { $0 }, absolute: 1e-10, relative: 1e-9)
        XCTAssertClose(lda.intercepts, Self.golden["lda_intercept"] as? [Double] ?? [], absolute: 1e-10, relative: 1e-9)
        XCTAssertEqual(lda.predict(x), Self.golden["lda_predicted"] as? [String])
        var shrunk = LinearDiscriminant(shrinkage: .fixed(0.3))
        shrunk.fit(x, labels)
        XCTAssertClose(shrunk.weights.flatMap { $0 }, (Self.golden["lda_shrunk_coef"] as? [[Double]] ?? []).flatMap { $0 }, absolute: 1e-10, relative: 1e-9)
        XCTAssertClose(shrunk.intercepts, Self.golden["lda_shrunk_intercept"] as? [Double] ?? [], absolute: 1e-10, relative: 1e-9)
    }

    func testLedoitWolfMatchesScikitLearn() throws {
        let x = try XCTUnwrap(Self.golden["lw_x"] as? [[Double]])
        let expected = try XCTUnwrap(Self.golden["lw_shrinkage"] as? Double)
        XCTAssertGreaterThan(expected, 0.1)  // the fixture is chosen so that shrinkage matters
        XCTAssertEqual(LedoitWolf.shrinkage(x), expected, accuracy: 1e-12)
        XCTAssertClose(LedoitWolf.covariance(x), (Self.golden["lw_covariance"] as? [[Double]] ?? []).flatMap { $0 }, absolute: 1e-10, relative: 1e-10)

        let all = try XCTUnwrap(Self.golden["x"] as? [[Double]]), labels = try XCTUnwrap(Self.golden["labels"] as? [String])
        var lda = LinearDiscriminant(shrinkage: .ledoitWolf)
        lda.fit(Array(all.prefix(40)), Array(labels.prefix(40)))
        XCTAssertClose(lda.weights.flatMap { $0 }, (Self.golden["lda_auto_coef"] as? [[Double]] ?? []).flatMap { $0 }, absolute: 1e-10, relative: 1e-9)
        XCTAssertClose(lda.intercepts, Self.golden["lda_auto_intercept"] as? [Double] ?? [], absolute: 1e-10, relative: 1e-9)
    }

    func testGroupKFoldAssignment() throws {
        let groups = try XCTUnwrap(Self.golden["groups"] as? [String])
        XCTAssertEqual(GroupKFold.folds(groups: groups, count: 3), Self.golden["group_folds"] as? [[Int]])
        let tied = try XCTUnwrap(Self.golden["tied_groups"] as? [String])
        XCTAssertEqual(GroupKFold.folds(groups: tied, count: 3), Self.golden["tied_folds"] as? [[Int]])
    }

    func testPCAUpToSign() throws {
        let x = try XCTUnwrap(Self.golden["x"] as? [[Double]])
        let pca = PCA(fitting: x, components: 3)
        let expected = try XCTUnwrap(Self.golden["pca_components"] as? [[Double]])
        for (ours, theirs) in zip(pca.components, expected) {
            let sign = zip(ours, theirs).reduce(0) { $0 + $1.0 * $1.1 } < 0 ? -1.0 : 1.0
            XCTAssertClose(ours.map { $0 * sign }, theirs, absolute: 1e-10, relative: 0)
        }
        XCTAssertClose(pca.explainedVariance, Self.golden["pca_explained_variance"] as? [Double] ?? [], absolute: 1e-10, relative: 1e-10)
    }

    func testCrossValidationOnSeparableAndRandomLabels() {
        var generator = RandomSource(seed: 5)
        let labels = (0..<90).map { ["a", "b", "c"][$0 % 3] }
        let groups = (0..<90).map { "s\($0 / 15)" }
        let features = labels.map { label -> [Double] in
            let centre: [Double] = label == "a" ? [3, 0] : (label == "b" ? [0, 3] : [-3, -3])
            return centre.map { $0 + Double(generator.next() % 1000) / 1000 - 0.5 }
        }
        let result = Decoding.crossValidate(features: features, labels: labels, groups: groups, folds: 3, permutations: 20)
        XCTAssertEqual(result.mean, 1, accuracy: 1e-12)
        XCTAssertEqual(result.chance, 1.0 / 3)
        XCTAssertEqual(result.pValue ?? 1, 1.0 / 21, accuracy: 1e-12)
        XCTAssertEqual(result.confusion.map { $0.reduce(0, +) }, [30, 30, 30])
    }

    /// One train/test split by group scores exactly what the cross-validation fold holding
    /// that group out scores (same standardisation, same classifier).
    func testHeldOutAccuracyIsTheFoldOfItsGroup() throws {
        var generator = RandomSource(seed: 8)
        let labels = (0..<120).map { ["a", "b", "c"][$0 % 3] }
        let groups = (0..<120).map { "s\($0 / 40)" }
        let features = labels.map { label -> [Double] in
            let centre: [Double] = label == "a" ? [1, 0] : (label == "b" ? [0, 1] : [-1, -1])
            return centre.map { $0 + 1.2 * generator.normal() }
        }
        let cv = Decoding.crossValidate(features: features, labels: labels, groups: groups, folds: 3)
        let folds = GroupKFold.folds(groups: groups, count: 3).filter { !$0.isEmpty }
        for subject in ["s0", "s1", "s2"] {
            let fold = try XCTUnwrap(folds.firstIndex { $0.contains { groups[$0] == subject } })
            let single = try XCTUnwrap(Decoding.heldOutAccuracy(features: features, labels: labels, groups: groups, testGroups: [subject]))
            XCTAssertEqual(single, cv.perFold[fold], accuracy: 1e-12)
            XCTAssertGreaterThan(single, 0.4)
            XCTAssertLessThan(single, 0.95, "overlapping classes: not a trivially perfect split")
        }
        XCTAssertNil(Decoding.heldOutAccuracy(features: features, labels: labels, groups: groups, testGroups: ["nobody"]))
    }

    /// A class of one group only is absent from the training data of that group's fold: the
    /// result names the class and the fold, and says why its samples score 0 there.
    func testClassesMissingFromTrainingFoldsAreReported() {
        var features: [[Double]] = [], labels: [String] = [], groups: [String] = []
        for subject in ["a", "b", "c"] {
            for t in 0..<12 {
                let label = t % 2 == 0 ? "left" : "right"
                features.append([label == "left" ? 1 : -1, Double(t % 3)])
                labels.append(label)
                groups.append(subject)
            }
        }
        // Only subject b did the tongue task.
        for t in 0..<4 { features.append([0, 5 + Double(t)]); labels.append("tongue"); groups.append("b") }
        let result = Decoding.crossValidate(features: features, labels: labels, groups: groups, folds: 3)
        let foldOfB = GroupKFold.folds(groups: groups, count: 3).firstIndex { $0.contains(labels.count - 1) }.map { $0 + 1 }
        XCTAssertEqual(result.classesMissingFromTraining, ["tongue": [foldOfB ?? -1]])
        XCTAssertEqual(result.warnings.count, 1)
        XCTAssertTrue(result.warnings[0].hasPrefix("class tongue is absent from the training data of fold \(foldOfB ?? -1);"), result.warnings[0])
        XCTAssertEqual(result.perClassRecall["tongue"], 0)
        let balanced = Decoding.crossValidate(features: Array(features.prefix(36)), labels: Array(labels.prefix(36)), groups: Array(groups.prefix(36)), folds: 3)
        XCTAssertEqual(balanced.warnings, [])
    }
}

final class LocalisationMapTests: XCTestCase {
    /// Two latents, one lag: weights are rescaled, summed over lags and pushed through D.
    func testWeightsThroughTheDecoder() {
        let weights = [[1.0, 2, 3, 4], [0, 0, -1, 0]]  // classes x (lag 0: z1 z2, lag 1: z1 z2)
        let scales = [1.0, 2, 0.5, 4]
        let decoder = [[1.0, 0], [0, 1], [2, -1]]  // 3 regions x 2 latents
        let maps = LocalisationMaps.regionMaps(classifierWeights: weights, featureScales: scales, latent: 2, decoder: decoder)
        // class 0 in latent units: z1 = 1/1 + 3/0.5 = 7, z2 = 2/2 + 4/4 = 2; class 1: z1 = -2, z2 = 0.
        XCTAssertEqual(maps, [[7, 2, 12], [-2, 0, -4]])
    }
}
