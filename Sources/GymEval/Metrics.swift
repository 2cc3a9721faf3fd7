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
    /// The values the metric can take (sweep intervals are clipped to it).
    public let range: ClosedRange<Double>
    public init(name: String, title: String, baseline: Double?, target: Double?, direction: MetricDirection, definition: String,
                range: ClosedRange<Double>) {
        self.name = name; self.title = title; self.baseline = baseline; self.target = target; self.direction = direction
        self.definition = definition; self.range = range
    }
}

public enum MetricCatalog {
    public static let all: [MetricInfo] = [
        MetricInfo(name: "pairing_accuracy", title: "Pairing Accuracy", baseline: 0.65, target: 0.85, direction: .higherIsBetter,
                   definition: "share of suggested pairings whose true resonance is at or above the match threshold", range: 0...1),
        MetricInfo(name: "resonance_rmse", title: "Resonance Prediction RMSE", baseline: 0.25, target: 0.15, direction: .lowerIsBetter,
                   definition: "RMSE of the agent's predicted resonance against the realized resonance, accepted suggested pairs", range: 0...Double.infinity),
        MetricInfo(name: "intervention_acceptance", title: "Intervention Acceptance", baseline: 0.40, target: 0.70, direction: .higherIsBetter,
                   definition: "accepted / delivered interventions", range: 0...1),
        MetricInfo(name: "retention_7d", title: "User Retention (7-day)", baseline: 0.55, target: 0.75, direction: .higherIsBetter,
                   definition: "share of users with a session at least one day and at most 7 days after their first session (users whose 7-day window runs past the end of the evaluation are excluded, and counted in the note)", range: 0...1),
        MetricInfo(name: "bias_parity", title: "Bias Parity", baseline: nil, target: 0.95, direction: .higherIsBetter,
                   definition: "min over groups / max over groups of the success-outcome rate (demographic parity ratio); alert below 0.9", range: 0...1),
        MetricInfo(name: "intervention_fpr", title: "Intervention False Positive Rate", baseline: nil, target: 0.05, direction: .lowerIsBetter,
                   definition: "interventions to non-distressed sessions / all non-distressed sessions", range: 0...1),
        MetricInfo(name: "trust_score", title: "User Trust Score", baseline: nil, target: 4.2, direction: .higherIsBetter,
                   definition: "mean 1-5 trust survey answer at the end of the run, users with at least one session", range: 1...5),
        MetricInfo(name: "opt_out_rate", title: "Opt-Out Rate", baseline: nil, target: 0.02, direction: .lowerIsBetter,
                   definition: "share of users with at least one session who opted out", range: 0...1),
        MetricInfo(name: "mean_reward", title: "Mean Reward", baseline: nil, target: nil, direction: .higherIsBetter,
                   definition: "mean episode reward (0.3 engagement + 0.4 resonance + 0.3 explicit feedback by default)", range: -1...1),
        MetricInfo(name: "user_return", title: "User Return", baseline: nil, target: nil, direction: .higherIsBetter,
                   definition: "discounted return of a user's journey in the evaluation: the sum over the user's decisions of gamma^(days since the user's first decision) times the decision's reward with each signal discounted by its latency (gamma = discount.per_day), plus the churn or opt-out penalty discounted to the time of leaving; mean over users", range: -Double.infinity...Double.infinity),
        MetricInfo(name: "retention_30d", title: "User Retention (30-day)", baseline: nil, target: nil, direction: .higherIsBetter,
                   definition: "share of users still coming back 30 days on: a session 30 or more days after their first (unbounded, or rolling, retention; users whose first session is less than 30 days before the end of the evaluation are excluded, and counted in the note)", range: 0...1),
        MetricInfo(name: "churn_rate", title: "Churn Rate", baseline: nil, target: nil, direction: .lowerIsBetter,
                   definition: "share of users with at least one session who churned (left without opting out) during the evaluation", range: 0...1),
        MetricInfo(name: "active_days", title: "Active Days", baseline: nil, target: nil, direction: .higherIsBetter,
                   definition: "simulated days between a user's first and last session in the evaluation, mean over users", range: 0...Double.infinity),
        MetricInfo(name: "transfer", title: "Transfer Learning", baseline: nil, target: 0.70, direction: .higherIsBetter,
                   definition: "mean reward on the target world of an agent trained on the source world and fine-tuned on the target (transfer.fine_tune_episodes), divided by that of an agent trained on the target alone for the same total", range: -Double.infinity...Double.infinity),
        MetricInfo(name: "adaptation_hours", title: "Adaptation Speed", baseline: nil, target: 24, direction: .lowerIsBetter,
                   definition: "simulated hours after a shift of the reward weights (rewards.shift_at_day) until the agent's windowed training reward is within 5% of its new plateau", range: 0...Double.infinity),
        MetricInfo(name: "sample_efficiency", title: "Sample Efficiency", baseline: nil, target: 10_000, direction: .lowerIsBetter,
                   definition: "training episodes until the agent's windowed mean reward first reaches 80% of the target performance, the oracle's mean reward in the same training window", range: 0...Double.infinity),
    ]
    public static let names: [String] = all.map { $0.name }
    public static func info(_ name: String) -> MetricInfo? { all.first { $0.name == name } }

    /// Metrics measured on the training phase or by extra runs, not on the evaluation records.
    public static let runLevel: Set<String> = ["transfer", "adaptation_hours", "sample_efficiency"]

    /// `metrics` in catalog order, one per catalog metric; a metric that is absent gets a NaN value
    /// with `missing(name)` as its note. Every report, CSV and gate sees the same order.
    public static func ordered(_ metrics: [MetricValue], missing: (String) -> String) -> [MetricValue] {
        names.map { n in
            metrics.first { $0.name == n } ?? MetricValue(name: n, value: .nan, ciLow: .nan, ciHigh: .nan, count: 0, note: missing(n))
        }
    }
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

    /// One user's journey in an evaluation, as the user-level metrics see it.
    struct Journey {
        /// A session at least a day and at most 7 (`retentionDays`) days after the first; a session
        /// 30 or more days after the first.
        var returned7 = false, returned30 = false
        /// The discounted return of the journey, from its first decision.
        var discountedReturn = 0.0
        var hasDecision = false
    }

    struct UserSums {
        var eligible = 0.0, retained = 0.0, seen = 0.0, optedOut = 0.0, trust = 0.0
        var eligible30 = 0.0, retained30 = 0.0, churned = 0.0, activeDays = 0.0, returns = 0.0, journeys = 0.0
        mutating func add(_ u: UserOutcome, _ j: Journey, duration: Double, window: Double) {
            guard let first = u.firstSession else { return }
            seen += 1
            if u.optedOut { optedOut += 1 } else if u.leftAt != nil { churned += 1 }
            trust += Double(u.trustSurvey)
            if first + window <= duration {
                eligible += 1
                if j.returned7 { retained += 1 }
            }
            if first + 30 * 86_400 <= duration {
                eligible30 += 1
                if j.returned30 { retained30 += 1 }
            }
            activeDays += ((u.lastSession ?? first) - first) / 86_400
            if j.hasDecision { journeys += 1; returns += j.discountedReturn }
        }
        mutating func merge(_ o: UserSums) {
            eligible += o.eligible; retained += o.retained; seen += o.seen; optedOut += o.optedOut; trust += o.trust
            eligible30 += o.eligible30; retained30 += o.retained30; churned += o.churned; activeDays += o.activeDays
            returns += o.returns; journeys += o.journeys
        }
        var values: [String: Double] {
            ["retention_7d": eligible > 0 ? retained / eligible : .nan,
             "opt_out_rate": seen > 0 ? optedOut / seen : .nan,
             "trust_score": seen > 0 ? trust / seen : .nan,
             "user_return": journeys > 0 ? returns / journeys : .nan,
             "retention_30d": eligible30 > 0 ? retained30 / eligible30 : .nan,
             "churn_rate": seen > 0 ? churned / seen : .nan,
             "active_days": seen > 0 ? activeDays / seen : .nan]
        }
        var counts: [String: Int] {
            ["retention_7d": Int(eligible), "opt_out_rate": Int(seen), "trust_score": Int(seen), "user_return": Int(journeys),
             "retention_30d": Int(eligible30), "churn_rate": Int(seen), "active_days": Int(seen)]
        }
    }

    /// Each user's journey in `records`: returns within 7 and 30 days of the first session, and
    /// the discounted return sum_i gamma^(days from the first decision to decision i) x (decision
    /// i's reward, each signal discounted by its latency), plus the churn or opt-out penalty
    /// discounted to the time of leaving.
    static func journeys(_ records: RunRecords, window: Double) -> [Journey] {
        var out = [Journey](repeating: Journey(), count: records.users.count)
        var firstDecision = [Double](repeating: -1, count: records.users.count)
        let g = records.discountPerDay
        func discount(_ seconds: Double) -> Double { g == 1 ? 1 : pow(g, seconds / 86_400) }
        for e in records.episodes where e.user < records.users.count {
            if let first = records.users[e.user].firstSession {
                let d = e.time - first
                if d >= 86_400 && d <= window { out[e.user].returned7 = true }
                if d >= 30 * 86_400 { out[e.user].returned30 = true }
            }
            if firstDecision[e.user] < 0 { firstDecision[e.user] = e.time }
            out[e.user].hasDecision = true
            out[e.user].discountedReturn += discount(e.time - firstDecision[e.user]) * e.discountedReward
        }
        for (u, o) in records.users.enumerated() where firstDecision[u] >= 0 {
            guard let left = o.leftAt else { continue }
            let penalty = o.optedOut ? records.optOutPenalty : records.churnPenalty
            if penalty != 0 { out[u].discountedReturn += discount(left - firstDecision[u]) * penalty }
        }
        return out
    }

    /// The metrics measured on a run's evaluation records (every catalog metric but the run-level
    /// ones), in catalog order.
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
        // User-level metrics: retention (a session at least one day and at most the window after
        // the first), churn, active days, the discounted return of each journey.
        let journeys = Evaluator.journeys(records, window: window)
        var fullU = UserSums()
        var excluded = 0, excluded30 = 0
        for (u, o) in records.users.enumerated() {
            fullU.add(o, journeys[u], duration: records.duration, window: window)
            if let first = o.firstSession, first + window > records.duration { excluded += 1 }
            if let first = o.firstSession, first + 30 * 86_400 > records.duration { excluded30 += 1 }
            if unitOf[u] >= 0 { perUnitUser[unitOf[u]].add(o, journeys[u], duration: records.duration, window: window) }
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
        for name in MetricCatalog.names where !MetricCatalog.runLevel.contains(name) {
            let v = values[name] ?? .nan
            let (lo, hi) = percentileInterval(reps[name] ?? [], confidence: config.confidence)
            var note: String? = nil
            if !v.isFinite {
                note = name == "bias_parity"
                    ? "not measurable: fewer than two groups with decisions, or no group has a success"
                    : "not measurable: no eligible units in this run"
            }
            for (metric, days, n) in [("retention_7d", config.retentionDays, excluded), ("retention_30d", 30.0, excluded30)] where name == metric && n > 0 {
                let why = "\(n) of \(Int(fullU.seen)) users with a session are excluded: their \(days.formatted())-day window runs past the end of the evaluation (\(String(format: "%.1f", records.duration / 86_400)) simulated days)"
                note = note.map { $0 + "; " + why } ?? why
            }
            out.append(MetricValue(name: name, value: v, ciLow: v.isFinite ? lo : .nan, ciHigh: v.isFinite ? hi : .nan,
                                   count: counts[name] ?? 0, note: note))
        }
        return out
    }
}
