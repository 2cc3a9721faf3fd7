import Foundation
import GymAgents
import GymCore
import GymData
import GymReports
import GymScenario
import GymSim

/// One evaluation decision's explanation as a run keeps it: the context, and the model's
/// explanation with its `top` attributions (by size) and the sum of all of them.
public struct ExplanationRow: Sendable {
    public var decision: Int
    public var contextSummary: String
    public var context: [(String, Double)]
    public var explanation: ActionExplanation?
    public var attributionSum: Double
    public static let top = 5
}

extension Runner {
    /// Writes `explanations/<agent>.jsonl` for every run that kept explanations; returns the files.
    static func writeExplanations(_ runs: [AgentRun], scenario: Scenario, seed: UInt64, to dir: AtomicDirectory) throws -> [String] {
        let layout = JourneyWorld(config: scenario.sim).actionLayout
        var files: [String] = []
        for run in runs {
            guard let rows = run.explanations else { continue }
            let noModel: String
            switch run.spec {
            case .random: noModel = "the random agent has no model: it chose uniformly among the allowed actions"
            case .oracle, .lookahead: noModel = "\(run.name) reads the simulator's hidden truth: an upper bound, not a model to explain"
            default: noModel = "\(run.name) does not explain its choices yet"
            }
            let rewards = scenario.sim.rewards
            try dir.write("explanations/\(run.name).jsonl",
                          explanationsJSONL(run, rows: rows, seed: seed, weight: { rewards.weight($0.rawValue, at: $1) },
                                            actionLabel: { layout.label(of: $0) }, noModel: noModel))
            files.append("explanations/\(run.name).jsonl")
        }
        return files
    }

    /// The user's state at a decision, in words and numbers, from the observation (decoded as
    /// JourneyWorld+Observation encodes it).
    static func contextOf(_ o: [Double], layout: ObservationLayout) -> (summary: String, numbers: [(String, Double)]) {
        func v(_ seg: String, _ f: String) -> Double? { layout.segment(seg)?.index(named: f).map { o[$0] } }
        var numbers: [(String, Double)] = []
        var words: [String] = []
        if let s = v("pulse", "stress") {
            numbers.append(("stress", s))
            words.append(String(format: "stress %.2f (%@)", s, s >= 0.6 ? "high" : (s <= 0.3 ? "low" : "moderate")))
        }
        if let d = v("user", "days_since_last") {
            let days = expm1(d)
            numbers.append(("days_since_last_session", days))
            words.append(days <= 0 ? "first session" : String(format: "last session %.1f days ago", days))
        }
        if let day = v("user", "suggestions_day"), let week = v("user", "suggestions_week") {
            numbers.append(("suggestions_day", expm1(day))); numbers.append(("suggestions_week", expm1(week)))
            words.append(String(format: "%.1f suggestions in the last day and %.1f in the last week", expm1(day), expm1(week)))
        }
        if let a = v("user", "acceptances_week") {
            numbers.append(("acceptances_week", expm1(a)))
            words.append(String(format: "%.1f accepted in the last week", expm1(a)))
        }
        if let c = v("social", "active_connections"), let p = v("social", "pending_matches") {
            numbers.append(("active_connections", expm1(c).rounded())); numbers.append(("pending_matches", p))
            let n = expm1(c).rounded()
            words.append(String(format: "%.0f connection%@, %.2f pending matches", n, n == 1 ? "" : "s", p))
        }
        if let s = v("time", "hour_sin"), let c = v("time", "hour_cos") {
            var h = atan2(s, c) / (2 * .pi) * 24
            if h < 0 { h += 24 }
            numbers.append(("hour", h))
            words.append(String(format: "at %02d:%02d", Int(h) % 24, Int((h - h.rounded(.down)) * 60)))
        }
        return (words.joined(separator: ", "), numbers)
    }

    /// The row kept for decision `k`: the context, and the explanation trimmed to its top attributions.
    static func explanationRow(_ k: Int, observation o: [Double], layout: ObservationLayout, explanation: ActionExplanation?) -> ExplanationRow {
        let c = contextOf(o, layout: layout)
        var x = explanation
        let sum = x?.attributions.reduce(0) { $0 + $1.attribution } ?? .nan
        if var e = x {
            e.attributions = Array(e.attributions.enumerated().sorted { (abs($0.element.attribution), -$0.offset) > (abs($1.element.attribution), -$1.offset) }
                .prefix(ExplanationRow.top).map(\.element))
            x = e
        }
        return ExplanationRow(decision: k, contextSummary: c.summary, context: c.numbers, explanation: x, attributionSum: sum)
    }

    /// `explanations/<agent>.jsonl`: the blueprint's TrainingExplanation per evaluation decision
    /// (episode_id, context_summary, action_taken, expected_outcome, actual_outcome,
    /// reward_received, model_adjustment) with the numbers behind each.
    static func explanationsJSONL(_ run: AgentRun, rows: [ExplanationRow], seed: UInt64, weight: (SignalKind, Double) -> Double,
                                  actionLabel: (Int) -> String, noModel: String) -> String {
        let r = run.evaluation
        func num(_ x: Double) -> String { x.isFinite ? x.description : "null" }
        func f4(_ x: Double) -> String { String(format: "%.4f", x) }
        // The same user's next decision, for PPO's one-step advantage.
        var next = [Int](repeating: -1, count: r.episodes.count), last: [Int: Int] = [:]
        for (i, e) in r.episodes.enumerated() {
            if let p = last[e.user] { next[p] = i }
            last[e.user] = i
        }
        var out = ""
        for row in rows where row.decision < r.episodes.count {
            let e = r.episodes[row.decision]
            let uuid = DeterministicUUID.string(seed: seed, label: "\(run.name)/episode/\(e.index)")
            let user = DeterministicUUID.string(seed: seed, label: "user/\(e.user)")
            var signals: [String] = [], parts: [String] = []
            for s in r.signals[e.firstSignal..<(e.firstSignal + e.signalCount)] {
                let w = weight(s.kind, e.time)
                signals.append("{\"kind\":\"\(s.kind.name)\",\"value\":\(num(s.value)),\"weight\":\(num(w)),\"contribution\":\(num(w * s.value)),\"latency_hours\":\(num(s.latency / 3600))}")
                parts.append("\(s.kind.name) \(String(format: "%+.3f", s.value)) x \(String(format: "%.2f", w)) after \(String(format: "%.1f", s.latency / 3600)) h")
            }
            let actual = "\(e.outcome.name): reward \(f4(e.reward))" + (parts.isEmpty ? " (no signal)" : " = " + parts.joined(separator: " + "))
            var line = "{\"episode_id\":\"\(uuid)\",\"agent\":\(JSON.escape(run.name)),\"model_version\":\(JSON.escape(run.modelVersion)),"
            line += "\"decision\":\(e.index),\"user\":\(e.user),\"user_id\":\"\(user)\",\"time_days\":\(num(e.time / 86_400)),"
            line += "\"context_summary\":\(JSON.escape(row.contextSummary)),\"context\":{"
            line += row.context.map { "\(JSON.escape($0.0)):\(num($0.1))" }.joined(separator: ",") + "},"
            line += "\"action_taken\":\(JSON.escape(actionLabel(e.action))),\"propensity\":\(num(e.propensity)),"
            if let x = row.explanation {
                var change: Double?
                switch x.adjustmentTarget {
                case .reward: change = x.adjustmentBase + x.adjustmentSlope * e.reward
                case .advantage:
                    let v = x.expectedOutcome
                    if x.expectedMeaning.contains("journey") {
                        let n = next[row.decision]
                        let nextValue: Double?
                        if n >= 0, n < rows.count, rows[n].decision == n, let nx = rows[n].explanation {
                            nextValue = pow(r.discountPerDay, (r.episodes[n].time - e.time) / 86_400) * nx.expectedOutcome
                        } else if let left = r.users[e.user].leftAt, left >= e.time {
                            let penalty = r.users[e.user].optedOut ? r.optOutPenalty : r.churnPenalty
                            nextValue = pow(r.discountPerDay, (left - e.time) / 86_400) * penalty
                        } else { nextValue = nil }
                        change = nextValue.map { x.adjustmentSlope * (e.discountedReward + $0 - v) }
                    } else {
                        change = x.adjustmentSlope * (e.reward - v)
                    }
                }
                let top = x.attributions.map { "{\"feature\":\(JSON.escape($0.name)),\"value\":\(num($0.value)),\"baseline\":\(num($0.baseline)),\"attribution\":\(num($0.attribution))}" }
                line += "\"explanation\":{\"method\":\(JSON.escape(x.method)),\"score\":\(num(x.score)),\"baseline_score\":\(num(x.baselineScore)),"
                line += "\"baseline\":\(JSON.escape(x.baselineMeaning)),\"attribution_sum\":\(num(row.attributionSum)),"
                line += "\"completeness_error\":\(num(x.completenessError)),\"steps\":\(x.steps),\"top_features\":[\(top.joined(separator: ","))]},"
                let because = x.attributions.prefix(3).map { "\($0.name) \(String(format: "%+.3f", $0.attribution))" }.joined(separator: ", ")
                line += "\"expected_outcome\":\(JSON.escape("\(x.expectedMeaning) \(f4(x.expectedOutcome))")),"
                line += "\"why\":\(JSON.escape("score \(f4(x.score)) against \(f4(x.baselineScore)) for \(x.baselineMeaning), mostly from \(because)")),"
                line += "\"expected_value\":\(num(x.expectedOutcome)),"
                line += "\"actual_outcome\":\(JSON.escape(actual)),\"outcome\":\"\(e.outcome.name)\",\"reward_received\":\(num(e.reward)),\"signals\":[\(signals.joined(separator: ","))],"
                let adj = change.map { "\(x.adjustmentMeaning): \(String(format: "%+.5f", $0))" } ?? "\(x.adjustmentMeaning): not known (the user's journey was still open when the evaluation ended)"
                line += "\"model_adjustment\":\(JSON.escape(adj)),\"score_change\":\(change.map(num) ?? "null")}\n"
            } else {
                line += "\"explanation\":null,\"expected_outcome\":\(JSON.escape(noModel)),\"expected_value\":null,"
                line += "\"actual_outcome\":\(JSON.escape(actual)),\"outcome\":\"\(e.outcome.name)\",\"reward_received\":\(num(e.reward)),\"signals\":[\(signals.joined(separator: ","))],"
                line += "\"model_adjustment\":\(JSON.escape("none: \(noModel)")),\"score_change\":null}\n"
            }
            out += line
        }
        return out
    }
}
