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
}

/// The gate's verdict: passed only when every rule passed (an empty rule list passes).
public struct GateVerdict: Sendable, Equatable {
    public let results: [RuleResult]
    public var passed: Bool { results.allSatisfy { $0.passed } }
    public var failures: [RuleResult] { results.filter { !$0.passed } }
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
            let x: Double
            switch rule.on {
            case .value: x = m.value
            case .ciLow: x = m.ciLow
            case .ciHigh: x = m.ciHigh
            }
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
            if rule.min == nil && rule.max == nil { ok = false; parts.append("rule has neither min nor max") }
            results.append(RuleResult(rule: rule, passed: ok, measured: x,
                                      reason: "\(label) = " + parts.joined(separator: ", ")))
        }
        return GateVerdict(results: results)
    }
}
