import Foundation
import GymRandom

// Online anomaly detectors over a stream of decisions (blueprint section 8): a shift of the mean
// reward (two-sided CUSUM on batch means), drift of the action shares (chi-squared test of a
// window against a reference window), drift of a group's outcome rate (the same test per group),
// and outlier users (robust z-scores). Each keeps O(batch + actions + groups) state, takes one
// decision at a time in stream order and is deterministic: the same stream gives the same alarms.

/// An alarm: which detector, at which decision (0-based index in the stream), its statistic
/// against its threshold, and why in words.
public struct DetectorAlarm: Sendable, Equatable, Codable {
    public var detector: String
    public var decision: Int
    public var statistic: Double
    public var threshold: Double
    public var reason: String
    public init(detector: String, decision: Int, statistic: Double, threshold: Double, reason: String) {
        self.detector = detector; self.decision = decision; self.statistic = statistic; self.threshold = threshold; self.reason = reason
    }
}

/// A self-starting two-sided CUSUM (Page 1954; Hawkins 1987) on the means of consecutive batches
/// of `batch` values. Each batch mean x_n is standardised against the batch means before it since
/// the last alarm (mean m, standard deviation s of n of them):
/// T = (x_n - m) / (s sqrt(1 + 1/n)) has Student's t distribution with n - 1 degrees of freedom
/// when the stream is in control and the batch means are normal, and U = Phi^-1(F_t(T)) is then
/// exactly standard normal, whatever the reference's estimation error. The CUSUM runs on U:
/// S+ = max(0, S+ + U - k), S- = max(0, S- - U - k), an alarm when either exceeds h. Monitoring
/// starts after `warmupBatches` batches; after an alarm the reference starts again.
///
/// With k = 0.5 and h = 12 the in-control average run length is about 522,000 batches (both
/// sides; Siegmund's approximation, `averageRunLength`): over 100,000 decisions in batches of
/// 100, a false alarm about 0.2% of the time. A sudden shift of d standard deviations of a batch
/// mean is found after about (h + 1.166) / (d - k) batches (5.3 for d = 3).
public struct MeanShiftCUSUM: Sendable {
    public struct Config: Sendable, Equatable, Codable {
        public var batch = 100
        public var warmupBatches = 10
        public var k = 0.5
        public var h = 12.0
        public init() {}
    }

    public let name: String
    public let config: Config
    var sum = 0.0, count = 0
    var reference = RunningMoments()
    var up = 0.0, down = 0.0

    public init(name: String = "reward_shift", config: Config = Config()) { self.name = name; self.config = config }

    /// Adds the value of decision `index`; returns an alarm when one is raised.
    public mutating func add(_ x: Double, decision index: Int) -> DetectorAlarm? {
        sum += x; count += 1
        guard count == config.batch else { return nil }
        let m = sum / Double(count)
        sum = 0; count = 0
        let n = reference.count
        guard n >= max(3, config.warmupBatches) else { reference.add(m); return nil }
        let sd = reference.variance.squareRoot()
        let mu = reference.mean
        var u = 0.0
        if sd > 0 {
            let t = (m - mu) / (sd * (1 + 1 / Double(n)).squareRoot())
            let tail = SpecialFunctions.studentTUpperTail(abs(t), nu: Double(n - 1))
            u = min(8.5, tail > 0 ? SpecialFunctions.normalUpperQuantile(tail) : 8.5) * (t < 0 ? -1 : 1)
        } else if m != mu {
            u = m > mu ? 8.5 : -8.5
        }
        reference.add(m)
        up = max(0, up + u - config.k); down = max(0, down - u - config.k)
        guard up > config.h || down > config.h else { return nil }
        let rising = up > config.h
        let alarm = DetectorAlarm(detector: name, decision: index, statistic: rising ? up : down, threshold: config.h,
                                  reason: String(format: "the mean %@ moved %@ from %.4g (batch-mean sd %.3g over %d batches): the last batch of %d averaged %.4g",
                                                 name as NSString, (rising ? "up" : "down") as NSString, mu, sd, n, config.batch, m))
        up = 0; down = 0; reference = RunningMoments()
        return alarm
    }

    /// Siegmund's approximation of a one-sided CUSUM's average run length, in batches, when the
    /// mean is `shift` reference standard deviations away (towards that side):
    /// (exp(-2 D b) + 2 D b - 1) / (2 D^2) with D = shift - k and b = h + 1.166.
    public static func averageRunLength(shift: Double, k: Double, h: Double) -> Double {
        let d = shift - k, b = h + 1.166
        if abs(d) < 1e-9 { return b * b }
        return (exp(-2 * d * b) + 2 * d * b - 1) / (2 * d * d)
    }
}

/// The chi-squared test of homogeneity of two rows of counts (Pearson, no continuity
/// correction): columns whose expected count is below `minExpected` in either row are pooled
/// into one; statistic sum (O - E)^2 / E, (columns - 1) degrees of freedom. Nil when fewer than
/// two columns remain or a row is empty.
public func chiSquaredHomogeneity(_ a: [Int], _ b: [Int], minExpected: Double = 5) -> (statistic: Double, df: Int, p: Double)? {
    let na = Double(a.reduce(0, +)), nb = Double(b.reduce(0, +)), n = na + nb
    guard na > 0, nb > 0 else { return nil }
    var cols: [(Double, Double)] = [], pooled = (0.0, 0.0)
    for j in 0..<min(a.count, b.count) {
        let t = Double(a[j] + b[j])
        guard t > 0 else { continue }
        if min(na, nb) * t / n >= minExpected { cols.append((Double(a[j]), Double(b[j]))) } else { pooled.0 += Double(a[j]); pooled.1 += Double(b[j]) }
    }
    if pooled.0 + pooled.1 > 0 { cols.append(pooled) }
    guard cols.count >= 2 else { return nil }
    var x = 0.0
    for (oa, ob) in cols {
        let t = oa + ob, ea = na * t / n, eb = nb * t / n
        x += (oa - ea) * (oa - ea) / ea + (ob - eb) * (ob - eb) / eb
    }
    let df = cols.count - 1
    return (x, df, SpecialFunctions.chiSquaredUpperTail(x, nu: Double(df)))
}

/// Drift of the action shares: the counts of each window of `window` decisions against those of
/// the first window (the reference), by `chiSquaredHomogeneity`; an alarm when p < alpha. After
/// an alarm the window that raised it becomes the reference.
public struct ActionShareDrift: Sendable {
    public struct Config: Sendable, Equatable, Codable {
        public var window = 5000
        public var alpha = 1e-4
        public init() {}
    }
    public let config: Config
    public let actions: Int
    var reference: [Int]?
    var current: [Int]
    var n = 0

    public init(actions: Int, config: Config = Config()) {
        self.actions = actions; self.config = config; current = [Int](repeating: 0, count: actions)
    }

    public mutating func add(action: Int, decision index: Int, label: (Int) -> String = { "action \($0)" }) -> DetectorAlarm? {
        current[action] += 1; n += 1
        guard n == config.window else { return nil }
        defer { current = [Int](repeating: 0, count: actions); n = 0 }
        guard let ref = reference else { reference = current; return nil }
        guard let t = chiSquaredHomogeneity(ref, current), t.p < config.alpha else { return nil }
        // The action whose share moved most, for the reason.
        let nr = Double(ref.reduce(0, +)), nc = Double(config.window)
        let j = (0..<actions).max { abs(Double(current[$0]) / nc - Double(ref[$0]) / nr) < abs(Double(current[$1]) / nc - Double(ref[$1]) / nr) }!
        reference = current
        return DetectorAlarm(detector: "action_drift", decision: index, statistic: t.statistic, threshold: config.alpha,
                             reason: String(format: "action shares changed (chi-squared %.1f on %d df, p = %.2g): %@ went from %.1f%% to %.1f%% of decisions",
                                            t.statistic, t.df, t.p, label(j) as NSString, 100 * Double(ref[j]) / nr, 100 * Double(current[j]) / nc))
    }
}

/// Drift of each group's positive-outcome rate: per group, the successes and failures of each
/// window of `window` decisions (all groups together) against the group's first window, by the
/// same chi-squared test on a 2 x 2 table, with alpha divided among the groups (Bonferroni).
public struct GroupOutcomeDrift: Sendable {
    public struct Config: Sendable, Equatable, Codable {
        public var window = 10_000
        public var alpha = 1e-4
        public init() {}
    }
    public let config: Config
    public let groups: [String]
    var reference: [[Int]?]
    var current: [[Int]]
    var n = 0

    public init(groups: [String], config: Config = Config()) {
        self.groups = groups; self.config = config
        reference = [[Int]?](repeating: nil, count: groups.count)
        current = [[Int]](repeating: [0, 0], count: groups.count)
    }

    /// Adds one decision of a user in `group`; returns the alarms of the groups whose rate moved.
    public mutating func add(group: Int, success: Bool, decision index: Int) -> [DetectorAlarm] {
        current[group][success ? 0 : 1] += 1; n += 1
        guard n == config.window else { return [] }
        defer { current = [[Int]](repeating: [0, 0], count: groups.count); n = 0 }
        var out: [DetectorAlarm] = []
        let a = config.alpha / Double(max(1, groups.count))
        for g in 0..<groups.count {
            guard let ref = reference[g] else {
                if current[g][0] + current[g][1] > 0 { reference[g] = current[g] }
                continue
            }
            guard let t = chiSquaredHomogeneity(ref, current[g]), t.p < a else { continue }
            let r0 = Double(ref[0]) / Double(ref[0] + ref[1]), r1 = Double(current[g][0]) / Double(current[g][0] + current[g][1])
            out.append(DetectorAlarm(detector: "group_drift", decision: index, statistic: t.statistic, threshold: a,
                                     reason: String(format: "group %@'s positive-outcome rate went from %.1f%% to %.1f%% (chi-squared %.1f, p = %.2g)",
                                                    groups[g] as NSString, 100 * r0, 100 * r1, t.statistic, t.p)))
            reference[g] = current[g]
        }
        return out
    }
}

/// Outlier users by robust z-scores (Iglewicz & Hoaglin 1993): z = 0.6745 (x - median) / MAD,
/// flagged when |z| > threshold (3.5). When the MAD is 0, the mean absolute deviation times
/// 1.2533 stands in (z = (x - median) / (1.2533 MeanAD)); when that is 0 too, nothing is flagged.
public enum RobustZ {
    public static func scores(_ x: [Double]) -> [Double] {
        guard !x.isEmpty else { return [] }
        let s = x.sorted()
        let med = Stats.quantile(sorted: s, 0.5)
        let dev = x.map { abs($0 - med) }.sorted()
        let mad = Stats.quantile(sorted: dev, 0.5)
        if mad > 0 { return x.map { 0.6745 * ($0 - med) / mad } }
        let meanAD = dev.reduce(0, +) / Double(dev.count)
        if meanAD > 0 { return x.map { ($0 - med) / (1.2533 * meanAD) } }
        return [Double](repeating: 0, count: x.count)
    }

    /// The indices with |z| above `threshold`, in index order.
    public static func outliers(_ x: [Double], threshold: Double = 3.5) -> [Int] {
        scores(x).enumerated().filter { abs($0.element) > threshold }.map { $0.offset }
    }
}
