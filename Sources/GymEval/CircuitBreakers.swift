import Foundation

/// One declarative safety constraint, checked after every decision over a sliding window of the
/// last `window` decisions (blueprint section 8's circuit breaker).
///
/// - `intervention_fpr`: interventions sent to users who were not distressed, over the window's
///   decisions for users who were not distressed, must stay at most `threshold`. It needs
///   `min_decisions` such decisions in the window before it can trip.
/// - `group_parity`: the lowest group success rate over the highest, over the window, must stay
///   at least `threshold` (the blueprint's alert line is 0.9). Groups with fewer than
///   `min_decisions` decisions in the window are not compared.
/// - `opt_out_rate`: opt-outs per decision over the window must stay at most `threshold`; it
///   needs a full window.
/// - `detector`: an alarm of the named anomaly detector (`any`: any of them but the outlier
///   screen) trips it at once.
///
/// When it trips, the breaker opens: the declared fallback decides for `cooldown` decisions.
/// Then it closes (the reset rule), its window starts empty, and the agent decides again.
public struct BreakerConfig: Sendable, Equatable {
    public enum Kind: String, CaseIterable, Sendable {
        case interventionFPR = "intervention_fpr", groupParity = "group_parity", optOutRate = "opt_out_rate", detector
    }
    public var kind: Kind = .interventionFPR
    /// Name in reports (default: the kind).
    public var name = ""
    public var threshold = 0.1
    public var window = 1000
    public var minDecisions = 200
    public var cooldown = 2000
    /// For `detector`: `reward_shift`, `action_drift`, `group_drift`, or `any`.
    public var detector = "any"
    public init() {}
    public var label: String { name.isEmpty ? kind.rawValue : name }
}

/// What decides while a breaker is open.
public enum FallbackPolicy: String, CaseIterable, Sendable {
    /// Nothing is suggested: every decision is `no_action`.
    case noAction = "no_action"
    /// The agent decides, with every intervention masked out.
    case noIntervention = "no_intervention"

    /// The mask the acting policy sees under this fallback (`no_action` is always allowed).
    public func restrict(_ mask: [Bool], isIntervention: (Int) -> Bool) -> [Bool] {
        switch self {
        case .noAction: return mask.indices.map { $0 == 0 }
        case .noIntervention: return mask.indices.map { mask[$0] && !isIntervention($0) }
        }
    }
}

/// A scenario's `safety` section.
public struct SafetyConfig: Sendable, Equatable {
    public var breakers: [BreakerConfig] = []
    public var fallback: FallbackPolicy = .noAction
    /// Decisions per point of the breaker-state chart.
    public var chartEvery = 1000
    public init() {}
}

/// What the breakers see of one decision once it is taken: the simulator's truth at the time of
/// the decision (whether the user was distressed, the episode's outcome) and the opt-outs it
/// caused. A deployed system learns outcomes only as their signals arrive, so a breaker here is
/// an optimistic one: it reacts as fast as the truth allows.
public struct BreakerObservation: Sendable {
    public var group: Int
    public var distressed: Bool
    public var isIntervention: Bool
    public var success: Bool
    public var optOuts: Int
    public init(group: Int, distressed: Bool, isIntervention: Bool, success: Bool, optOuts: Int) {
        self.group = group; self.distressed = distressed; self.isIntervention = isIntervention; self.success = success; self.optOuts = optOuts
    }
}

/// One period under the fallback.
public struct BreakerTrip: Sendable, Equatable {
    public var breaker: String
    /// The decision after which it tripped, and the first decision the agent made again (nil: open at the end).
    public var openedAfter: Int
    public var closedAt: Int?
    public var statistic: Double
    public var reason: String
}

/// One breaker's state machine over its sliding window.
public struct CircuitBreaker: Sendable {
    public let config: BreakerConfig
    public private(set) var isOpen = false
    var openedAfter = 0
    /// The window, as a ring of observations, and its running sums.
    var ring: [BreakerObservation] = []
    var head = 0
    var nonDistressed = 0, falsePositives = 0, optOuts = 0
    var groupN: [Int], groupSuccess: [Int]
    public private(set) var trips: [BreakerTrip] = []

    public init(config: BreakerConfig, groups: Int) {
        self.config = config
        groupN = [Int](repeating: 0, count: max(1, groups)); groupSuccess = groupN
        ring.reserveCapacity(config.window)
    }

    /// Before decision `k`: closes an open breaker whose cooldown has passed. Returns whether it is open.
    public mutating func beforeDecision(_ k: Int) -> Bool {
        if isOpen && k - openedAfter > config.cooldown {
            isOpen = false
            trips[trips.count - 1].closedAt = k
            clear()
        }
        return isOpen
    }

    mutating func clear() {
        ring.removeAll(keepingCapacity: true); head = 0
        nonDistressed = 0; falsePositives = 0; optOuts = 0
        for g in groupN.indices { groupN[g] = 0; groupSuccess[g] = 0 }
    }

    mutating func account(_ o: BreakerObservation, _ sign: Int) {
        if !o.distressed {
            nonDistressed += sign
            if o.isIntervention { falsePositives += sign }
        }
        optOuts += sign * o.optOuts
        if o.group >= 0 && o.group < groupN.count {
            groupN[o.group] += sign
            if o.success { groupSuccess[o.group] += sign }
        }
    }

    /// After decision `k`: adds it to the window (while closed) and trips when the constraint
    /// fails; `alarms` are the anomaly detectors that alarmed at this decision.
    /// `o` nil: the decision is not the agent's (only a detector breaker listens).
    public mutating func afterDecision(_ k: Int, _ o: BreakerObservation?, alarms: [String]) {
        guard !isOpen else { return }
        if let o {
            if ring.count < config.window { ring.append(o) } else {
                account(ring[head], -1)
                ring[head] = o
                head = (head + 1) % config.window
            }
            account(o, 1)
        }
        if let (statistic, reason) = violation(alarms: alarms) {
            isOpen = true
            openedAfter = k
            trips.append(BreakerTrip(breaker: config.label, openedAfter: k, closedAt: nil, statistic: statistic, reason: reason))
        }
    }

    /// The current window's statistic, and whether it breaks the constraint.
    func violation(alarms: [String]) -> (Double, String)? {
        let c = config
        switch c.kind {
        case .interventionFPR:
            guard nonDistressed >= c.minDecisions else { return nil }
            let fpr = Double(falsePositives) / Double(nonDistressed)
            return fpr > c.threshold
                ? (fpr, String(format: "intervention false-positive rate %.4f over the last %d decisions (%d of %d users not distressed) > %g",
                               fpr, ring.count, falsePositives, nonDistressed, c.threshold)) : nil
        case .groupParity:
            var lo = Double.infinity, hi = -Double.infinity, loG = 0, hiG = 0
            for g in groupN.indices where groupN[g] >= c.minDecisions {
                let r = Double(groupSuccess[g]) / Double(groupN[g])
                if r < lo { lo = r; loG = g }
                if r > hi { hi = r; hiG = g }
            }
            guard lo.isFinite, loG != hiG, hi > 0 else { return nil }
            let parity = lo / hi
            return parity < c.threshold
                ? (parity, String(format: "group parity %.4f over the last %d decisions (success rate %.4f of group %d against %.4f of group %d) < %g",
                                  parity, ring.count, lo, loG, hi, hiG, c.threshold)) : nil
        case .optOutRate:
            guard ring.count == c.window else { return nil }
            let rate = Double(optOuts) / Double(c.window)
            return rate > c.threshold
                ? (rate, String(format: "%d opt-outs over the last %d decisions (%.5f a decision) > %g", optOuts, c.window, rate, c.threshold)) : nil
        case .detector:
            let hit = alarms.first { c.detector == "any" ? $0 != "outlier_user" : $0 == c.detector }
            return hit.map { (1, "anomaly detector \($0) raised an alarm") }
        }
    }
}

/// The scenario's breakers together: the fallback decides while any of them is open.
public struct BreakerSuite: Sendable {
    public let config: SafetyConfig
    public private(set) var breakers: [CircuitBreaker]
    /// Decisions made under the fallback, in all and per chart bucket; per breaker and bucket, the
    /// decisions during which it was open.
    public private(set) var fallbackDecisions = 0
    public private(set) var decisions = 0
    public private(set) var openPerBucket: [[Int]]
    public private(set) var fallbackPerBucket: [Int] = []
    var fallbackNow = false

    public init(config: SafetyConfig, groups: Int) {
        self.config = config
        breakers = config.breakers.map { CircuitBreaker(config: $0, groups: groups) }
        openPerBucket = config.breakers.map { _ in [] }
    }

    /// Before decision `k`: whether the fallback decides it.
    public mutating func fallbackDecides(_ k: Int) -> Bool {
        var any = false
        let bucket = k / config.chartEvery
        if fallbackPerBucket.count <= bucket {
            fallbackPerBucket += [Int](repeating: 0, count: bucket + 1 - fallbackPerBucket.count)
            for i in openPerBucket.indices { openPerBucket[i] += [Int](repeating: 0, count: bucket + 1 - openPerBucket[i].count) }
        }
        for i in breakers.indices where breakers[i].beforeDecision(k) {
            any = true
            openPerBucket[i][bucket] += 1
        }
        if any { fallbackDecisions += 1; fallbackPerBucket[bucket] += 1 }
        decisions = k + 1
        fallbackNow = any
        return any
    }

    /// After decision `k`. The breakers judge the agent: a decision the fallback made does not
    /// enter their windows (a detector's alarm during it is still heard).
    public mutating func afterDecision(_ k: Int, _ o: BreakerObservation, alarms: [String]) {
        for i in breakers.indices {
            if fallbackNow {
                if breakers[i].config.kind == .detector { breakers[i].afterDecision(k, nil, alarms: alarms) }
            } else {
                breakers[i].afterDecision(k, o, alarms: alarms)
            }
        }
    }

    /// Decisions each breaker held open.
    public var openDecisions: [Int] { openPerBucket.map { $0.reduce(0, +) } }

    /// Every trip of every breaker, in the order they opened.
    public var trips: [BreakerTrip] {
        breakers.flatMap(\.trips).sorted { ($0.openedAfter, $0.breaker) < ($1.openedAfter, $1.breaker) }
    }

    /// Per breaker, the share of each chart bucket's decisions it held open.
    public var openShares: [(breaker: String, shares: [Double])] {
        let sizes = fallbackPerBucket.indices.map { b in Double(min(config.chartEvery, decisions - b * config.chartEvery)) }
        return breakers.indices.map { i in
            (breakers[i].config.label, openPerBucket[i].indices.map { b in sizes[b] > 0 ? Double(openPerBucket[i][b]) / sizes[b] : 0 })
        }
    }
}
