import Foundation
import GymCore
import GymRandom

/// Whether a higher or a lower value of a metric is better.
public enum MetricDirection: String, Sendable {
    case higherIsBetter = "higher", lowerIsBetter = "lower"
}

/// A metric's definition and the blueprint's baseline and target (section 10).
public struct MetricInfo: Sendable {
    public let name: String
    public let title: String
    public let baseline: Double?
    public let target: Double?
    public let direction: MetricDirection
    public let definition: String
}

public enum MetricCatalog {
    public static let all: [MetricInfo] = [
        MetricInfo(name: "pairing_accuracy", title: "Pairing Accuracy", baseline: 0.65, target: 0.85, direction: .higherIsBetter,
                   definition: "share of suggested pairings whose true resonance is at or above the match threshold"),
        MetricInfo(name: "resonance_rmse", title: "Resonance Prediction RMSE", baseline: 0.25, target: 0.15, direction: .lowerIsBetter,
                   definition: "RMSE of the agent's predicted resonance against the realized resonance, accepted suggested pairs"),
        MetricInfo(name: "intervention_acceptance", title: "Intervention Acceptance", baseline: 0.40, target: 0.70, direction: .higherIsBetter,
                   definition: "accepted / delivered interventions"),
        MetricInfo(name: "retention_7d", title: "User Retention (7-day)", baseline: 0.55, target: 0.75, direction: .higherIsBetter,
                   definition: "share of users still active 7 simulated days after their first session (users whose first session is at least 7 days before the end)"),
        MetricInfo(name: "bias_parity", title: "Bias Parity", baseline: nil, target: 0.95, direction: .higherIsBetter,
                   definition: "min over groups / max over groups of the success-outcome rate (demographic parity ratio); alert below 0.9"),
        MetricInfo(name: "intervention_fpr", title: "Intervention False Positive Rate", baseline: nil, target: 0.05, direction: .lowerIsBetter,
                   definition: "interventions to non-distressed sessions / all non-distressed sessions"),
        MetricInfo(name: "trust_score", title: "User Trust Score", baseline: nil, target: 4.2, direction: .higherIsBetter,
                   definition: "mean 1-5 trust survey answer at the end of the run, users with at least one session"),
        MetricInfo(name: "opt_out_rate", title: "Opt-Out Rate", baseline: nil, target: 0.02, direction: .lowerIsBetter,
                   definition: "share of users with at least one session who opted out"),
        MetricInfo(name: "mean_reward", title: "Mean Reward", baseline: nil, target: nil, direction: .higherIsBetter,
                   definition: "mean episode reward (0.3 engagement + 0.4 resonance + 0.3 explicit feedback by default)"),
        MetricInfo(name: "transfer", title: "Transfer Learning", baseline: nil, target: 0.70, direction: .higherIsBetter,
                   definition: "mean reward on the target world of an agent trained on the source world and fine-tuned on the target (transfer.fine_tune_episodes), divided by that of an agent trained on the target alone for the same total"),
        MetricInfo(name: "adaptation_hours", title: "Adaptation Speed", baseline: nil, target: 24, direction: .lowerIsBetter,
                   definition: "simulated hours after a shift of the reward weights (rewards.shift_at_day) until the agent's windowed training reward is within 5% of its new plateau"),
        MetricInfo(name: "sample_efficiency", title: "Sample Efficiency", baseline: nil, target: 10_000, direction: .lowerIsBetter,
                   definition: "training episodes until the agent's windowed mean reward first reaches 80% of the target performance, the oracle's mean reward in the same training window"),
    ]
    public static let names: [String] = all.map { $0.name }
    public static func info(_ name: String) -> MetricInfo? { all.first { $0.name == name } }
}

/// One measured metric with its bootstrap interval.
public struct MetricValue: Sendable, Equatable {
    public var name: String
    public var value: Double
    public var ciLow: Double
    public var ciHigh: Double
    /// Number of units the metric is computed over (episodes, pairings, users, ...).
    public var count: Int
    public var note: String?
    public init(name: String, value: Double, ciLow: Double, ciHigh: Double, count: Int, note: String? = nil) {
        self.name = name; self.value = value; self.ciLow = ciLow; self.ciHigh = ciHigh; self.count = count; self.note = note
    }
    /// Whether the value meets the blueprint target (nil when there is no target or no value).
    public var meetsTarget: Bool? {
        guard let info = MetricCatalog.info(name), let t = info.target, value.isFinite else { return nil }
        return info.direction == .higherIsBetter ? value >= t : value <= t
    }
}

/// Percentile bootstrap interval of resampled statistics (NaN replicates are dropped).
public func percentileInterval(_ replicates: [Double], confidence: Double) -> (Double, Double) {
    let xs = replicates.filter { $0.isFinite }.sorted()
    guard !xs.isEmpty else { return (.nan, .nan) }
    let a = (1 - confidence) / 2
    return (Stats.quantile(sorted: xs, a), Stats.quantile(sorted: xs, 1 - a))
}

/// Computes every metric of DESIGN.md's table from a run's records, each with a seeded
/// percentile-bootstrap interval. Episode-level metrics resample episodes; user-level metrics
/// (retention, opt-out, trust) resample users. All replicates of one level share one set of
/// resampled indices, drawn from the caller's `eval.bootstrap` stream.
public struct Evaluator: Sendable {
    public let config: EvalConfig
    public let matchThreshold: Double
    public init(config: EvalConfig, matchThreshold: Double) {
        self.config = config
        self.matchThreshold = matchThreshold
    }

    struct EpisodeSums {
        var pairs = 0.0, pairsGood = 0.0
        var rmseN = 0.0, rmseSS = 0.0
        var delivered = 0.0, acceptedInt = 0.0
        var nonDistressed = 0.0, fp = 0.0
        var reward = 0.0, n = 0.0
        var groupN: [Double], groupSuccess: [Double]
        init(groups: Int) { groupN = [Double](repeating: 0, count: groups); groupSuccess = groupN }
        mutating func add(_ e: EpisodeRecord) {
            n += 1
            reward += e.reward
            if e.group < groupN.count {
                groupN[e.group] += 1
                if e.outcome == .success { groupSuccess[e.group] += 1 }
            }
            if !e.distressed {
                nonDistressed += 1
                if e.kind == .intervention { fp += 1 }
            }
            switch e.kind {
            case .suggestPairing:
                pairs += 1
                if e.trueResonance >= 0 && e.trueResonance >= matchThresholdStorage { pairsGood += 1 }
                if e.accepted && e.predictedResonance.isFinite && e.realizedResonance.isFinite {
                    let d = e.predictedResonance - e.realizedResonance
                    rmseN += 1; rmseSS += d * d
                }
            case .intervention:
                delivered += 1
                if e.accepted { acceptedInt += 1 }
            default: break
            }
        }
        var matchThresholdStorage = 0.5
        mutating func merge(_ o: EpisodeSums) {
            pairs += o.pairs; pairsGood += o.pairsGood; rmseN += o.rmseN; rmseSS += o.rmseSS
            delivered += o.delivered; acceptedInt += o.acceptedInt; nonDistressed += o.nonDistressed; fp += o.fp
            reward += o.reward; n += o.n
            for g in groupN.indices { groupN[g] += o.groupN[g]; groupSuccess[g] += o.groupSuccess[g] }
        }
        func ratio(_ a: Double, _ b: Double) -> Double { b > 0 ? a / b : .nan }
        var values: [String: Double] {
            var rates: [Double] = []
            for g in groupN.indices where groupN[g] > 0 { rates.append(groupSuccess[g] / groupN[g]) }
            let parity: Double
            if rates.count < 2 { parity = .nan } else {
                let mx = rates.max()!, mn = rates.min()!
                parity = mx > 0 ? mn / mx : .nan
            }
            return [
                "pairing_accuracy": ratio(pairsGood, pairs),
                "resonance_rmse": rmseN > 0 ? (rmseSS / rmseN).squareRoot() : .nan,
                "intervention_acceptance": ratio(acceptedInt, delivered),
                "intervention_fpr": ratio(fp, nonDistressed),
                "bias_parity": parity,
                "mean_reward": ratio(reward, n),
            ]
        }
        var counts: [String: Int] {
            ["pairing_accuracy": Int(pairs), "resonance_rmse": Int(rmseN), "intervention_acceptance": Int(delivered),
             "intervention_fpr": Int(nonDistressed), "bias_parity": Int(n), "mean_reward": Int(n)]
        }
    }

    struct UserSums {
        var eligible = 0.0, retained = 0.0, seen = 0.0, optedOut = 0.0, trust = 0.0
        mutating func add(_ u: UserOutcome, duration: Double, window: Double) {
            guard let first = u.firstSession else { return }
            seen += 1
            if u.optedOut { optedOut += 1 }
            trust += Double(u.trustSurvey)
            if first + window <= duration {
                eligible += 1
                if u.leftAt.map({ $0 > first + window }) ?? true { retained += 1 }
            }
        }
        mutating func merge(_ o: UserSums) {
            eligible += o.eligible; retained += o.retained; seen += o.seen; optedOut += o.optedOut; trust += o.trust
        }
        var values: [String: Double] {
            ["retention_7d": eligible > 0 ? retained / eligible : .nan,
             "opt_out_rate": seen > 0 ? optedOut / seen : .nan,
             "trust_score": seen > 0 ? trust / seen : .nan]
        }
        var counts: [String: Int] { ["retention_7d": Int(eligible), "opt_out_rate": Int(seen), "trust_score": Int(seen)] }
    }

    /// Every metric a run can produce except `sample_efficiency`.
    ///
    /// Intervals come from a cluster bootstrap over users: decisions of one user are correlated
    /// (fatigue, trust, boredom), so each replicate draws users with replacement and takes all of
    /// their decisions and their user-level outcomes. Replicates where a ratio is undefined (for
    /// example no intervention drawn) are left out of that metric's interval.
    public func evaluate(_ records: RunRecords, stream: RandomStream) -> [MetricValue] {
        let groups = max(records.groupNames.count, (records.episodes.map { $0.group }.max() ?? 0) + 1)
        let window = config.retentionDays * 86_400
        // Clusters: every user with a decision or a session, in user order.
        let maxUser = max(records.users.count - 1, records.episodes.map { $0.user }.max() ?? -1)
        var unitOf = [Int](repeating: -1, count: maxUser + 1)
        var hasUnit = [Bool](repeating: false, count: maxUser + 1)
        for e in records.episodes { hasUnit[e.user] = true }
        for (u, o) in records.users.enumerated() where o.firstSession != nil { hasUnit[u] = true }
        var units = 0
        for u in 0...max(0, maxUser) where u <= maxUser && hasUnit[u] { unitOf[u] = units; units += 1 }
        var perUnit = [EpisodeSums](repeating: EpisodeSums(groups: groups), count: units)
        var perUnitUser = [UserSums](repeating: UserSums(), count: units)
        for i in 0..<units { perUnit[i].matchThresholdStorage = matchThreshold }
        var full = EpisodeSums(groups: groups)
        full.matchThresholdStorage = matchThreshold
        for e in records.episodes {
            full.add(e)
            perUnit[unitOf[e.user]].add(e)
        }
        var fullU = UserSums()
        for (u, o) in records.users.enumerated() {
            fullU.add(o, duration: records.duration, window: window)
            if unitOf[u] >= 0 { perUnitUser[unitOf[u]].add(o, duration: records.duration, window: window) }
        }
        let B = config.bootstrapSamples
        var reps: [String: [Double]] = [:]
        if units > 0 {
            for _ in 0..<B {
                var s = EpisodeSums(groups: groups)
                s.matchThresholdStorage = matchThreshold
                var us = UserSums()
                for _ in 0..<units {
                    let k = stream.uniformInt(units)
                    s.merge(perUnit[k])
                    us.merge(perUnitUser[k])
                }
                for (k, v) in s.values { reps[k, default: []].append(v) }
                for (k, v) in us.values { reps[k, default: []].append(v) }
            }
        }
        let values = full.values.merging(fullU.values) { a, _ in a }
        let counts = full.counts.merging(fullU.counts) { a, _ in a }
        var out: [MetricValue] = []
        for name in MetricCatalog.names where !["sample_efficiency", "adaptation_hours", "transfer"].contains(name) {
            let v = values[name] ?? .nan
            let (lo, hi) = percentileInterval(reps[name] ?? [], confidence: config.confidence)
            var note: String? = nil
            if !v.isFinite {
                note = name == "bias_parity"
                    ? "not measurable: fewer than two groups with decisions, or no group has a success"
                    : "not measurable: no eligible units in this run"
            }
            out.append(MetricValue(name: name, value: v, ciLow: v.isFinite ? lo : .nan, ciHigh: v.isFinite ? hi : .nan,
                                   count: counts[name] ?? 0, note: note))
        }
        return out
    }

    /// `sample_efficiency`: the number of training episodes after which the agent's windowed mean
    /// reward first reaches `fraction` of the target's mean reward in the same window (the target
    /// is the oracle, trained on the same training-world seed; for a window whose target mean is
    /// not positive the agent must reach the target mean itself). A window ending at episode i
    /// counts as reaching it at i. The interval resamples the rewards within each window, for the
    /// agent and the target (percentile bootstrap; replicates that never reach it count as
    /// +infinity). Not reached: NaN with a note.
    public func sampleEfficiency(trainingRewards: [Double], targetRewards: [Double], window: Int, fraction: Double,
                                 stream: RandomStream) -> MetricValue {
        let w = max(1, window)
        let windows = min(trainingRewards.count, targetRewards.count) / w
        func reached(_ a: Double, _ t: Double) -> Bool { t > 0 ? a >= fraction * t : a >= t }
        func crossing(_ a: [Double], _ t: [Double]) -> Double {
            for i in 0..<windows where reached(a[i], t[i]) { return Double((i + 1) * w) }
            return .infinity
        }
        func means(_ xs: [Double]) -> [Double] {
            (0..<windows).map { i in Stats.mean(Array(xs[(i * w)..<((i + 1) * w)])) }
        }
        func resampled(_ xs: [Double]) -> [Double] {
            (0..<windows).map { i in
                var s = 0.0
                for _ in 0..<w { s += xs[i * w + stream.uniformInt(w)] }
                return s / Double(w)
            }
        }
        let value = crossing(means(trainingRewards), means(targetRewards))
        var reps: [Double] = []
        reps.reserveCapacity(config.bootstrapSamples)
        for _ in 0..<config.bootstrapSamples {
            reps.append(crossing(resampled(trainingRewards), resampled(targetRewards)))
        }
        let (lo, hi) = percentileIntervalAllowingInfinity(reps, confidence: config.confidence)
        let total = min(trainingRewards.count, targetRewards.count)
        let note = value.isFinite
            ? "reaches \(Int(fraction * 100))% of the oracle's mean reward in the same training window; window \(w)"
                + (hi.isInfinite ? "; the interval's upper end is 'not reached' (more than \(Int((1 - config.confidence) * 50))% of resamples never reach it)" : "")
            : "not reached within \(total) training episodes (\(Int(fraction * 100))% of the oracle's mean reward per window of \(w))"
        return MetricValue(name: "sample_efficiency", value: value.isFinite ? value : .nan,
                           ciLow: value.isFinite ? lo : .nan, ciHigh: value.isFinite ? hi : .nan, count: total, note: note)
    }
}

extension Evaluator {
    /// `transfer`: mean reward of `transferred` / mean reward of `targetOnly`, both evaluations of
    /// the same world. The interval resamples users within each evaluation independently
    /// (cluster bootstrap) and takes the percentile interval of the ratio.
    public func transferRatio(transferred a: RunRecords, targetOnly b: RunRecords, fineTune: Int, stream: RandomStream) -> MetricValue {
        func perUser(_ r: RunRecords) -> [(Double, Double)] {
            var sums: [Int: (Double, Double)] = [:]
            for e in r.episodes { let v = sums[e.user] ?? (0, 0); sums[e.user] = (v.0 + e.reward, v.1 + 1) }
            return sums.keys.sorted().map { sums[$0]! }
        }
        let ua = perUser(a), ub = perUser(b)
        func mean(_ u: [(Double, Double)]) -> Double {
            let s = u.reduce((0.0, 0.0)) { ($0.0 + $1.0, $0.1 + $1.1) }
            return s.1 > 0 ? s.0 / s.1 : .nan
        }
        func resample(_ u: [(Double, Double)]) -> Double {
            var s = 0.0, n = 0.0
            for _ in 0..<u.count { let x = u[stream.uniformInt(u.count)]; s += x.0; n += x.1 }
            return n > 0 ? s / n : .nan
        }
        let ma = mean(ua), mb = mean(ub)
        guard !ua.isEmpty, !ub.isEmpty, mb > 0 else {
            return MetricValue(name: "transfer", value: .nan, ciLow: .nan, ciHigh: .nan, count: a.episodes.count,
                               note: "not measurable: the target-only agent's mean reward (\(String(format: "%.4f", mb))) is not positive")
        }
        var reps: [Double] = []
        for _ in 0..<config.bootstrapSamples {
            let rb = resample(ub)
            let ra = resample(ua)
            reps.append(rb > 0 ? ra / rb : .nan)
        }
        let (lo, hi) = percentileInterval(reps, confidence: config.confidence)
        return MetricValue(name: "transfer", value: ma / mb, ciLow: lo, ciHigh: hi, count: a.episodes.count,
                           note: String(format: "source-trained + %d fine-tuning decisions: %.4f; target only: %.4f", fineTune, ma, mb))
    }

    /// `adaptation_hours`: after the reward weights shift at `shiftTime` (simulated seconds), the
    /// number of simulated hours until a window of `adaptationWindowHours` first has a mean reward
    /// within `adaptationTolerance` of the new plateau (mean reward of the last quarter of the
    /// post-shift decisions): mean >= plateau - tolerance |plateau|. The interval resamples the
    /// rewards within each window and within the plateau (percentile bootstrap; +infinity when a
    /// resample never recovers).
    public func adaptationHours(times: [Double], rewards: [Double], shiftTime: Double, stream: RandomStream) -> MetricValue {
        let w = config.adaptationWindowHours * 3600
        var post: [(Double, Double)] = []
        for (t, r) in zip(times, rewards) where t >= shiftTime { post.append((t, r)) }
        guard post.count >= 8 else {
            return MetricValue(name: "adaptation_hours", value: .nan, ciLow: .nan, ciHigh: .nan, count: post.count,
                               note: "not measurable: \(post.count) training decisions after the shift")
        }
        let plateauStart = post.count - post.count / 4
        let plateauRewards = post[plateauStart...].map { $0.1 }
        // Windows before the plateau segment.
        var windows: [[Double]] = []
        var ends: [Double] = []
        var i = 0
        while i < plateauStart {
            let end = shiftTime + Double(windows.count + 1) * w
            var win: [Double] = []
            while i < plateauStart && post[i].0 < end { win.append(post[i].1); i += 1 }
            windows.append(win); ends.append(end)
        }
        let tol = config.adaptationTolerance
        func recovery(_ means: [Double], _ plateau: Double) -> Double {
            for (k, m) in means.enumerated() where m.isFinite && m >= plateau - tol * abs(plateau) { return (ends[k] - shiftTime) / 3600 }
            return .infinity
        }
        let means = windows.map { $0.isEmpty ? Double.nan : $0.reduce(0, +) / Double($0.count) }
        let plateau = plateauRewards.reduce(0, +) / Double(plateauRewards.count)
        let value = recovery(means, plateau)
        var reps: [Double] = []
        for _ in 0..<config.bootstrapSamples {
            let m = windows.map { win -> Double in
                guard !win.isEmpty else { return .nan }
                var s = 0.0
                for _ in 0..<win.count { s += win[stream.uniformInt(win.count)] }
                return s / Double(win.count)
            }
            var ps = 0.0
            for _ in 0..<plateauRewards.count { ps += plateauRewards[stream.uniformInt(plateauRewards.count)] }
            reps.append(recovery(m, ps / Double(plateauRewards.count)))
        }
        let (lo, hi) = percentileIntervalAllowingInfinity(reps, confidence: config.confidence)
        let note = value.isFinite
            ? String(format: "weights shift at %.1f h; new plateau %.4f (last quarter of post-shift decisions); windows of %g h", shiftTime / 3600, plateau, config.adaptationWindowHours)
            : "did not recover to within \(Int(tol * 100))% of the new plateau before it (windows of \(config.adaptationWindowHours) h)"
        return MetricValue(name: "adaptation_hours", value: value.isFinite ? value : .nan, ciLow: value.isFinite ? lo : .nan,
                           ciHigh: value.isFinite ? hi : .nan, count: post.count, note: note)
    }
}

/// Percentile interval where replicates may be +infinity ("never happened"): order statistics,
/// so an end that falls on or next to an infinite replicate is infinite rather than NaN.
public func percentileIntervalAllowingInfinity(_ replicates: [Double], confidence: Double) -> (Double, Double) {
    let xs = replicates.filter { !$0.isNaN }.sorted()
    guard !xs.isEmpty else { return (.nan, .nan) }
    let a = (1 - confidence) / 2
    func q(_ p: Double) -> Double {
        let h = Double(xs.count - 1) * p
        let lo = Int(h.rounded(.down)), hi = min(lo + 1, xs.count - 1)
        let frac = h - Double(lo)
        if frac == 0 || xs[lo] == xs[hi] { return xs[lo] }
        if !xs[hi].isFinite || !xs[lo].isFinite { return .infinity }
        return xs[lo] + frac * (xs[hi] - xs[lo])
    }
    return (q(a), q(1 - a))
}

/// One point of a learning curve: a window of training decisions.
public struct CurvePoint: Sendable, Equatable {
    public var episodes: Int
    public var meanReward: Double
    public var ciLow: Double
    public var ciHigh: Double
    public var epsilon: Double?
    public var pairingAccuracy: Double
    /// PPO's statistics from its last update at or before this point (nil for other agents).
    public var approxKL: Double? = nil
    public var clipFraction: Double? = nil
    public var explainedVariance: Double? = nil
    public var policyLoss: Double? = nil
    public var valueLoss: Double? = nil
    public var entropy: Double? = nil
}

/// Learning curve from per-decision training rewards: window means with a normal-approximation
/// 95% band (mean +- 1.96 s / sqrt(n)).
public func learningCurve(rewards: [Double], pairingGood: [Bool?], epsilons: [Double]?, window: Int) -> [CurvePoint] {
    let w = max(1, window)
    var out: [CurvePoint] = []
    var i = 0
    while i + w <= rewards.count {
        var m = RunningMoments()
        var pairs = 0, good = 0
        for j in i..<(i + w) {
            m.add(rewards[j])
            if let g = pairingGood[j] { pairs += 1; if g { good += 1 } }
        }
        let half = w > 1 ? 1.959964 * m.standardDeviation / Double(w).squareRoot() : 0
        out.append(CurvePoint(episodes: i + w, meanReward: m.mean, ciLow: m.mean - half, ciHigh: m.mean + half,
                              epsilon: epsilons.map { $0[i + w - 1] },
                              pairingAccuracy: pairs > 0 ? Double(good) / Double(pairs) : .nan))
        i += w
    }
    return out
}
