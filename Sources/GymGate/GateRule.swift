/// Which number of a metric a gate rule checks.
public enum GateBound: String, Sendable, Equatable, CaseIterable, Codable {
    /// The point estimate.
    case value
    /// The lower end of the confidence interval (a conservative check of a `min` rule).
    case ciLow = "ci_low"
    /// The upper end of the confidence interval (a conservative check of a `max` rule).
    case ciHigh = "ci_high"

    /// The number this bound names.
    public func pick(value: Double, ciLow: Double, ciHigh: Double) -> Double {
        switch self {
        case .value: return value
        case .ciLow: return ciLow
        case .ciHigh: return ciHigh
        }
    }
}

/// One release-gate rule: `agent`'s `metric` (its `on` number) must be >= `min` and/or <= `max`.
///
/// - An alert line (`alertBelow` / `alertAbove`, the blueprint's "alert < 0.9") marks a result
///   worse than it as an alert, the most severe failure; a rule may have an alert line alone.
/// - A regression rule (`relativeTo` with `maxDegradation`) compares `agent` (a run's agent or a
///   registered model: an alias or an id) with the model `relativeTo` names, both evaluated on the
///   same users; it fails when `agent` is worse by more than `maxDegradation` (a fraction of the
///   reference's value), on the `on` end of the paired interval.
public struct GateRule: Sendable, Equatable {
    public var metric: String
    public var agent: String
    public var min: Double?
    public var max: Double?
    public var on: GateBound
    public var alertBelow: Double?
    public var alertAbove: Double?
    public var relativeTo: String?
    public var maxDegradation: Double?
    /// Where the rule came from (e.g. "scenarios/baseline.yaml:40"), for messages.
    public var source: String?
    public init(metric: String, agent: String, min: Double? = nil, max: Double? = nil, on: GateBound = .value, source: String? = nil,
                alertBelow: Double? = nil, alertAbove: Double? = nil, relativeTo: String? = nil, maxDegradation: Double? = nil) {
        self.metric = metric; self.agent = agent; self.min = min; self.max = max; self.on = on; self.source = source
        self.alertBelow = alertBelow; self.alertAbove = alertAbove; self.relativeTo = relativeTo; self.maxDegradation = maxDegradation
    }

    public var isRegression: Bool { relativeTo != nil }

    /// The rule as one line: "ppo bias_parity ci_low >= 0.95 (alert < 0.9)".
    public var summary: String {
        var s = "\(agent) \(metric) \(on.rawValue)"
        if let r = relativeTo { return s + " vs \(r): degradation <= \(Gate.fmt(maxDegradation ?? 0))" }
        if let lo = min { s += " >= \(Gate.fmt(lo))" }
        if let hi = max { s += " <= \(Gate.fmt(hi))" }
        if let a = alertBelow { s += " (alert < \(Gate.fmt(a)))" }
        if let a = alertAbove { s += " (alert > \(Gate.fmt(a)))" }
        return s
    }
}

/// A gate file's `watch:` section: how `gate --watch` judges the champion against the id it
/// named before, both evaluated on the same users (defaults: the blueprint's "roll back on more
/// than 5% degradation" of mean reward, on the point estimate of the paired difference).
public struct GateWatch: Sendable, Equatable {
    public var metric = "mean_reward"
    public var maxDegradation = 0.05
    public var on: GateBound = .value
    public init() {}
}
