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
        MetricInfo(name: "sample_efficiency", title: "Sample Efficiency", baseline: nil, target: 10_000, direction: .lowerIsBetter,
                   definition: "training episodes until the windowed mean reward first reaches 80% of the target performance (the oracle's evaluated mean reward)"),
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
        var values: [String: Double] {
            ["retention_7d": eligible > 0 ? retained / eligible : .nan,
             "opt_out_rate": seen > 0 ? optedOut / seen : .nan,
             "trust_score": seen > 0 ? trust / seen : .nan]
        }
        var counts: [String: Int] { ["retention_7d": Int(eligible), "opt_out_rate": Int(seen), "trust_score": Int(seen)] }
    }

    /// Every metric a run can produce except `sample_efficiency` (see `sampleEfficiency`).
    public func evaluate(_ records: RunRecords, stream: RandomStream) -> [MetricValue] {
        let groups = max(records.groupNames.count, (records.episodes.map { $0.group }.max() ?? 0) + 1)
        let window = config.retentionDays * 86_400
        var full = EpisodeSums(groups: groups)
        full.matchThresholdStorage = matchThreshold
        for e in records.episodes { full.add(e) }
        var fullU = UserSums()
        for u in records.users { fullU.add(u, duration: records.duration, window: window) }
        let B = config.bootstrapSamples
        var reps: [String: [Double]] = [:]
        let ne = records.episodes.count, nu = records.users.count
        for _ in 0..<B {
            var s = EpisodeSums(groups: groups)
            s.matchThresholdStorage = matchThreshold
            if ne > 0 { for _ in 0..<ne { s.add(records.episodes[stream.uniformInt(ne)]) } }
            for (k, v) in s.values { reps[k, default: []].append(v) }
            var us = UserSums()
            if nu > 0 { for _ in 0..<nu { us.add(records.users[stream.uniformInt(nu)], duration: records.duration, window: window) } }
            for (k, v) in us.values { reps[k, default: []].append(v) }
        }
        let values = full.values.merging(fullU.values) { a, _ in a }
        let counts = full.counts.merging(fullU.counts) { a, _ in a }
        var out: [MetricValue] = []
        for name in MetricCatalog.names where name != "sample_efficiency" {
            let v = values[name] ?? .nan
            let (lo, hi) = percentileInterval(reps[name] ?? [], confidence: config.confidence)
            var note: String? = nil
            if !v.isFinite { note = "not measurable: no \(name == "bias_parity" ? "second group" : "eligible units") in this run" }
            out.append(MetricValue(name: name, value: v, ciLow: v.isFinite ? lo : .nan, ciHigh: v.isFinite ? hi : .nan,
                                   count: counts[name] ?? 0, note: note))
        }
        return out
    }

    /// `sample_efficiency`: the number of training episodes after which the windowed mean reward
    /// first reaches `threshold` (a window ending at episode i counts as reaching it at i). The
    /// interval resamples the rewards within each window (percentile bootstrap). Not reached: NaN
    /// with a note.
    public func sampleEfficiency(trainingRewards: [Double], window: Int, threshold: Double, stream: RandomStream) -> MetricValue {
        let w = max(1, window)
        let windows = trainingRewards.count / w
        func crossing(_ means: [Double]) -> Double {
            for (i, m) in means.enumerated() where m >= threshold { return Double((i + 1) * w) }
            return .nan
        }
        var means: [Double] = []
        for i in 0..<windows { means.append(Stats.mean(Array(trainingRewards[(i * w)..<((i + 1) * w)]))) }
        let value = crossing(means)
        var reps: [Double] = []
        reps.reserveCapacity(config.bootstrapSamples)
        var notReached = 0
        for _ in 0..<config.bootstrapSamples {
            var m: [Double] = []
            m.reserveCapacity(windows)
            for i in 0..<windows {
                var s = 0.0
                for _ in 0..<w { s += trainingRewards[i * w + stream.uniformInt(w)] }
                m.append(s / Double(w))
            }
            let c = crossing(m)
            if c.isFinite { reps.append(c) } else { notReached += 1; reps.append(.infinity) }
        }
        reps.sort()
        let a = (1 - config.confidence) / 2
        let lo = reps.isEmpty ? .nan : Stats.quantile(sorted: reps, a)
        let hi = reps.isEmpty ? .nan : Stats.quantile(sorted: reps, 1 - a)
        let note = value.isFinite ? "threshold \(String(format: "%.4f", threshold)) (80% of target performance), window \(w)"
            : "not reached within \(trainingRewards.count) training episodes (threshold \(String(format: "%.4f", threshold)))"
        return MetricValue(name: "sample_efficiency", value: value, ciLow: value.isFinite ? lo : .nan,
                           ciHigh: value.isFinite ? hi : .nan, count: trainingRewards.count, note: note)
    }
}

/// One point of a learning curve: a window of training decisions.
public struct CurvePoint: Sendable, Equatable {
    public var episodes: Int
    public var meanReward: Double
    public var ciLow: Double
    public var ciHigh: Double
    public var epsilon: Double?
    public var pairingAccuracy: Double
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
