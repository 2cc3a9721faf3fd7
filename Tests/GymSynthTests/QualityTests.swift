import XCTest
@testable import GymData
import GymRandom
@testable import GymSynth

final class QualityTests: XCTestCase {
    /// KL against a hand computation: p = (3, 1), q = (1, 3) with 0.5 added: p' = (3.5, 1.5)/5,
    /// q' = (1.5, 3.5)/5, KL = 0.7 ln(7/3) + 0.3 ln(3/7).
    func testKLAndTVAndKS() {
        XCTAssertEqual(Quality.kl([3, 1], [1, 3]), 0.7 * log(7.0 / 3) + 0.3 * log(3.0 / 7), accuracy: 1e-12)
        XCTAssertEqual(Quality.kl([5, 5, 0], [5, 5, 0]), 0, accuracy: 1e-15)
        XCTAssertEqual(Quality.tv([1, 0], [0, 1]), 1)
        XCTAssertEqual(Quality.tv([2, 2], [1, 3]), 0.25, accuracy: 1e-15)
        XCTAssertEqual(Quality.ks([1, 2, 3, 4], [1, 2, 3, 4]), 0)
        XCTAssertEqual(Quality.ks([1, 2], [3, 4]), 1)
        XCTAssertEqual(Quality.ks([1, 2, 3, 4], [3, 4, 5, 6]), 0.5)
        // KS of two large samples of one distribution is small (Kolmogorov: sqrt(2/n) * 1.36 at 95%).
        let s = RandomStream(seed: 1)
        let a = (0..<5000).map { _ in s.standardNormal() }, b = (0..<5000).map { _ in s.standardNormal() }
        XCTAssertLessThan(Quality.ks(a, b), 1.36 * (2.0 / 5000).squareRoot())
        XCTAssertEqual(Quality.correlation([1, 2, 3], [2, 4, 6]), 1, accuracy: 1e-12)
        XCTAssertEqual(Quality.correlation([1, 2, 3], [3, 2, 1]), -1, accuracy: 1e-12)
    }

    func model(levels: [[String]], qi: [Bool]) -> PersonaModel {
        PersonaModel(format: PersonaModel.format, version: 1, source: "t", numeric: [.init(name: "x", low: 0, high: 1, boundsSource: "configured")],
                     categorical: zip(levels.indices, levels).map { .init(name: "c\($0)", levels: $1, quasiIdentifier: qi[$0]) },
                     components: [.init(weight: 1, mean: [0], variance: [0.3], probabilities: levels.map { l in l.map { _ in 1 / Double(l.count) } })],
                     selection: [], privacy: .init(epsilon: 1, delta: 1e-5, noiseMultiplier: 1, releases: 1, maxRowsPerUser: 1,
                                                   statisticsSensitivity: 1, logLikelihoodClip: 50, users: 1, rowsUsed: 1, rowsDropped: 0, notes: []),
                     seed: 1)
    }

    func rows(_ x: [Double], _ codes: [[Int]]) -> EncodedRows {
        EncodedRows(count: x.count, d: 1, c: codes.first?.count ?? 0, numeric: x, codes: codes.flatMap { $0 })
    }

    func testIdenticalSetsScorePerfectly() {
        let m = model(levels: [["a", "b"], ["u", "v", "w"]], qi: [true, true])
        let s = RandomStream(seed: 2)
        let x = (0..<500).map { _ in s.uniform() * 2 - 1 }
        let c = (0..<500).map { _ in [s.uniformInt(2), s.uniformInt(3)] }
        let r = rows(x, c)
        for col in Quality.columnScores(real: r, synthetic: r, model: m) {
            XCTAssertEqual(col.kl, 0, accuracy: 1e-12); XCTAssertEqual(col.complement, 1, accuracy: 1e-12)
        }
        XCTAssertEqual(Quality.correlationSimilarity(real: r, synthetic: r, model: m)!.score, 1, accuracy: 1e-12)
        XCTAssertEqual(Quality.correlationSimilarity(real: r, synthetic: r, model: m)!.pairs, 3)
        XCTAssertTrue(Quality.dcr(from: r, to: r, limit: 100).allSatisfy { $0 == 0 })
        // Against a shifted copy, the DCR is the shift (numeric only differs).
        let shifted = rows(x.map { $0 + 0.25 }, c)
        let d = Quality.dcr(from: shifted, to: r, limit: 50)
        XCTAssertTrue(d.allSatisfy { $0 <= 0.25 + 1e-12 })
    }

    /// Group patterns: with k = 5 the groups of 4 and 1 members are suppressed and counted.
    func testKAnonymitySuppression() {
        let m = model(levels: [["a", "b", "c"]], qi: [true])
        let real = rows([Double](repeating: 0, count: 15), (0..<10).map { _ in [0] } + (0..<4).map { _ in [1] } + [[2]])
        let syn = rows([Double](repeating: 0, count: 6), [[0], [0], [1], [2], [2], [2]])
        let g = KAnonymity.groups(real: real, synthetic: syn, qi: [0], model: m, k: 5)
        XCTAssertEqual(g.shown.map(\.values), [["a"]])
        XCTAssertEqual(g.shown[0].real, 10); XCTAssertEqual(g.shown[0].synthetic, 2)
        XCTAssertEqual(g.suppressedGroups, 2)
        XCTAssertEqual(g.suppressedRealRows, 5)
        XCTAssertEqual(KAnonymity.groups(real: real, synthetic: syn, qi: [0], model: m, k: 4).suppressedGroups, 1)
    }

    /// Naive Bayes on a target that the other column determines: perfect accuracy; on an
    /// independent target: about the majority share.
    func testNaiveBayes() {
        let s = RandomStream(seed: 3)
        var x: [Double] = [], c: [[Int]] = []
        for _ in 0..<2000 { let y = s.uniformInt(2); x.append(y == 0 ? -0.5 : 0.5); c.append([y, s.uniformInt(3)]) }
        let r = rows(x.map { $0 + 0.05 * s.standardNormal() }, c)
        XCTAssertEqual(NaiveBayes(train: r, target: 0, levels: [2, 3]).accuracy(r), 1, accuracy: 1e-12)
        let acc = NaiveBayes(train: r, target: 1, levels: [2, 3]).accuracy(r)
        XCTAssertLessThan(acc, 0.40)   // three balanced classes, nothing to learn
    }

    /// Diversity: a set of identical rows has none; rows spread uniformly have mean pairwise
    /// distance near the closed form E|U - V| = 2/3 for U, V uniform on [-1, 1].
    func testDiversity() {
        let s = RandomStream(seed: 4)
        let same = rows([Double](repeating: 0.3, count: 100), (0..<100).map { _ in [] })
        let d0 = Quality.diversity(same, cluster: [Int](repeating: 0, count: 100), pairs: 1000, stream: s)
        XCTAssertEqual(d0.meanPairwise, 0); XCTAssertEqual(d0.intraClusterVariance, 0, accuracy: 1e-15)
        let spread = rows((0..<20000).map { _ in s.uniform() * 2 - 1 }, (0..<20000).map { _ in [] })
        let d1 = Quality.diversity(spread, cluster: [Int](repeating: 0, count: 20000), pairs: 20000, stream: s)
        XCTAssertEqual(d1.meanPairwise, 2.0 / 3, accuracy: 0.01)
        XCTAssertEqual(d1.intraClusterVariance, 1.0 / 3, accuracy: 0.01)   // variance of U(-1, 1)
    }
}
