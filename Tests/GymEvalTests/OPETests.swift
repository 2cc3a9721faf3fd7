import XCTest
@testable import GymData
import GymRandom
@testable import GymEval

final class OPETests: XCTestCase {
    /// A context-free bandit whose target value is known in closed form: K = 4 actions with
    /// click rates mu, a logging policy pi_b and a target pi_e; V(pi_e) = sum_a pi_e(a) mu_a.
    /// Over 2,000 logs of 300 rows, the mean IPS, SNIPS and DR estimates lie within 3 standard
    /// errors of V (DR with a deliberately wrong constant reward model: unbiased all the same).
    func testUnbiasedInExpectationOnAKnownCase() {
        let mu = [0.1, 0.3, 0.5, 0.7], pib = [0.4, 0.3, 0.2, 0.1], pie = [0.1, 0.2, 0.3, 0.4]
        let truth = zip(pie, mu).reduce(0) { $0 + $1.0 * $1.1 }   // 0.5
        let target = ContextFreePolicy(actions: 4, positions: 1, table: pie, name: "pi_e")
        let s = RandomStream(seed: 8)
        var ips: [Double] = [], snips: [Double] = [], dr: [Double] = [], dm: [Double] = []
        for _ in 0..<2000 {
            let n = 300
            var a = [Int32](), r = [Double](), p = [Double]()
            for _ in 0..<n {
                let u = s.uniform()
                var k = 0, acc = pib[0]
                while u >= acc && k < 3 { k += 1; acc += pib[k] }
                a.append(Int32(k)); p.append(pib[k]); r.append(s.uniform() < mu[k] ? 1 : 0)
            }
            let log = LoggedBandit(actions: 4, positions: 1, action: a, position: [Int32](repeating: 0, count: n), reward: r, pscore: p,
                                   context: [], contextDimension: 0, source: "synthetic")
            let w = OPERows.weights(log, target)
            let q = [Double](repeating: 0.2, count: n)   // a wrong reward model: q = 0.2 for every action
            let rows = OPERows(w: w, r: r, dm: [Double](repeating: 0.2, count: n), q: q)
            var sums = OPESums()
            for i in 0..<n { sums.add(rows, i, lambda: .infinity) }
            ips.append(sums.value(.ips)); snips.append(sums.value(.snips)); dr.append(sums.value(.dr)); dm.append(sums.value(.dm))
        }
        for (name, xs) in [("IPS", ips), ("SNIPS", snips), ("DR", dr)] {
            let m = xs.reduce(0, +) / Double(xs.count)
            let sd = (xs.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(xs.count - 1)).squareRoot()
            XCTAssertEqual(m, truth, accuracy: 3 * sd / Double(xs.count).squareRoot(), name)
        }
        // DM with the wrong model is biased: it returns the model's 0.2 whatever the data, far
        // from the truth 0.5 (beyond 100 standard errors of the IPS mean), while DR corrects it.
        let dmMean = dm.reduce(0, +) / Double(dm.count)
        XCTAssertEqual(dmMean, 0.2, accuracy: 1e-12)
        let ipsSD = (ips.reduce(0) { $0 + ($1 - truth) * ($1 - truth) } / Double(ips.count - 1)).squareRoot()
        XCTAssertGreaterThan(abs(dmMean - truth), 100 * ipsSD / Double(ips.count).squareRoot())
    }

    /// The bootstrap interval: reproducible for a seed, independent of the thread count, and
    /// covering IPS's value; the per-estimator formulas on a hand case.
    func testFormulasAndBootstrap() {
        let rows = OPERows(w: [2, 0.5, 1, 4], r: [1, 0, 1, 0], dm: [0.3, 0.3, 0.3, 0.3], q: [0.5, 0.5, 0.5, 0.5])
        var s = OPESums()
        for i in 0..<4 { s.add(rows, i, lambda: 3) }
        XCTAssertEqual(s.value(.ips), (2 + 1) / 4.0, accuracy: 1e-15)
        XCTAssertEqual(s.value(.snips), 3 / 7.5, accuracy: 1e-15)
        XCTAssertEqual(s.value(.dm), 0.3, accuracy: 1e-15)
        // residuals w (r - q): 1, -0.25, 0.5, -2
        XCTAssertEqual(s.value(.dr), 0.3 + (1 - 0.25 + 0.5 - 2) / 4, accuracy: 1e-15)
        XCTAssertEqual(s.value(.sndr), 0.3 + (1 - 0.25 + 0.5 - 2) / 7.5, accuracy: 1e-15)
        XCTAssertEqual(s.value(.switchDR), 0.3 + (1 - 0.25 + 0.5) / 4, accuracy: 1e-15, "w = 4 > lambda drops its correction")
        let big = OPERows(w: (0..<5000).map { Double($0 % 7) / 3 }, r: (0..<5000).map { Double($0 % 3 == 0 ? 1 : 0) }, dm: [], q: [])
        let a = OPE.estimate(big, estimators: [.ips, .snips], resamples: 200, seed: SeedTree(root: 1), threads: 1)
        let b = OPE.estimate(big, estimators: [.ips, .snips], resamples: 200, seed: SeedTree(root: 1), threads: 2)
        XCTAssertEqual(a.map(\.ciLow), b.map(\.ciLow)); XCTAssertEqual(a.map(\.ciHigh), b.map(\.ciHigh))
        XCTAssertTrue(a[0].ciLow < a[0].value && a[0].value < a[0].ciHigh)
        let d = WeightDiagnostics(weights: [1, 1, 1, 1])
        XCTAssertEqual(d.effectiveSampleSize, 4)
        XCTAssertEqual(WeightDiagnostics(weights: [4, 0, 0, 0]).effectiveSampleSize, 1)
    }

    /// The prior-only BTS position table by integration: every position's probabilities sum to
    /// 1, and they agree with 200,000 simulated rounds within 5 Monte Carlo standard errors.
    func testBernoulliTSTable() {
        let alpha = [2.0, 5, 9, 3, 40, 7], beta = [800.0, 1500, 2000, 400, 12000, 3000]
        let t = BernoulliTSTable.integrate(alpha: alpha, beta: beta, positions: 3, gridPoints: 20_000)
        for k in 0..<3 { XCTAssertEqual((0..<6).reduce(0) { $0 + t[$1 * 3 + k] }, 1, accuracy: 1e-6, "position \(k)") }
        let n = 200_000
        let sim = BernoulliTSTable.simulate(alpha: alpha, beta: beta, positions: 3, rounds: n, stream: RandomStream(seed: 4))
        for i in 0..<18 {
            let se = (max(t[i] * (1 - t[i]), 1e-12) / Double(n)).squareRoot()
            XCTAssertEqual(sim[i], t[i], accuracy: 5 * se + 1e-9, "cell \(i)")
        }
    }

    /// The Poisson bootstrap's 95% interval of IPS covers the true value about 95% of the time:
    /// 300 logs of 500 rows from the known case, 300 resamples each; coverage in [0.90, 0.99]
    /// (a binomial(300, 0.95) lies there with probability > 0.99).
    func testBootstrapCoverage() {
        let mu = [0.1, 0.3, 0.5, 0.7], pib = [0.4, 0.3, 0.2, 0.1], pie = [0.1, 0.2, 0.3, 0.4]
        let truth = zip(pie, mu).reduce(0) { $0 + $1.0 * $1.1 }
        let s = RandomStream(seed: 21)
        var covered = 0
        for rep in 0..<300 {
            var w: [Double] = [], r: [Double] = []
            for _ in 0..<500 {
                let u = s.uniform()
                var k = 0, acc = pib[0]
                while u >= acc && k < 3 { k += 1; acc += pib[k] }
                w.append(pie[k] / pib[k]); r.append(s.uniform() < mu[k] ? 1 : 0)
            }
            let e = OPE.estimate(OPERows(w: w, r: r, dm: [], q: []), estimators: [.ips], resamples: 300, seed: SeedTree(root: UInt64(rep)))[0]
            if e.ciLow <= truth && truth <= e.ciHigh { covered += 1 }
        }
        let rate = Double(covered) / 300
        XCTAssertGreaterThanOrEqual(rate, 0.90, "coverage \(rate)")
        XCTAssertLessThanOrEqual(rate, 0.99, "coverage \(rate)")
    }
}

/// The reward model's folds are scikit-learn's KFold(shuffle=True, random_state=seed), which
/// shuffles with numpy's legacy RandomState. Reference values printed by numpy 2 (venv with obp 0.5.7):
/// `list(np.random.RandomState(s).permutation(12))`, and for n = 10,000 the first and last five
/// entries and sum(i * r[i]) mod 1000003.
final class NumpyLegacyTests: XCTestCase {
    func testPermutationMatchesNumpy() {
        XCTAssertEqual(NumpyLegacy.permutation(12, seed: 0), [6, 11, 4, 10, 2, 8, 1, 7, 9, 3, 0, 5])
        XCTAssertEqual(NumpyLegacy.permutation(12, seed: 1), [2, 3, 4, 10, 1, 6, 0, 7, 11, 9, 8, 5])
        XCTAssertEqual(NumpyLegacy.permutation(12, seed: 12345), [8, 0, 3, 7, 11, 10, 6, 9, 4, 1, 5, 2])
        for (seed, head, tail, check) in [(UInt32(0), [9394, 898, 2398, 5906, 2343], [9225, 4859, 3264, 9845, 2732], 691_805),
                                          (1, [9953, 3850, 4962, 3886, 5437], [2895, 7813, 905, 5192, 235], 756_130),
                                          (12345, [7867, 1402, 8606, 8885, 6494], [4478, 4094, 3492, 2177, 4578], 656_761)] {
            let r = NumpyLegacy.permutation(10_000, seed: seed)
            XCTAssertEqual(Array(r.prefix(5)), head)
            XCTAssertEqual(Array(r.suffix(5)), tail)
            XCTAssertEqual(r.enumerated().reduce(0) { ($0 + $1.offset * $1.element) % 1_000_003 }, check)
        }
    }
}
