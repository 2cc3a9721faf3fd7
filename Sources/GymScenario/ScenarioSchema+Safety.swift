import Foundation
import GymEval
import Yams

// The `safety` section: circuit breakers and the fallback that decides while one is open.

extension ScenarioSchema {
    static var breakerSchema: Schema<BreakerConfig> {
        Schema(fields: [
            Field.choice("kind", \BreakerConfig.kind,
                         "What the breaker watches: `intervention_fpr` (interventions to users not distressed, over those users' decisions), `group_parity` (lowest group success rate over the highest), `opt_out_rate` (opt-outs per decision), `detector` (an anomaly detector's alarm).").required(),
            .text("name", \.name, allowed: "1-64 characters, unique", "The breaker's name in reports (default: its kind).",
                  defaultText: { _ in "the kind" }, sample: "fpr_guard", validate: { labelProblem($0, what: "breaker") }),
            .number("threshold", \.threshold, .closed(0, 1),
                    "The constraint: the most `intervention_fpr` and `opt_out_rate` may reach, the least `group_parity` may fall to (the blueprint's alert line is 0.9). Required but for `detector`."),
            .integer("window", \.window, 1...10_000_000, "Decisions in the sliding window the statistic is computed over."),
            .integer("min_decisions", \.minDecisions, 1...10_000_000,
                     "Decisions the window needs before the breaker can trip: users not distressed for `intervention_fpr`, per group for `group_parity` (at most `window`). `opt_out_rate` waits for a full window."),
            .integer("cooldown", \.cooldown, 1...100_000_000,
                     "The reset rule: decisions the fallback makes after a trip; then the breaker closes, its window starts empty and the agent decides again."),
            .choice("detector", \.detector, options: { ["any", "reward_shift", "action_drift", "group_drift"] },
                    "For `detector`: which detector trips it (`any`: any but the outlier screen). A detector breaker runs the detectors (as `evaluation.detectors`)."),
        ])
    }

    static var breakersField: Field<Scenario> {
        Field(key: "safety.breakers", type: "list of breakers", allowed: "0 to 16 breakers, unique names",
              doc: "Circuit breakers checked after every decision of training and evaluation; while any is open, `safety.fallback` decides. See below.",
              defaultText: { s in s.safety.breakers.isEmpty ? "none" : s.safety.breakers.map(\.label).joined(separator: ", ") },
              read: readBreakers, sample: { _ in "[{kind: intervention_fpr, threshold: 0.1}]" })
            .withDetails(breakersDetails)
    }

    static func readBreakers(_ node: Node, _ keyPath: String, _ root: inout Scenario, _ context: inout ReadContext) {
        let here = node.location ?? .start
        guard case let .sequence(sequence) = node else {
            context.error(here, keyPath, "expected a list of breakers ({kind, threshold, window, ...}), got \(node.shortDescription)")
            return
        }
        guard sequence.count <= 16 else {
            context.error(here, keyPath, "expected at most 16 breakers, got \(sequence.count)")
            return
        }
        let schema = breakerSchema
        let before = context.sink.count
        var breakers: [BreakerConfig] = []
        var firstLine: [String: Int] = [:]
        for (i, item) in sequence.enumerated() {
            let itemPath = "\(keyPath)[\(i)]"
            var b = BreakerConfig()
            let errors = context.sink.count
            schema.read(item, into: &b, prefix: itemPath, context: &context, fallback: item.location ?? here)
            guard context.sink.count == errors else { continue }
            let at = item.location ?? here
            if b.kind != .detector && context.locations["\(itemPath).threshold"] == nil {
                context.error(at, "\(itemPath).threshold", "a \(b.kind.rawValue) breaker needs a threshold (\(b.kind == .groupParity ? "the least parity allowed, e.g. 0.9" : "the most allowed, e.g. 0.1"))")
                continue
            }
            if b.minDecisions > b.window && b.kind != .detector {
                context.error(context.locations["\(itemPath).min_decisions"] ?? at, "\(itemPath).min_decisions",
                              "min_decisions (\(b.minDecisions)) must be at most window (\(b.window))")
                continue
            }
            if b.kind == .detector, context.locations["\(itemPath).threshold"] != nil {
                context.error(context.locations["\(itemPath).threshold"]!, "\(itemPath).threshold", "a detector breaker has no threshold (the detector's alarm trips it)")
                continue
            }
            if b.kind != .detector, context.locations["\(itemPath).detector"] != nil {
                context.error(context.locations["\(itemPath).detector"]!, "\(itemPath).detector", "only a detector breaker names a detector")
                continue
            }
            let nameLocation = context.locations["\(itemPath).name"] ?? at
            if let line = firstLine[b.label] {
                context.error(nameLocation, "\(itemPath).name", "breaker '\(b.label)' is already defined at line \(line); give one of them a name")
                continue
            }
            firstLine[b.label] = nameLocation.line
            breakers.append(b)
        }
        if context.sink.count == before { root.safety.breakers = breakers }
    }

    static func breakersDetails() -> String {
        var md = """
            ### `safety.breakers`

            A list of circuit breakers, for example:

            ```yaml
            safety:
              fallback: no_action
              breakers:
                - {kind: intervention_fpr, threshold: 0.1, window: 500, min_decisions: 100, cooldown: 2000}
                - {kind: group_parity, threshold: 0.9, window: 20000, min_decisions: 2000}
                - {kind: opt_out_rate, threshold: 0.002, window: 5000}
                - {kind: detector, detector: action_drift, cooldown: 5000}
            ```

            After every decision each closed breaker adds the decision to its window and checks its
            constraint on the simulator's truth at the time of the decision (whether the user was
            distressed, the episode's outcome, the opt-outs it caused). A deployed system learns
            outcomes only as their signals arrive, so these breakers react as fast as the truth allows.
            When one trips, `safety.fallback` decides the next `cooldown` decisions; then the breaker
            closes with an empty window. The report counts the decisions made under the fallback and
            draws each breaker's state (`breakers.svg`); `breakers/<agent>.jsonl` lists every trip.
            Keys of each breaker:


            """
        md += markdownTable(breakerSchema, defaults: BreakerConfig(), prefix: "")
        return md
    }
}
