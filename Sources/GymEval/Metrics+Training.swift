import Foundation
import GymCore
import GymRandom

extension Evaluator {
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
/// band at `confidence` (mean +- z s / sqrt(n); z = 1.96 at 0.95).
public func learningCurve(rewards: [Double], pairingGood: [Bool?], epsilons: [Double]?, window: Int, confidence: Double = 0.95) -> [CurvePoint] {
    let w = max(1, window)
    let z = SpecialFunctions.twoSidedZ(confidence: confidence)
    var out: [CurvePoint] = []
    var i = 0
    while i + w <= rewards.count {
        var m = RunningMoments()
        var pairs = 0, good = 0
        for j in i..<(i + w) {
            m.add(rewards[j])
            if let g = pairingGood[j] { pairs += 1; if g { good += 1 } }
        }
        let half = w > 1 ? z * m.standardDeviation / Double(w).squareRoot() : 0
        out.append(CurvePoint(episodes: i + w, meanReward: m.mean, ciLow: m.mean - half, ciHigh: m.mean + half,
                              epsilon: epsilons.map { $0[i + w - 1] },
                              pairingAccuracy: pairs > 0 ? Double(good) / Double(pairs) : .nan))
        i += w
    }
    return out
}

/// A paired comparison of two agents evaluated on the same users (the same evaluation world):
/// the difference of a metric with a user-level bootstrap interval. Each replicate draws users
/// with replacement from the users either agent served and recomputes both agents' values over
/// the same drawn users, so the correlation between the two evaluations is kept.
public struct PairedDifference: Sendable, Equatable {
    public var a: String
    public var b: String
    /// mean_reward (per decision), user_return (per user journey) or retention_30d (per eligible user).
    public var metric: String = "mean_reward"
    /// value for a - value for b.
    public var value: Double
    public var ciLow: Double
    public var ciHigh: Double
    public var users: Int
    /// The interval excludes 0.
    public var significant: Bool { ciLow.isFinite && ciHigh.isFinite && (ciLow > 0 || ciHigh < 0) }
}

extension Evaluator {
    /// The metrics a paired comparison can take.
    public static let pairedMetrics = ["mean_reward", "user_return", "retention_30d"]

    /// Per user: the numerator and denominator of `metric` (a ratio of sums over users).
    func perUser(_ r: RunRecords, metric: String, users n: Int) -> (num: [Double], den: [Double]) {
        var num = [Double](repeating: 0, count: n), den = num
        switch metric {
        case "user_return", "retention_30d":
            let j = Evaluator.journeys(r, window: config.retentionDays * 86_400)
            for (u, o) in r.users.enumerated() where u < n {
                if metric == "user_return" {
                    if j[u].hasDecision { num[u] = j[u].discountedReturn; den[u] = 1 }
                } else if let first = o.firstSession, first + 30 * 86_400 <= r.duration {
                    num[u] = j[u].returned30 ? 1 : 0; den[u] = 1
                }
            }
        default:
            for e in r.episodes where e.user < n { num[e.user] += e.reward; den[e.user] += 1 }
        }
        return (num, den)
    }

    public func pairedDifference(_ a: String, _ ra: RunRecords, _ b: String, _ rb: RunRecords, metric: String = "mean_reward",
                                 stream: RandomStream) -> PairedDifference {
        let n = max(ra.users.count, rb.users.count, (ra.episodes.map { $0.user }.max() ?? -1) + 1, (rb.episodes.map { $0.user }.max() ?? -1) + 1)
        let (sa, na) = perUser(ra, metric: metric, users: n), (sb, nb) = perUser(rb, metric: metric, users: n)
        let users = (0..<n).filter { na[$0] > 0 || nb[$0] > 0 }
        func diff(_ pick: [Int]) -> Double {
            var x = 0.0, xn = 0.0, y = 0.0, yn = 0.0
            for u in pick { x += sa[u]; xn += na[u]; y += sb[u]; yn += nb[u] }
            return xn > 0 && yn > 0 ? x / xn - y / yn : .nan
        }
        let value = diff(users)
        var reps: [Double] = []
        reps.reserveCapacity(config.bootstrapSamples)
        if !users.isEmpty {
            var pick = [Int](repeating: 0, count: users.count)
            for _ in 0..<config.bootstrapSamples {
                for i in 0..<users.count { pick[i] = users[stream.uniformInt(users.count)] }
                reps.append(diff(pick))
            }
        }
        let (lo, hi) = percentileInterval(reps, confidence: config.confidence)
        return PairedDifference(a: a, b: b, metric: metric, value: value, ciLow: lo, ciHigh: hi, users: users.count)
    }
}

/// The share of users still active d days after their first session, for d = 0, 1, ...,
/// `days` (Kaplan-Meier): leaving (churn or opt-out) is the event; a user still active when the
/// evaluation ends is censored there, so short observation does not read as churn.
public func survivalCurve(_ records: RunRecords, days: Int) -> [Double] {
    var events: [(t: Double, left: Bool)] = []
    for u in records.users {
        guard let first = u.firstSession else { continue }
        if let left = u.leftAt { events.append(((left - first) / 86_400, true)) } else { events.append(((records.duration - first) / 86_400, false)) }
    }
    events.sort { $0.t != $1.t ? $0.t < $1.t : ($0.left && !$1.left) }
    var out: [Double] = []
    var s = 1.0, atRisk = Double(events.count), i = 0
    for d in 0...max(0, days) {
        // Every event at or before day d.
        while i < events.count && events[i].t <= Double(d) {
            let t = events[i].t
            var leftHere = 0.0, gone = 0.0
            while i < events.count && events[i].t == t { if events[i].left { leftHere += 1 }; gone += 1; i += 1 }
            if atRisk > 0 { s *= 1 - leftHere / atRisk }
            atRisk -= gone
        }
        out.append(events.isEmpty ? .nan : s)
    }
    return out
}
