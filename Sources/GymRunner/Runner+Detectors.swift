import Foundation
import GymCore
import GymReports
import GymEval
import GymScenario
import GymSim

extension Runner {
    /// The scenario's detectors for an evaluation on `world` (nil when off). A detector breaker
    /// (`safety.breakers`) turns them on; `force` turns them on with the default settings.
    static func makeDetectors(_ scenario: Scenario, world: JourneyWorld, force: Bool = false) -> DetectorSuite? {
        let needed = force || scenario.safety.breakers.contains { $0.kind == .detector }
        guard var c = scenario.evaluation.eval.detectors ?? (needed ? DetectorConfig() : nil) else { return nil }
        c.burnInDecisions = scenario.evaluation.eval.detectorBurnIn
        return DetectorSuite(config: c, actionLabels: (0..<world.actionLayout.count).map { world.actionLayout.label(of: $0) },
                             groupNames: scenario.sim.population.groups.map { $0.name })
    }

    /// Feeds the decision just taken on `world` and the signals that arrived with it.
    static func observe(_ d: inout DetectorSuite, world: JourneyWorld, decision k: Int, feedback: [Feedback]) {
        let e = world.lastEpisode
        d.observe(decision: k, action: e.action, user: e.user, group: e.group, isIntervention: e.kind == .intervention, feedback: feedback)
    }

    /// One JSON line per alarm or outlier flag, in the order raised.
    static func anomaliesJSONL(_ alarms: [DetectorAlarm], agent: String) -> String {
        func num(_ x: Double) -> String { x.isFinite ? x.description : "null" }
        var out = ""
        for a in alarms {
            out += "{\"agent\":\(JSON.escape(agent)),\"detector\":\(JSON.escape(a.detector)),\"decision\":\(a.decision),"
            out += "\"statistic\":\(num(a.statistic)),\"threshold\":\(num(a.threshold)),\"reason\":\(JSON.escape(a.reason))}\n"
        }
        return out
    }

    /// The report's line on an agent's detectors: how many alarms and outlier flags, the first
    /// alarms with when and why.
    static func anomalyNote(_ alarms: [DetectorAlarm], agent: String) -> String {
        let drift = alarms.filter { $0.detector != "outlier_user" }, outliers = alarms.count - drift.count
        var s = "anomaly detectors: \(drift.count) alarm\(drift.count == 1 ? "" : "s"), \(outliers) outlier user\(outliers == 1 ? "" : "s") for review (anomalies/\(agent).jsonl)"
        if !drift.isEmpty {
            s += ": " + drift.prefix(3).map { "\($0.detector) at decision \($0.decision) (\($0.reason))" }.joined(separator: "; ")
            if drift.count > 3 { s += "; ..." }
        }
        return s
    }

    /// The alarm counts as metrics a gate rule can name (`anomalies.alarms <= 0`): exact counts,
    /// so the interval is the value itself.
    static func anomalyMetrics(_ alarms: [DetectorAlarm]) -> [MetricValue] {
        func count(_ name: String, _ n: Int, _ note: String) -> MetricValue {
            MetricValue(name: name, value: Double(n), ciLow: Double(n), ciHigh: Double(n), count: n, note: note)
        }
        let drift = alarms.filter { $0.detector != "outlier_user" }
        var out = [count("anomalies.alarms", drift.count, "alarms of the anomaly detectors over the evaluation (anomalies/<agent>.jsonl)")]
        for d in ["reward_shift", "action_drift", "group_drift"] {
            out.append(count("anomalies.\(d)", drift.filter { $0.detector == d }.count, "\(d) alarms"))
        }
        out.append(count("anomalies.outlier_users", alarms.count - drift.count, "users flagged for review by robust z-scores"))
        return out
    }
}
