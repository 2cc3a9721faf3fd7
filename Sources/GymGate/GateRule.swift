/// Which number of a metric a gate rule checks.
public enum GateBound: String, Sendable, Equatable, CaseIterable, Codable {
    /// The point estimate.
    case value
    /// The lower end of the confidence interval (a conservative check of a `min` rule).
    case ciLow = "ci_low"
    /// The upper end of the confidence interval (a conservative check of a `max` rule).
    case ciHigh = "ci_high"
}

/// One release-gate rule: `agent`'s `metric` (its `on` number) must be >= `min` and/or <= `max`.
public struct GateRule: Sendable, Equatable {
    public var metric: String
    public var agent: String
    public var min: Double?
    public var max: Double?
    public var on: GateBound
    /// Where the rule came from (e.g. "scenarios/baseline.yaml:40"), for messages.
    public var source: String?
    public init(metric: String, agent: String, min: Double? = nil, max: Double? = nil, on: GateBound = .value, source: String? = nil) {
        self.metric = metric; self.agent = agent; self.min = min; self.max = max; self.on = on; self.source = source
    }
}
