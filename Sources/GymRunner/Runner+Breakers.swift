import Foundation
import GymCore
import GymData
import GymEval
import GymReports
import GymScenario
import GymSim

/// The scenario's circuit breakers over one phase (training or evaluation) of one agent: before
/// each decision it says which actions the acting policy may take (the fallback's restricted
/// mask while a breaker is open), after it feeds the breakers what happened.
public final class SafetyMonitor {
    private(set) var suite: BreakerSuite
    /// The phase's own anomaly detectors (training, with a detector breaker), else nil: the
    /// evaluation passes its detectors' alarms in.
    var detectors: DetectorSuite?
    let fallback: FallbackPolicy
    let isIntervention: [Bool]
    private(set) var underFallback = false

    init?(_ scenario: Scenario, world: JourneyWorld, ownDetectors: Bool) {
        guard !scenario.safety.breakers.isEmpty else { return nil }
        suite = BreakerSuite(config: scenario.safety, groups: scenario.sim.population.groups.count)
        fallback = scenario.safety.fallback
        let layout = world.actionLayout
        let family = layout.familyIndex("intervention")
        isIntervention = (0..<layout.count).map { layout.family(of: $0) == family }
        if ownDetectors, scenario.safety.breakers.contains(where: { $0.kind == .detector }) {
            detectors = Runner.makeDetectors(scenario, world: world, force: true)
        }
    }

    /// The mask decision `k` is taken under.
    func mask(_ mask: [Bool], decision k: Int) -> [Bool] {
        underFallback = suite.fallbackDecides(k)
        guard underFallback else { return mask }
        let flags = isIntervention
        return fallback.restrict(mask, isIntervention: { flags[$0] })
    }

    /// Decision `k` was just taken on `world` (`feedback`: the signals that arrived with it,
    /// numbered as the decisions); `alarms` are the detectors that alarmed at it
    /// (ignored when the monitor runs its own detectors).
    func after(decision k: Int, world: JourneyWorld, result: StepResult, feedback: [Feedback], alarms: [String] = []) {
        let e = world.lastEpisode
        var alarms = alarms
        if detectors != nil {
            let before = detectors!.alarms.count
            Runner.observe(&detectors!, world: world, decision: k, feedback: feedback)
            alarms = detectors!.alarms[before...].map(\.detector)
        }
        let o = BreakerObservation(group: e.group, distressed: e.distressed, isIntervention: e.kind == .intervention,
                                   success: e.outcome == .success, optOuts: result.endedJourneys.reduce(0) { $0 + ($1.optedOut ? 1 : 0) })
        suite.afterDecision(k, o, alarms: alarms)
    }
}

/// What the breakers did over one phase.
public struct BreakerLog: Sendable {
    public var trips: [BreakerTrip]
    public var fallbackDecisions: Int
    public var decisions: Int
    public var openShares: [(breaker: String, shares: [Double])]
    public var openDecisions: [Int]
    public var chartEvery: Int
    public var fallback: String
    init(_ s: BreakerSuite) {
        trips = s.trips; fallbackDecisions = s.fallbackDecisions; decisions = s.decisions
        openShares = s.openShares; openDecisions = s.openDecisions; chartEvery = s.config.chartEvery; fallback = s.config.fallback.rawValue
    }
}

extension Runner {
    /// The counts of the anomaly detectors and the circuit breakers over an agent's evaluation, as
    /// metrics a gate rule can name (after the catalogue's metrics).
    static func safetyMetrics(_ run: AgentRun) -> [MetricValue] {
        (run.anomalies.map(anomalyMetrics) ?? []) + (run.breakers.map(breakerMetrics) ?? [])
    }

    /// Writes each agent's anomaly and breaker logs, adds their notes to the runs, and returns the
    /// files written.
    static func writeSafetyOutputs(_ runs: inout [AgentRun], to dir: AtomicDirectory) throws -> [String] {
        var files: [String] = []
        for i in runs.indices {
            let name = runs[i].name
            if let a = runs[i].anomalies {
                try dir.write("anomalies/\(name).jsonl", anomaliesJSONL(a, agent: name))
                runs[i].notes.append(anomalyNote(a, agent: name))
                files.append("anomalies/\(name).jsonl")
            }
            guard runs[i].breakers != nil || runs[i].trainingBreakers != nil else { continue }
            var text = ""
            if let t = runs[i].trainingBreakers {
                text += breakersJSONL(t, agent: name, phase: "training")
                runs[i].notes.append(breakerNote(t, agent: name, phase: "training"))
            }
            if let e = runs[i].breakers {
                text += breakersJSONL(e, agent: name, phase: "evaluation")
                runs[i].notes.append(breakerNote(e, agent: name, phase: "evaluation"))
            }
            try dir.write("breakers/\(name).jsonl", text)
            files.append("breakers/\(name).jsonl")
        }
        if runs.contains(where: { $0.breakers != nil }) { files += ["breakers.csv", "breakers.svg"] }
        return files
    }

    /// The report's summary of an agent's breakers over its evaluation.
    static func breakerSummary(_ log: BreakerLog, agent: String) -> BreakerSummary {
        BreakerSummary(agent: agent, fallback: log.fallback, decisions: log.decisions, fallbackDecisions: log.fallbackDecisions, every: log.chartEvery,
                       breakers: log.openShares.enumerated().map { i, b in
                           (b.breaker, log.trips.filter { $0.breaker == b.breaker }.count, log.openDecisions[i], b.shares)
                       })
    }

    /// One JSON line per trip: the breaker, when it opened and closed, the statistic and why.
    static func breakersJSONL(_ log: BreakerLog, agent: String, phase: String) -> String {
        var out = ""
        for t in log.trips {
            out += "{\"agent\":\(JSON.escape(agent)),\"phase\":\"\(phase)\",\"breaker\":\(JSON.escape(t.breaker)),\"opened_after\":\(t.openedAfter),"
            out += "\"closed_at\":\(t.closedAt.map(String.init) ?? "null"),\"statistic\":\(t.statistic.isFinite ? t.statistic.description : "null"),"
            out += "\"fallback\":\"\(log.fallback)\",\"reason\":\(JSON.escape(t.reason))}\n"
        }
        return out
    }

    /// The report's line on an agent's breakers in one phase.
    static func breakerNote(_ log: BreakerLog, agent: String, phase: String) -> String {
        let share = log.decisions > 0 ? 100 * Double(log.fallbackDecisions) / Double(log.decisions) : 0
        var s = "circuit breakers (\(phase)): \(log.trips.count) trip\(log.trips.count == 1 ? "" : "s"), \(log.fallbackDecisions) of \(log.decisions) decisions made under the fallback \(log.fallback) (\(String(format: "%.1f", share))%)"
        if let first = log.trips.first {
            s += "; first: \(first.breaker) after decision \(first.openedAfter) (\(first.reason))"
        }
        return s
    }

    /// The evaluation's breaker figures as metrics a gate rule can name: exact counts and shares.
    static func breakerMetrics(_ log: BreakerLog) -> [MetricValue] {
        let share = log.decisions > 0 ? Double(log.fallbackDecisions) / Double(log.decisions) : .nan
        return [
            MetricValue(name: "breakers.trips", value: Double(log.trips.count), ciLow: Double(log.trips.count), ciHigh: Double(log.trips.count),
                        count: log.trips.count, note: "circuit-breaker trips over the evaluation (breakers/<agent>.jsonl)"),
            MetricValue(name: "breakers.fallback_share", value: share, ciLow: share, ciHigh: share, count: log.decisions,
                        note: "share of the evaluation's decisions made under the fallback (\(log.fallbackDecisions) of \(log.decisions))"),
        ]
    }
}
