import Foundation
import GymData
import GymLinalg
import GymRandom

extension OPE {
    /// Every estimator on one log: the cross-fitted reward model, the per-row contributions, the
    /// estimates with seeded bootstrap intervals, and the importance weights' diagnostics.
    public static func runAll(log: LoggedBandit, policy: TargetPolicy, seed: UInt64, resamples: Int, threads: Int, folds: Int,
                              lambda: Double, kind: RewardModelKind = .logistic) -> (estimates: [OPEEstimate], diagnostics: WeightDiagnostics) {
        let root = SeedTree(root: seed)
        let model = RewardModel(log: log, folds: folds, kind: kind, seed: root)
        let rows = OPE.rows(log, policy, model: model)
        let est = OPE.estimate(rows, estimators: OPEEstimator.allCases, lambda: lambda, resamples: resamples, seed: root, threads: threads)
        return (est, WeightDiagnostics(weights: rows.w, unsupportedMass: OPE.unloggedMass(log, policy)))
    }
}

/// Delayed rewards: a log's estimates with only the reward signals that had arrived by each
/// cut-off. A signal counts at cut-off c when decision time + latency <= last decision + c;
/// signals not yet arrived are missing and contribute nothing.
public enum DelayedRewards {
    public static let signalTypes = ["engagement", "resonance", "explicit_feedback"]

    /// One row of the cut-off table.
    public struct Cutoff: Sendable {
        /// Seconds after the log's last decision (infinity: every signal).
        public var seconds: Double
        public var signalsArrived: Double
        public var loggedValue: Double
        public var estimates: [OPEEstimate]
    }

    /// The signal weights that make reward_score = sum over types of weight x (sum of the
    /// episode's values of that type), by least squares; an error when no fixed weights fit
    /// (largest residual above 1e-6).
    public static func solveWeights(_ signals: RewardSignals, log: LoggedBandit) throws -> [String: Double] {
        var columns: [[Double]] = []
        for k in signalTypes {
            var one: [String: Double] = [:]
            for t in signalTypes { one[t] = t == k ? 1 : 0 }
            columns.append(try signals.rewards(times: log.times, weights: one, cutoffs: []).all)
        }
        var g = [Double](repeating: 0, count: 9), b = [Double](repeating: 0, count: 3)
        for i in 0..<log.count {
            for j in 0..<3 {
                b[j] += columns[j][i] * log.reward[i]
                for k in 0..<3 { g[j * 3 + k] += columns[j][i] * columns[k][i] }
            }
        }
        for j in 0..<3 { g[j * 4] += 1e-12 }
        guard let w = Cholesky.solve(g, b, n: 3) else {
            throw DataError(file: signals.path, message: "cannot solve the signal weights from the log; give --signal-weights or --scenario")
        }
        let residual = (0..<log.count).map { i in abs(log.reward[i] - (0..<3).reduce(0) { $0 + w[$1] * columns[$1][i] }) }.max() ?? 0
        guard residual <= 1e-6 else {
            throw DataError(file: signals.path, message: String(format: "reward_score is not a fixed weighted sum of the signals (best fit leaves %.3g); give --signal-weights or --scenario", residual))
        }
        var out: [String: Double] = [:]
        for (k, x) in zip(signalTypes, w) { out[k] = (x * 1e9).rounded() / 1e9 }
        return out
    }

    /// The estimates at each cut-off (seconds after the last decision), then with every signal.
    /// Also returns the largest gap between the rewards with every signal and reward_score.
    public static func estimates(log: LoggedBandit, signals: RewardSignals, weights: [String: Double], cutoffs: [Double],
                                 policy: TargetPolicy, seed: UInt64, resamples: Int, threads: Int, folds: Int, lambda: Double,
                                 kind: RewardModelKind?) throws -> (rows: [Cutoff], mismatch: Double) {
        guard log.times.count == log.count, let last = log.times.max() else {
            throw DataError(file: log.source, column: "timestamp", message: "the log has no timestamps; cut-offs need them")
        }
        let (rewards, arrived, full) = try signals.rewards(times: log.times, weights: weights, cutoffs: cutoffs.map { last + $0 })
        let mismatch = zip(full, log.reward).map { abs($0 - $1) }.max() ?? 0
        var variants = zip(cutoffs, zip(rewards, arrived)).map { ($0.0, $0.1.0, $0.1.1) }
        variants.append((.infinity, full, 1))
        var out: [Cutoff] = []
        for (c, r, share) in variants {
            var l2 = log
            l2.reward = r
            let (e, _) = OPE.runAll(log: l2, policy: policy, seed: seed, resamples: resamples, threads: threads, folds: folds,
                                    lambda: lambda, kind: kind ?? RewardModelKind.automatic(for: l2))
            out.append(Cutoff(seconds: c, signalsArrived: share, loggedValue: l2.meanReward, estimates: e))
        }
        return (out, mismatch)
    }
}
