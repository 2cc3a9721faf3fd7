import Foundation
import XCTest
import GymData
import GymRandom
@testable import GymEval

/// The sequential estimators on a small tabular MDP whose value under the target policy has a
/// closed form (backward induction): 3 states, 2 actions, horizon 4, gamma 0.9.
final class SequentialOPETests: XCTestCase {
    let S = 3, A = 2, H = 4, gamma = 0.9
    let d0 = [0.5, 0.3, 0.2]
    // P[s][a][s'], in tenths so that "infinite data" can be written exactly.
    let P: [[[Double]]] = [
        [[0.7, 0.2, 0.1], [0.1, 0.6, 0.3]],
        [[0.3, 0.3, 0.4], [0.0, 0.5, 0.5]],
        [[0.2, 0.0, 0.8], [0.6, 0.4, 0.0]],
    ]
    let R: [[Double]] = [[0.1, 0.5], [0.9, -0.2], [0.0, 0.4]]
    let mu: [[Double]] = [[0.6, 0.4], [0.3, 0.7], [0.5, 0.5]]
    /// The target depends on the step too.
    func pi(_ s: Int, _ t: Int) -> [Double] {
        let base: [[Double]] = [[0.2, 0.8], [0.7, 0.3], [0.9, 0.1]]
        return t == 3 && s == 0 ? [0.5, 0.5] : base[s]
    }

    /// Q^pi_t(s, a) and J = sum_s d0(s) V_0(s), by backward induction.
    func exact() -> (q: [Double], value: Double) {
        var q = [Double](repeating: 0, count: H * S * A)
        var vNext = [Double](repeating: 0, count: S)
        for t in stride(from: H - 1, through: 0, by: -1) {
            var v = [Double](repeating: 0, count: S)
            for s in 0..<S {
                for a in 0..<A {
                    var x = R[s][a]
                    if t + 1 < H { for s2 in 0..<S { x += gamma * P[s][a][s2] * vNext[s2] } }
                    q[(t * S + s) * A + a] = x
                    v[s] += pi(s, t)[a] * x
                }
            }
            vNext = v
        }
        return (q, (0..<S).reduce(0) { $0 + d0[$1] * vNext[$1] })
    }

    func draw(_ p: [Double], _ u: Double) -> Int {
        var acc = 0.0
        for (i, x) in p.enumerated() { acc += x; if u < acc { return i } }
        return p.count - 1
    }

    func dataset(_ n: Int, _ stream: RandomStream) -> [[TrajectoryStep]] {
        (0..<n).map { _ in
            var s = draw(d0, stream.uniform())
            var steps: [TrajectoryStep] = []
            for _ in 0..<H {
                let a = draw(mu[s], stream.uniform())
                let r = R[s][a] + (stream.uniform() - 0.5) * 0.2   // noise with mean 0
                steps.append(TrajectoryStep(state: s, action: a, reward: r, propensity: mu[s][a]))
                s = draw(P[s][a], stream.uniform())
            }
            return steps
        }
    }

    var target: SequentialOPE.Policy { { s, t, out in let p = self.pi(s, t); for a in 0..<p.count { out[a] = p[a] } } }

    /// tis, pdis and dr (with a Q that does not depend on the data, right or wrong) are unbiased:
    /// over 400 logged datasets of 200 trajectories, each mean is within 3 standard errors of J.
    func testUnbiasedEstimatorsMatchTheClosedForm() {
        let (qExact, J) = exact()
        var wrong = TabularQ(horizon: H, states: S, actions: A)
        for i in wrong.values.indices { wrong.values[i] = 0.5 + 0.1 * Double(i % 5) }
        var right = TabularQ(horizon: H, states: S, actions: A)
        right.values = qExact
        let stream = RandomStream(seed: 20261128)
        var samples: [String: [Double]] = [:]
        for _ in 0..<400 {
            let data = dataset(200, stream)
            let a = SequentialOPE.estimate(data, actions: A, target: target, gamma: gamma, q: wrong)
            let b = SequentialOPE.estimate(data, actions: A, target: target, gamma: gamma, q: right)
            samples["tis", default: []].append(a[.tis]!)
            samples["pdis", default: []].append(a[.pdis]!)
            samples["dr (wrong Q)", default: []].append(a[.dr]!)
            samples["dr (exact Q)", default: []].append(b[.dr]!)
            samples["fqe (exact Q)", default: []].append(b[.fqe]!)
        }
        for (name, xs) in samples {
            let m = xs.reduce(0, +) / Double(xs.count)
            let sd = (xs.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(xs.count - 1)).squareRoot()
            let se = sd / Double(xs.count).squareRoot()
            XCTAssertLessThan(abs(m - J), 3 * se + 1e-12, "\(name): mean \(m) against J \(J) (se \(se))")
        }
        // The variance ordering the theory predicts: pdis below tis, dr with the exact Q below pdis.
        func variance(_ k: String) -> Double {
            let xs = samples[k]!, m = xs.reduce(0, +) / Double(xs.count)
            return xs.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(xs.count - 1)
        }
        XCTAssertLessThan(variance("pdis"), variance("tis"))
        XCTAssertLessThan(variance("dr (exact Q)"), variance("pdis"))
    }

    /// With the target equal to the logging policy every weight is 1: tis and pdis are the mean
    /// discounted return, and the self-normalised forms equal them.
    func testOnPolicyWeightsAreOne() {
        let data = dataset(300, RandomStream(seed: 7))
        let onPolicy: SequentialOPE.Policy = { s, _, out in out[0] = self.mu[s][0]; out[1] = self.mu[s][1] }
        let e = SequentialOPE.estimate(data, actions: A, target: onPolicy, gamma: gamma)
        let returns = data.map { t in t.enumerated().reduce(0.0) { $0 + pow(gamma, Double($1.offset)) * $1.element.reward } }
        let mean = returns.reduce(0, +) / Double(returns.count)
        for k in [SequentialOPE.Estimator.tis, .sntis, .pdis, .snpdis] { XCTAssertEqual(e[k]!, mean, accuracy: 1e-12, k.rawValue) }
        XCTAssertTrue(e[.dr]!.isNaN && e[.fqe]!.isNaN, "no Q, no dr or fqe")
    }

    /// Tabular FQE on infinite data (every transition weighted by its exact probability) is the
    /// exact Q, to rounding; its value from the initial distribution is J.
    func testTabularFQEOnInfiniteDataIsTheExactQ() {
        let (qExact, J) = exact()
        var transitions: [TabularFQE.Transition] = []
        for t in 0..<H {
            for s in 0..<S {
                for a in 0..<A {
                    for s2 in 0..<S where P[s][a][s2] > 0 {
                        transitions.append(.init(step: t, state: s, action: a, reward: R[s][a], next: t + 1 < H ? s2 : nil, weight: P[s][a][s2]))
                    }
                }
            }
        }
        let q = TabularFQE.fit(transitions, horizon: H, states: S, actions: A, target: target, gamma: gamma)
        XCTAssertEqual(q.emptyCells, 0)
        for i in qExact.indices { XCTAssertEqual(q.values[i], qExact[i], accuracy: 1e-12, "cell \(i)") }
        var v0 = 0.0
        for s in 0..<S { for a in 0..<A { v0 += d0[s] * pi(s, 0)[a] * q.value(step: 0, state: s, action: a) } }
        XCTAssertEqual(v0, J, accuracy: 1e-12)
        // Cells that no transition visits are counted, not hidden.
        let partial = TabularFQE.fit(transitions.filter { !($0.step == 2 && $0.state == 1) }, horizon: H, states: S, actions: A,
                                     target: target, gamma: gamma)
        XCTAssertEqual(partial.emptyCells, A)
        // FQE fitted on logged data converges to J as the data grows (certainty equivalence).
        let data = dataset(40_000, RandomStream(seed: 11))
        let fitted = TabularFQE.fit(TabularFQE.transitions(data), horizon: H, states: S, actions: A, target: target, gamma: gamma)
        let e = SequentialOPE.estimate(data, actions: A, target: target, gamma: gamma, q: fitted)
        XCTAssertEqual(e[.fqe]!, J, accuracy: 0.02)
        XCTAssertEqual(e[.dr]!, J, accuracy: 0.02)
    }

    /// A dataset as a trajectory log, with the step-dependent target as one distribution per row.
    func log(_ data: [[TrajectoryStep]]) -> (TrajectoryLog, TrajectoryTarget) {
        var action: [Int32] = [], reward: [Double] = [], ps: [Double] = [], state: [Int32] = [], table: [Double] = [], offsets = [0]
        for traj in data {
            for (t, x) in traj.enumerated() {
                action.append(Int32(x.action)); reward.append(x.reward); ps.append(x.propensity); state.append(Int32(x.state))
                table.append(contentsOf: pi(x.state, t))
            }
            offsets.append(action.count)
        }
        let rows = LoggedBandit(actions: A, positions: 1, action: action, position: [Int32](repeating: 0, count: action.count), reward: reward,
                                pscore: ps, context: [], contextDimension: 0, source: "memory")
        var l = TrajectoryLog(rows: rows, offsets: offsets, ids: data.indices.map { "t\($0)" })
        l.state = state; l.states = S
        return (l, TrajectoryTarget(actions: A, table: table, byState: false, name: "pi"))
    }

    /// The bootstrap over whole trajectories gives intervals that cover: over 400 logged datasets
    /// of 200 trajectories, the 95% intervals of pdis and of dr (with the tabular FQE fitted on
    /// the same data, as `ope` does) contain the exact value between 90% and 99% of the time.
    func testTrajectoryBootstrapIntervalsCover() {
        let (_, J) = exact()
        let stream = RandomStream(seed: 99)
        var covered: [SequentialOPE.Estimator: Int] = [:]
        let reps = 400
        for r in 0..<reps {
            let (l, target) = log(dataset(200, stream))
            let f = Discounting.perStep(gamma)
            let q = TabularFQE.fit(l, target: target, nextFactor: f.nextFactors(l))
            var o = SequentialOPE.Options(seed: SeedTree(root: UInt64(r)))
            o.resamples = 200
            for e in SequentialOPE.run(l, target: target, q: q, discount: f.factors(l), options: o).estimates where e.ciLow <= J && J <= e.ciHigh {
                covered[e.estimator, default: 0] += 1
            }
        }
        for e in [SequentialOPE.Estimator.pdis, .dr, .tis, .snpdis] {
            let c = Double(covered[e, default: 0]) / Double(reps)
            if e == .pdis || e == .dr {
                XCTAssertGreaterThanOrEqual(c, 0.90, e.rawValue)
                XCTAssertLessThanOrEqual(c, 0.99, e.rawValue)
            }
            print("coverage \(e.rawValue): \(c)")
        }
    }

    /// MLP FQE (one hidden layer of 100 over the one-hot state and step / H, the target's own
    /// backup) fitted on 20,000 logged trajectories learns the closed-form Q: its value from the
    /// initial states is within 0.01 of J (J = 1.058; measured error 0.0003), and its Q on every logged
    /// row is within 0.1 of the exact Q_t(s, a) (measured 0.06). Cross-fitted dr with it stays near J too. Deterministic for a seed.
    func testMLPFQELearnsTheClosedFormQ() {
        let (qExact, J) = exact()
        let (l, target) = log(dataset(20_000, RandomStream(seed: 5)))
        let f = Discounting.perStep(gamma)
        var settings = MLPFQE.Settings()
        settings.steps = 6000
        let q = MLPFQE.fit(l, target: target, nextFactor: f.nextFactors(l), settings: settings, seed: SeedTree(root: 3))
        var worst = 0.0, v0 = 0.0
        for i in 0..<l.count {
            v0 += q.value[l.offsets[i]]
            for j in l.offsets[i]..<l.offsets[i + 1] {
                let t = j - l.offsets[i], exactQ = qExact[(t * S + Int(l.state[j])) * A + Int(l.rows.action[j])]
                worst = max(worst, abs(q.logged[j] - exactQ))
            }
        }
        print("MLP FQE: value \(v0 / Double(l.count)) against J \(J); largest Q error \(worst)")
        XCTAssertEqual(v0 / Double(l.count), J, accuracy: 0.01)
        XCTAssertLessThan(worst, 0.1, "largest |Q - exact Q| on a logged row")
        var o = SequentialOPE.Options(seed: SeedTree(root: 1))
        o.resamples = 50
        let dr = SequentialOPE.run(l, target: target, q: q, discount: f.factors(l), options: o).estimates.first { $0.estimator == .dr }!
        XCTAssertEqual(dr.value, J, accuracy: 0.03)
        let again = MLPFQE.fit(l, target: target, nextFactor: f.nextFactors(l), settings: settings, seed: SeedTree(root: 3))
        XCTAssertEqual(again.logged, q.logged)
        XCTAssertTrue(q.model.contains("one hidden layer of 100"), q.model)
    }
}
