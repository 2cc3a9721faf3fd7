import Foundation
import GymEval

/// The result of one rule.
public struct RuleResult: Sendable, Equatable {
    public let rule: GateRule
    public let passed: Bool
    /// The number the rule checked (nil when the metric or agent is missing).
    public let measured: Double?
    /// Human-readable reason, e.g. "epsilon_greedy mean_reward ci_low = 0.1032 >= 0.05".
    public let reason: String
    /// Past the rule's alert line (the most severe failure).
    public var alert = false
    public init(rule: GateRule, passed: Bool, measured: Double?, reason: String, alert: Bool = false) {
        self.rule = rule; self.passed = passed; self.measured = measured; self.reason = reason; self.alert = alert
    }

    /// pass | miss | ALERT
    public var level: String { passed ? "pass" : (alert ? "ALERT" : "miss") }
}

/// The gate's verdict: passed only when every rule passed (an empty rule list passes).
public struct GateVerdict: Sendable, Equatable {
    public let results: [RuleResult]
    public var passed: Bool { results.allSatisfy { $0.passed } }
    public var failures: [RuleResult] { results.filter { !$0.passed } }
    public var alerts: [RuleResult] { results.filter { $0.alert } }
    public init(results: [RuleResult]) { self.results = results }
}

/// Metrics of one agent as the gate sees them.
public struct AgentMetricSet: Sendable, Equatable {
    public let agent: String
    public let metrics: [MetricValue]
    public init(agent: String, metrics: [MetricValue]) { self.agent = agent; self.metrics = metrics }
}

public enum Gate {
    static func fmt(_ x: Double) -> String { String(format: "%.4g", x) }

    /// Checks every rule. A rule whose agent or metric the run lacks, or whose number is not
    /// finite, fails: it is never passed silently.
    public static func evaluate(_ rules: [GateRule], on sets: [AgentMetricSet]) -> GateVerdict {
        var results: [RuleResult] = []
        for rule in rules {
            if rule.isRegression {
                results.append(RuleResult(rule: rule, passed: false, measured: nil,
                                          reason: "\(rule.summary): a regression rule needs the model registry (`optima-gym gate RUN` with a store)"))
                continue
            }
            let label = "\(rule.agent) \(rule.metric) \(rule.on.rawValue)"
            guard let set = sets.first(where: { $0.agent == rule.agent }) else {
                let have = sets.map { $0.agent }.joined(separator: ", ")
                results.append(RuleResult(rule: rule, passed: false, measured: nil,
                                          reason: "\(label): the run has no agent '\(rule.agent)' (it has: \(have))"))
                continue
            }
            guard let m = set.metrics.first(where: { $0.name == rule.metric }) else {
                results.append(RuleResult(rule: rule, passed: false, measured: nil,
                                          reason: "\(label): the run has no metric '\(rule.metric)' for \(rule.agent)"))
                continue
            }
            let x = rule.on.pick(value: m.value, ciLow: m.ciLow, ciHigh: m.ciHigh)
            guard x.isFinite else {
                results.append(RuleResult(rule: rule, passed: false, measured: nil,
                                          reason: "\(label) is not measurable in this run\(m.note.map { " (\($0))" } ?? "")"))
                continue
            }
            var ok = true
            var parts: [String] = []
            if let lo = rule.min {
                let pass = x >= lo
                ok = ok && pass
                parts.append("\(fmt(x)) \(pass ? ">=" : "<") min \(fmt(lo))")
            }
            if let hi = rule.max {
                let pass = x <= hi
                ok = ok && pass
                parts.append("\(fmt(x)) \(pass ? "<=" : ">") max \(fmt(hi))")
            }
            var alert = false
            if let a = rule.alertBelow, x < a { alert = true; parts.append("below the alert line \(fmt(a))") }
            if let a = rule.alertAbove, x > a { alert = true; parts.append("above the alert line \(fmt(a))") }
            if alert { ok = false }
            if rule.min == nil && rule.max == nil && rule.alertBelow == nil && rule.alertAbove == nil {
                ok = false; parts.append("rule has neither min nor max")
            } else if parts.isEmpty { parts.append(fmt(x)) }
            results.append(RuleResult(rule: rule, passed: ok, measured: x,
                                      reason: "\(label) = " + parts.joined(separator: ", "), alert: alert))
        }
        return GateVerdict(results: results)
    }
}

extension Gate {
    /// A regression rule checked on a paired comparison: `difference` is agent − reference per
    /// user over the same users (its interval from a user-level bootstrap), `reference` the
    /// reference's value of the metric. Degradation = −difference / |reference| (every metric a
    /// regression rule may name is higher-is-better); `on: ci_low` checks the worst end of the
    /// interval, `ci_high` the best, `value` the point.
    public static func evaluateRegression(_ rule: GateRule, difference: (value: Double, ciLow: Double, ciHigh: Double, users: Int),
                                          reference: Double, agentID: String, referenceID: String) -> RuleResult {
        let limit = rule.maxDegradation ?? 0
        let scale = abs(reference)
        let label = "\(rule.agent) \(rule.metric) vs \(rule.relativeTo ?? "?")"
        guard scale > 0, scale.isFinite, difference.value.isFinite else {
            return RuleResult(rule: rule, passed: false, measured: nil,
                              reason: "\(label): not measurable (reference value \(fmt(reference)), difference \(fmt(difference.value)))")
        }
        let d = rule.on.pick(value: difference.value, ciLow: difference.ciLow, ciHigh: difference.ciHigh)
        guard d.isFinite else {
            return RuleResult(rule: rule, passed: false, measured: nil, reason: "\(label): the paired interval is not measurable")
        }
        let degradation = -d / scale
        let ok = degradation <= limit
        let pct = { (x: Double) in String(format: "%.1f%%", 100 * x) }
        let reason = "\(label) (\(rule.on.rawValue)): degradation \(pct(degradation)) \(ok ? "<=" : ">") \(pct(limit)); "
            + "\(agentID.prefix(8)) − \(referenceID.prefix(8)) = \(fmt(difference.value)) [\(fmt(difference.ciLow)), \(fmt(difference.ciHigh))] "
            + "over \(difference.users) paired users, reference \(fmt(reference))"
        return RuleResult(rule: rule, passed: ok, measured: degradation, reason: reason)
    }
}
