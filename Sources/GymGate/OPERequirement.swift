import Foundation
import GymEval

/// An off-policy gate rule from the command line: `ESTIMATOR[.value|.ci_low|.ci_high] >= BOUND`
/// or `<= BOUND`, where BOUND is a number or `logged` (the logging policy's value, its mean
/// reward), e.g. `dr.ci_low>=logged`.
public struct OPERequirement: Sendable, Equatable {
    /// The estimator's name (`OPEEstimator`'s raw values, or the journey estimators').
    public var estimator: String
    public var on: GateBound
    public var atLeast: Bool
    /// nil: the logged policy's value.
    public var bound: Double?
    public var text: String

    /// Parses one rule against the estimator names of the log's kind (the bandit ones by
    /// default); the error message quotes it.
    public static func parse(_ raw: String, estimators names: [String] = OPEEstimator.allCases.map(\.rawValue)) -> Result<OPERequirement, OPERequirementError> {
        let t = raw.replacingOccurrences(of: " ", with: "")
        let op = t.contains(">=") ? ">=" : (t.contains("<=") ? "<=" : "")
        guard !op.isEmpty else { return .failure(.init("'\(raw)': expected ESTIMATOR[.value|.ci_low|.ci_high]>=BOUND or <=BOUND")) }
        let sides = t.components(separatedBy: op)
        guard sides.count == 2 else { return .failure(.init("'\(raw)': one comparison expected")) }
        let lhs = sides[0].split(separator: ".", maxSplits: 1).map(String.init)
        guard let e = lhs.first, names.contains(e) else {
            return .failure(.init("'\(raw)': unknown estimator '\(lhs.first ?? "")' (one of \(names.joined(separator: ", ")))"))
        }
        var on = GateBound.value
        if lhs.count == 2 {
            guard let b = GateBound(rawValue: lhs[1]) else { return .failure(.init("'\(raw)': '\(lhs[1])' is not value, ci_low or ci_high")) }
            on = b
        }
        var bound: Double?
        if sides[1] != "logged" {
            guard let x = Double(sides[1]), x.isFinite else { return .failure(.init("'\(raw)': '\(sides[1])' is not a number or 'logged'")) }
            bound = x
        }
        return .success(OPERequirement(estimator: e, on: on, atLeast: op == ">=", bound: bound, text: raw))
    }
}

public struct OPERequirementError: Error, CustomStringConvertible, Equatable {
    public let description: String
    init(_ d: String) { description = d }
}

/// The off-policy gate: every requirement, plus the effective-sample-size floor, checked on one
/// candidate's estimates. A candidate whose ESS is below the floor fails whatever its estimates.
public enum OPEGate {
    public struct Result: Sendable {
        public var verdict: GateVerdict
        /// Per rule: what the report shows (the rule text and the reason, with the context a reader needs).
        public var lines: [(rule: String, passed: Bool, measured: Double?, detail: String)]
    }

    public static func evaluate(_ requirements: [OPERequirement], estimates: [OPEEstimate], effectiveSampleSize: Double, essFloor: Double,
                                loggedValue: Double, rows: Int) -> Result {
        evaluate(requirements, values: estimates.map { ($0.estimator.rawValue, $0.value, $0.ciLow, $0.ciHigh) },
                 effectiveSampleSize: effectiveSampleSize, essFloor: essFloor, loggedValue: loggedValue, rows: rows)
    }

    /// The same on named estimates (the journey estimators: `rows` is then the trajectories, and
    /// the ESS that of the whole-trajectory weights).
    public static func evaluate(_ requirements: [OPERequirement], values: [(name: String, value: Double, low: Double, high: Double)],
                                effectiveSampleSize: Double, essFloor: Double, loggedValue: Double, rows: Int, unit: String = "rows") -> Result {
        var rules: [GateRule] = []
        for q in requirements {
            let b = q.bound ?? loggedValue
            rules.append(GateRule(metric: q.estimator, agent: "candidate", min: q.atLeast ? b : nil, max: q.atLeast ? nil : b,
                                  on: q.on, source: "--require \(q.text)"))
        }
        rules.append(GateRule(metric: "ess", agent: "candidate", min: essFloor, on: .value, source: "--ess-floor"))
        var metrics = values.map { MetricValue(name: $0.name, value: $0.value, ciLow: $0.low, ciHigh: $0.high, count: rows) }
        metrics.append(MetricValue(name: "ess", value: effectiveSampleSize, ciLow: .nan, ciHigh: .nan, count: rows))
        let verdict = Gate.evaluate(rules, on: [AgentMetricSet(agent: "candidate", metrics: metrics)])
        let lines = verdict.results.map { res -> (String, Bool, Double?, String) in
            var why = res.reason
            if res.rule.metric == "ess" && !res.passed {
                why += " — the importance weights are worth only \(String(format: "%.1f", effectiveSampleSize)) \(unit): the candidate fails whatever its point estimates"
            }
            if res.rule.source?.contains("logged") == true { why += " (logged policy's value \(String(format: "%.6f", loggedValue)))" }
            return (res.rule.source ?? res.rule.metric, res.passed, res.measured, why)
        }
        return Result(verdict: verdict, lines: lines)
    }
}
