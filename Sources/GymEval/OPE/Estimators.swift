import Foundation
import GymData
import GymLinalg
import GymRandom

// Off-policy estimators of a target policy's value from logged bandit feedback, as defined in the
// Open Bandit Pipeline (Saito et al. 2021) so that figures compare. Notation: n logged rows i with
// context x_i, position p_i, action a_i, reward r_i and logging propensity pi_b(a_i | x_i, p_i);
// target pi_e; importance weight w_i = pi_e(a_i | x_i, p_i) / pi_b(a_i | x_i, p_i); reward model
// q(x, a, p) fitted by cross-fitting; dm_i = sum_a pi_e(a | x_i, p_i) q(x_i, a, p_i).
//
// - DM (direct method; Beygelzimer and Langford 2009):      V = 1/n sum_i dm_i
// - IPS (inverse propensity scoring; Precup et al. 2000):  V = 1/n sum_i w_i r_i
// - SNIPS (self-normalised IPS; Swaminathan and Joachims 2015): V = sum_i w_i r_i / sum_i w_i
// - DR (doubly robust; Dudik, Langford and Li 2011):        V = 1/n sum_i [dm_i + w_i (r_i - q(x_i, a_i, p_i))]
// - SNDR (self-normalised DR):                            V = 1/n sum_i dm_i + sum_i w_i (r_i - q_i) / sum_i w_i
// - Switch-DR (Wang, Agarwal and Dudik 2017):              V = 1/n sum_i [dm_i + w_i (r_i - q_i) 1{w_i <= lambda}]
//
// Every estimate comes with a percentile bootstrap interval: rows resampled with replacement from
// a seeded stream, all estimators computed on the same resamples.

public enum OPEEstimator: String, CaseIterable, Sendable {
    case dm, ips, snips, dr, sndr, switchDR = "switch_dr"

    public var title: String {
        switch self {
        case .dm: return "DM"
        case .ips: return "IPS"
        case .snips: return "SNIPS"
        case .dr: return "DR"
        case .sndr: return "SNDR"
        case .switchDR: return "Switch-DR"
        }
    }
    public var needsRewardModel: Bool { self == .dm || self == .dr || self == .sndr || self == .switchDR }
}

/// The per-row quantities every estimator is built from.
public struct OPERows: Sendable {
    public var w: [Double]
    public var r: [Double]
    /// dm_i and q(x_i, a_i, p_i); empty without a reward model.
    public var dm: [Double]
    public var q: [Double]

    public init(w: [Double], r: [Double], dm: [Double], q: [Double]) {
        precondition(w.count == r.count && (dm.isEmpty || (dm.count == w.count && q.count == w.count)))
        self.w = w; self.r = r; self.dm = dm; self.q = q
    }

    /// Weights of the target at the logged actions (no reward model).
    public static func weights(_ log: LoggedBandit, _ policy: TargetPolicy) -> [Double] {
        (0..<log.count).map { i in policy.probability(row: i, action: Int(log.action[i]), position: Int(log.position[i])) / log.pscore[i] }
    }
}

/// Sums over a set of rows from which every estimator follows.
struct OPESums {
    var n = 0.0, wr = 0.0, w = 0.0, dm = 0.0, wres = 0.0, wresSwitch = 0.0

    @inline(__always) mutating func add(_ rows: OPERows, _ i: Int, lambda: Double, times k: Double = 1) {
        let wi = rows.w[i], ri = rows.r[i]
        n += k; wr += k * wi * ri; w += k * wi
        if !rows.dm.isEmpty {
            let res = wi * (ri - rows.q[i])
            dm += k * rows.dm[i]; wres += k * res
            if wi <= lambda { wresSwitch += k * res }
        }
    }

    func value(_ e: OPEEstimator) -> Double {
        switch e {
        case .ips: return wr / n
        case .snips: return w > 0 ? wr / w : .nan
        case .dm: return dm / n
        case .dr: return (dm + wres) / n
        case .sndr: return w > 0 ? dm / n + wres / w : .nan
        case .switchDR: return (dm + wresSwitch) / n
        }
    }
}

public struct OPEEstimate: Sendable {
    public var estimator: OPEEstimator
    public var value: Double
    public var ciLow: Double
    public var ciHigh: Double
}

/// Importance-weight diagnostics.
public struct WeightDiagnostics: Sendable {
    /// (sum w)^2 / sum w^2: the number of rows the weighted sample is worth.
    public var effectiveSampleSize: Double
    public var maxWeight: Double
    public var meanWeight: Double
    /// The share of the target's probability mass on actions the logging policy never takes
    /// (zero propensity), averaged over rows; estimated on the rows' positions. nil when the
    /// logging propensities of unlogged actions are unknown.
    public var unsupportedMass: Double?

    public init(weights w: [Double], unsupportedMass: Double? = nil) {
        let s = w.reduce(0, +), s2 = w.reduce(0) { $0 + $1 * $1 }
        effectiveSampleSize = s2 > 0 ? s * s / s2 : 0
        maxWeight = w.max() ?? 0
        meanWeight = w.isEmpty ? 0 : s / Double(w.count)
        self.unsupportedMass = unsupportedMass
    }
}

public enum OPE {
    /// Cumulative Poisson(1) probabilities P(K <= k), k = 0..15, scaled to 2^32: a 32-bit uniform
    /// u gives K = the number of thresholds <= u.
    static let poissonOne: [UInt32] = {
        var out: [UInt32] = []
        var p = exp(-1.0), c = 0.0
        for k in 0..<16 {
            c += p
            p /= Double(k + 1)
            out.append(UInt32(min(4_294_967_295, (c * 4_294_967_296).rounded(.down))))
        }
        return out
    }()

    /// Estimates with percentile bootstrap intervals: `resamples` Poisson bootstrap resamples
    /// (each row enters a resample K ~ Poisson(1) times, independently; Hanley and MacGibbon 2006,
    /// Chamandy et al. 2012), which visits the rows in order instead of drawing n random indices:
    /// on a million rows that is memory-friendly and many times faster, with the same large-sample
    /// intervals. Resample b always uses stream `ope.bootstrap/b`, so the result does not depend on
    /// the thread count.
    public static func estimate(_ rows: OPERows, estimators: [OPEEstimator], lambda: Double = .infinity, resamples: Int = 1000,
                                confidence: Double = 0.95, seed: SeedTree, threads: Int = 1) -> [OPEEstimate] {
        let n = rows.w.count
        var full = OPESums()
        for i in 0..<n { full.add(rows, i, lambda: lambda) }
        let E = estimators.count
        var boot = [Double](repeating: .nan, count: resamples * E)
        let hasModel = !rows.dm.isEmpty
        // Raw pointers for the hot loop: no reference counting per row.
        rows.w.withUnsafeBufferPointer { wp in rows.r.withUnsafeBufferPointer { rp in
        rows.dm.withUnsafeBufferPointer { dp in rows.q.withUnsafeBufferPointer { qp in
        boot.withUnsafeMutableBufferPointer { out in
            let w = wp.baseAddress!, r = rp.baseAddress!
            let dmb = dp.baseAddress, qb = qp.baseAddress
            let T = max(1, min(threads, resamples))
            let thresholds = OPE.poissonOne
            let c0 = thresholds[0], c1 = thresholds[1], c2 = thresholds[2], c3 = thresholds[3], c4 = thresholds[4], c5 = thresholds[5]
            DispatchQueue.concurrentPerform(iterations: T) { t in
                var b = resamples * t / T
                let end = resamples * (t + 1) / T
                while b < end {
                    let s = seed.child("ope.bootstrap", b).stream(.taus2)
                    var sums = OPESums()
                    var sn = 0.0, swr = 0.0, sw = 0.0, sdm = 0.0, sres = 0.0, sresS = 0.0
                    for i in 0..<n {
                        // Row i enters the resample k ~ Poisson(1) times.
                        let u = UInt32(truncatingIfNeeded: s.next())
                        // Branch-free for K <= 6 (probability 0.99992); the rest in a rare branch.
                        var k = (u >= c0 ? 1 : 0) &+ (u >= c1 ? 1 : 0) &+ (u >= c2 ? 1 : 0) &+ (u >= c3 ? 1 : 0) &+ (u >= c4 ? 1 : 0) &+ (u >= c5 ? 1 : 0)
                        if k == 6 { while k < thresholds.count && u >= thresholds[k] { k += 1 } }
                        let c = Double(k)
                        let wi = w[i], ri = r[i]
                        sn += c; swr += c * wi * ri; sw += c * wi
                        if hasModel {
                            let res = wi * (ri - qb![i])
                            sdm += c * dmb![i]; sres += c * res
                            if wi <= lambda { sresS += c * res }
                        }
                    }
                    sums.n = sn; sums.wr = swr; sums.w = sw; sums.dm = sdm; sums.wres = sres; sums.wresSwitch = sresS
                    for (k, e) in estimators.enumerated() { out[b * E + k] = sums.value(e) }
                    b += 1
                }
            }
        } } } } }
        let alpha = (1 - confidence) / 2
        return estimators.enumerated().map { k, e in
            let v = (0..<resamples).map { boot[$0 * E + k] }.filter { $0.isFinite }.sorted()
            return OPEEstimate(estimator: e, value: full.value(e), ciLow: SequentialOPE.percentile(v, alpha), ciHigh: SequentialOPE.percentile(v, 1 - alpha))
        }
    }

    /// The candidate's mean probability mass on actions that never appear in the log at the row's
    /// position: the empirical stand-in for "mass on actions with zero logging propensity" when
    /// the logging policy's full distribution is not logged.
    public static func unloggedMass(_ log: LoggedBandit, _ policy: TargetPolicy) -> Double {
        let A = log.actions, P = log.positions
        guard log.count > 0 else { return 0 }
        var seen = [Bool](repeating: false, count: A * P)
        for i in 0..<log.count { seen[Int(log.action[i]) * P + Int(log.position[i])] = true }
        var total = 0.0
        if policy.dependsOnContext {
            for i in 0..<log.count {
                let p = Int(log.position[i])
                for a in 0..<A where !seen[a * P + p] { total += policy.probability(row: i, action: a, position: p) }
            }
        } else {
            var rowsAt = [Int](repeating: 0, count: P)
            for i in 0..<log.count { rowsAt[Int(log.position[i])] += 1 }
            for p in 0..<P {
                var m = 0.0
                for a in 0..<A where !seen[a * P + p] { m += policy.probability(row: 0, action: a, position: p) }
                total += m * Double(rowsAt[p])
            }
        }
        return total / Double(log.count)
    }

    /// Per-row quantities: weights, and with `model` the DM terms and factual predictions.
    public static func rows(_ log: LoggedBandit, _ policy: TargetPolicy, model: RewardModel?) -> OPERows {
        let n = log.count
        let w = OPERows.weights(log, policy)
        guard let model else { return OPERows(w: w, r: log.reward, dm: [], q: []) }
        var dm = [Double](repeating: 0, count: n), q = dm
        for i in 0..<n {
            let p = Int(log.position[i])
            var s = 0.0
            for a in 0..<log.actions {
                let pa = policy.probability(row: i, action: a, position: p)
                if pa > 0 { s += pa * model.predict(row: i, action: a, position: p, log: log) }
            }
            dm[i] = s
            q[i] = model.predict(row: i, action: Int(log.action[i]), position: p, log: log)
        }
        return OPERows(w: w, r: log.reward, dm: dm, q: q)
    }
}

/// The family of the reward model.
public enum RewardModelKind: String, Sendable, CaseIterable {
    /// Logistic regression on [context, action features or one-hot action], one per position
    /// (binary rewards such as clicks; OBP's choice for the Open Bandit Dataset).
    case logistic
    /// Ridge regression of the reward on [context, 1], one per action and position (continuous
    /// rewards such as the simulator's reward_score; the epsilon-greedy agent's model family).
    case ridge

    /// logistic when every reward is 0 or 1, ridge otherwise.
    public static func automatic(for log: LoggedBandit) -> RewardModelKind {
        log.reward.allSatisfy { $0 == 0 || $0 == 1 } ? .logistic : .ridge
    }
}

/// A reward model q(x, a, p), cross-fitted: the rows are split into k folds and each row is
/// predicted by the model fitted on the other folds (Chernozhukov et al. 2018); the folds are
/// scikit-learn's shuffled KFold with the root seed as random_state.
/// - logistic: a logistic regression of the reward on [context, action features] (one-hot action
///   when the log has no action features), one model per position, L2 penalty 1/(2C) on the
///   weights (not the intercept), fitted by Newton's method. As OBP's RegressionModel with
///   scikit-learn's LogisticRegression(C) as base model.
/// - ridge: per action and position, least squares on [context, 1] with penalty `ridgeLambda` on
///   the context weights.
public struct RewardModel: Sendable {
    /// weights[fold][model]: logistic: model = position, dimension + 1 values (the last is the
    /// intercept); ridge: model = position * actions + action, contextDimension + 1 values.
    let weights: [[[Double]]]
    let fold: [Int32]
    public let dimension: Int
    let oneHotActions: Bool
    public let kind: RewardModelKind

    public init(log: LoggedBandit, folds: Int = 3, c: Double = 100, kind: RewardModelKind = .logistic, ridgeLambda: Double = 1,
                seed: SeedTree) {
        let n = log.count
        self.kind = kind
        oneHotActions = log.actionContextDimension == 0
        let da = oneHotActions ? log.actions : log.actionContextDimension
        dimension = kind == .logistic ? log.contextDimension + da : log.contextDimension
        // Fold assignment: scikit-learn's KFold(n_splits: folds, shuffle: true, random_state: seed)
        // as OBP's RegressionModel.fit_predict calls it, so that cross-fitted predictions compare
        // row for row: the indices are shuffled by numpy's legacy RandomState(seed) and cut into
        // consecutive folds, the first n % k one row longer.
        let K = max(1, folds)
        let perm = NumpyLegacy.permutation(n, seed: UInt32(truncatingIfNeeded: seed.root))
        var f = [Int32](repeating: 0, count: n)
        var start = 0
        for k in 0..<K {
            let size = n / K + (k < n % K ? 1 : 0)
            for j in start..<(start + size) { f[perm[j]] = Int32(k) }
            start += size
        }
        fold = f
        var all: [[[Double]]] = []
        for held in 0..<K {
            let train = (0..<n).filter { K == 1 || Int(f[$0]) != held }
            switch kind {
            case .logistic:
                var perPosition: [[Double]] = []
                for p in 0..<log.positions {
                    let rows = train.filter { Int(log.position[$0]) == p }
                    perPosition.append(RewardModel.fitLogistic(log: log, rows: rows, dimension: dimension, oneHot: oneHotActions, c: c))
                }
                all.append(perPosition)
            case .ridge:
                all.append(RewardModel.fitRidge(log: log, rows: train, lambda: ridgeLambda))
            }
        }
        weights = all
    }

    /// Ridge per (position, action) on [context, 1]: one pass accumulates every model's Gram
    /// matrix; a (position, action) without rows predicts the fold's mean reward.
    static func fitRidge(log: LoggedBandit, rows: [Int], lambda: Double) -> [[Double]] {
        let d = log.contextDimension, D = d + 1, M = log.positions * log.actions
        var gram = [[Double]](repeating: [], count: M), rhs = gram
        var count = [Int](repeating: 0, count: M)
        var x = [Double](repeating: 1, count: D)
        var mean = 0.0
        for i in rows {
            let m = Int(log.position[i]) * log.actions + Int(log.action[i])
            if gram[m].isEmpty { gram[m] = [Double](repeating: 0, count: D * D); rhs[m] = [Double](repeating: 0, count: D) }
            for j in 0..<d { x[j] = log.context[i * d + j] }
            let y = log.reward[i]
            mean += y
            gram[m].withUnsafeMutableBufferPointer { g in
                for j in 0..<D where x[j] != 0 {
                    let xj = x[j]
                    for k in j..<D { g[j * D + k] += xj * x[k] }
                }
            }
            for j in 0..<D { rhs[m][j] += x[j] * y }
            count[m] += 1
        }
        mean = rows.isEmpty ? 0 : mean / Double(rows.count)
        var out: [[Double]] = []
        for m in 0..<M {
            var beta = [Double](repeating: 0, count: D)
            beta[d] = mean
            if count[m] > 0 {
                var g = gram[m]
                for j in 0..<D { for k in 0..<j { g[j * D + k] = g[k * D + j] } }
                for j in 0..<d { g[j * D + j] += lambda }
                g[d * D + d] += 1e-9
                if let w = Cholesky.solve(g, rhs[m], n: D) { beta = w }
            }
            out.append(beta)
        }
        return out
    }

    @inline(__always)
    static func features(_ log: LoggedBandit, row i: Int, action a: Int, oneHot: Bool, into x: inout [Double]) {
        let dx = log.contextDimension
        for j in 0..<dx { x[j] = log.context[i * dx + j] }
        if oneHot {
            for j in 0..<log.actions { x[dx + j] = j == a ? 1 : 0 }
        } else {
            let da = log.actionContextDimension
            for j in 0..<da { x[dx + j] = log.actionContext[a * da + j] }
        }
    }

    /// Newton's method with backtracking on the penalised log-loss; at most 50 steps.
    static func fitLogistic(log: LoggedBandit, rows: [Int], dimension d: Int, oneHot: Bool, c: Double) -> [Double] {
        let D = d + 1
        var beta = [Double](repeating: 0, count: D)
        guard !rows.isEmpty else { return beta }
        // Start the intercept at the log-odds of the mean reward.
        let mean = rows.reduce(0.0) { $0 + log.reward[$1] } / Double(rows.count)
        let m = min(1 - 1e-6, max(1e-6, mean))
        beta[d] = Foundation.log(m / (1 - m))
        var x = [Double](repeating: 0, count: D)
        x[d] = 1
        let lambda = 1 / c
        // The penalised negative log-likelihood.
        func objective(_ b: [Double]) -> Double {
            var f = 0.0
            for i in rows {
                features(log, row: i, action: Int(log.action[i]), oneHot: oneHot, into: &x)
                var z = 0.0
                for j in 0..<D { z += b[j] * x[j] }
                // log(1 + e^z) - y z, stably.
                f += (z > 0 ? z + Foundation.log1p(exp(-z)) : Foundation.log1p(exp(z))) - log.reward[i] * z
            }
            for j in 0..<d { f += 0.5 * lambda * b[j] * b[j] }
            return f
        }
        for _ in 0..<50 {
            var g = [Double](repeating: 0, count: D), h = [Double](repeating: 0, count: D * D)
            for i in rows {
                features(log, row: i, action: Int(log.action[i]), oneHot: oneHot, into: &x)
                var z = 0.0
                for j in 0..<D { z += beta[j] * x[j] }
                let p = 1 / (1 + exp(-z))
                let e = p - log.reward[i], v = p * (1 - p)
                for j in 0..<D where x[j] != 0 {
                    g[j] += e * x[j]
                    let vx = v * x[j]
                    for k in 0..<D where x[k] != 0 { h[j * D + k] += vx * x[k] }
                }
            }
            for j in 0..<d { g[j] += lambda * beta[j]; h[j * D + j] += lambda }
            h[d * D + d] += 1e-9
            guard let step = Cholesky.solve(h, g, n: D) else { break }
            // Backtracking: a full Newton step can overshoot on nearly separable folds (it
            // diverged on two of the nine OBD bts/all fold fits); halve it until the objective
            // does not increase.
            let f0 = objective(beta)
            var t = 1.0
            var trial = beta
            while true {
                for j in 0..<D { trial[j] = beta[j] - t * step[j] }
                if objective(trial) <= f0 || t < 1e-10 { break }
                t *= 0.5
            }
            var size = 0.0
            for j in 0..<D { size = max(size, abs(trial[j] - beta[j])) }
            beta = trial
            if size < 1e-8 { break }
        }
        return beta
    }

    /// q(x_row, action, position) by the model that did not see the row.
    public func predict(row i: Int, action a: Int, position p: Int, log: LoggedBandit) -> Double {
        let fw = weights[weights.count == 1 ? 0 : Int(fold[i])]
        let dx = log.contextDimension
        if kind == .ridge {
            let beta = fw[p * log.actions + a]
            var z = beta[dx]
            for j in 0..<dx { z += beta[j] * log.context[i * dx + j] }
            return z
        }
        let beta = fw[p]
        let d = dimension
        var z = beta[d]
        for j in 0..<dx { z += beta[j] * log.context[i * dx + j] }
        if oneHotActions { z += beta[dx + a] } else {
            let da = log.actionContextDimension
            for j in 0..<da { z += beta[dx + j] * log.actionContext[a * da + j] }
        }
        return 1 / (1 + exp(-z))
    }
}

/// numpy's legacy `RandomState(seed)` and its `shuffle`: MT19937 (Matsumoto and Nishimura 1998)
/// seeded by `init_genrand(seed)`, then Fisher-Yates from the last index down, each index drawn by
/// `random_interval` (mask to the next power of two, reject above the bound). Facts from numpy's
/// documentation and the algorithms' published descriptions (`_legacy_seeding`, `_shuffle_raw`,
/// `random_interval`). GSL's mt19937 shares the seeding except that it maps seed 0 to 4357, so
/// this carries its own generator.
public enum NumpyLegacy {
    struct MT19937 {
        var mt = [UInt32](repeating: 0, count: 624)
        var index = 624
        init(seed: UInt32) {
            mt[0] = seed
            for i in 1..<624 { mt[i] = 1_812_433_253 &* (mt[i - 1] ^ (mt[i - 1] >> 30)) &+ UInt32(i) }
        }
        mutating func next() -> UInt32 {
            if index >= 624 {
                for i in 0..<624 {
                    let y = (mt[i] & 0x8000_0000) | (mt[(i + 1) % 624] & 0x7fff_ffff)
                    mt[i] = mt[(i + 397) % 624] ^ (y >> 1) ^ ((y & 1) != 0 ? 0x9908_b0df : 0)
                }
                index = 0
            }
            var y = mt[index]
            index += 1
            y ^= y >> 11
            y ^= (y << 7) & 0x9d2c_5680
            y ^= (y << 15) & 0xefc6_0000
            y ^= y >> 18
            return y
        }
    }

    /// `np.random.RandomState(seed).permutation(n)` for n < 2^32.
    public static func permutation(_ n: Int, seed: UInt32) -> [Int] {
        var x = Array(0..<n)
        guard n > 1 else { return x }
        var g = MT19937(seed: seed)
        for i in stride(from: n - 1, to: 0, by: -1) {
            let bound = UInt32(i)
            var mask = bound
            mask |= mask >> 1; mask |= mask >> 2; mask |= mask >> 4; mask |= mask >> 8; mask |= mask >> 16
            var v: UInt32
            repeat { v = g.next() & mask } while v > bound
            x.swapAt(i, Int(v))
        }
        return x
    }
}
