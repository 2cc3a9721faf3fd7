import Foundation
import GymCore
import GymEval
import GymReports
import GymScenario
import GymStore
import GymRandom
import GymSim

extension AgentRun {
    /// What the episode logs record as `model_version`: the checkpoint's content-addressed id.
    public var modelVersion: String { checkpointID ?? "\(name)@optima-gym-\(projectVersion)" }
}

/// Turns a finished run into the store's rows, and registers them.
public enum StoreRegistration {
    /// The store's rows for a run: the run, its agents and checkpoints, metrics, paired
    /// comparisons and, when `withLogs`, every evaluation decision and signal (the same rows as the
    /// JSONL logs).
    public static func rows(report: RunReport, runs: [AgentRun], kind: String, scenarioText: String, seed: UInt64, startedAt: Date,
                            reportDir: String, withLogs: Bool, actionLabel: (Int) -> String) -> RunImport {
        var r = RunImport(runID: report.runID, kind: kind, scenario: report.scenario, scenarioFile: report.scenarioFile, scenarioText: scenarioText,
                          seed: seed, startedAt: ISO8601DateFormatter().string(from: startedAt), wallTimeSeconds: report.wallTimeSeconds,
                          projectVersion: projectVersion, reportDir: reportDir, gatePassed: report.verdict.results.isEmpty ? nil : report.verdict.passed)
        for run in runs {
            r.agents.append(.init(name: run.name, checkpointID: run.checkpointID, isUpperBound: run.isUpperBound,
                                  trainingDecisions: run.trainingRewards.count, evaluationDecisions: run.evaluation.episodes.count))
            for m in run.metrics {
                r.metrics.append(.init(agent: run.name, name: m.name, value: m.value, ciLow: m.ciLow, ciHigh: m.ciHigh, n: m.count, note: m.note))
            }
            if let data = run.checkpoint, let id = run.checkpointID {
                var perf: [String: Double] = [:]
                for m in run.metrics where m.value.isFinite { perf[m.name] = m.value }
                let lineage = (try? JSONSerialization.jsonObject(with: data) as? [String: Any])?["lineage"]
                r.checkpoints.append(.init(id: id, modelType: run.checkpointType ?? run.spec.name, agent: run.name, weightsURL: "inline",
                                           performanceMetrics: json(perf), trainingDate: ISO8601DateFormatter().string(from: startedAt),
                                           lineage: lineage.flatMap { try? JSONSerialization.data(withJSONObject: $0, options: [.sortedKeys]) }
                                               .map { String(decoding: $0, as: UTF8.self) } ?? "{}",
                                           parentID: (lineage as? [String: Any])?["parent_id"] as? String, payload: data))
            }
        }
        // The logs' rows, one agent per thread (a 100,000-decision run has ~300,000 ids to format).
        if withLogs {
            var logs = [(episodes: [RunImport.Episode], signals: [RunImport.Signal])](repeating: ([], []), count: runs.count)
            let lock = NSLock()
            DispatchQueue.concurrentPerform(iterations: runs.count) { i in
                let rows = logRows(runs[i], seed: seed, actionLabel: actionLabel)
                lock.lock(); logs[i] = rows; lock.unlock()
            }
            for l in logs { r.episodes += l.episodes; r.signals += l.signals }
        }
        for c in report.comparisons {
            r.comparisons.append(.init(metric: c.metric, a: c.a, b: c.b, value: c.value, ciLow: c.ciLow, ciHigh: c.ciHigh, users: c.users))
        }
        return r
    }

    static func logRows(_ run: AgentRun, seed: UInt64, actionLabel: (Int) -> String) -> (episodes: [RunImport.Episode], signals: [RunImport.Signal]) {
        let model = run.modelVersion
        var episodes: [RunImport.Episode] = [], signals: [RunImport.Signal] = []
        episodes.reserveCapacity(run.evaluation.episodes.count)
        signals.reserveCapacity(run.evaluation.signals.count)
        for e in run.evaluation.episodes {
            episodes.append(.init(episodeID: EpisodeLog.uuid(seed: seed, "\(run.name)/episode/\(e.index)"),
                                  userID: EpisodeLog.uuid(seed: seed, "user/\(e.user)"),
                                  contextSnapshot: e.index < run.contexts.count ? run.contexts[e.index] : "{}",
                                  actionTaken: actionLabel(e.action), outcome: e.outcome.name, rewardScore: e.reward,
                                  timestamp: EpisodeLog.timestamp(e.time), modelVersion: model,
                                  propensity: e.propensity, journeyStep: e.journeyStep))
        }
        for (i, s) in run.evaluation.signals.enumerated() {
            signals.append(.init(signalID: EpisodeLog.uuid(seed: seed, "\(run.name)/signal/\(i)"),
                                 episodeID: EpisodeLog.uuid(seed: seed, "\(run.name)/episode/\(s.episode)"),
                                 signalType: s.kind.name, value: s.value, latency: s.latency.isFinite ? Int(s.latency.rounded()) : 0,
                                 confidence: s.confidence))
        }
        return (episodes, signals)
    }

    /// The blueprint's `synthetic_profiles` for a run: the evaluation world's simulated users
    /// (profile_id is the user_id of the logs), persona vectors as float32 little-endian bytes,
    /// traits, and the parameters of their simulated behaviour.
    public static func profiles(_ scenario: Scenario, seed: UInt64) -> [RunImport.Profile] {
        let generator = (try? GeneratorKind.named(scenario.generator)) ?? .mt19937
        let p = Population.generate(scenario.sim.population, seed: SeedTree(root: seed).child("sim.eval").child("population"), generator: generator)
        let groups = scenario.sim.population.groups.map(\.name)
        let source = scenario.sim.population.fromModel == nil ? "generated" : "generated (persona model of real data)"
        var out: [RunImport.Profile] = []
        out.reserveCapacity(p.size)
        for u in 0..<p.size {
            var vector = [UInt8]()
            vector.reserveCapacity(p.personaDimension * 4)
            for k in 0..<p.personaDimension {
                let bits = p.persona[u * p.personaDimension + k].bitPattern
                for b in 0..<4 { vector.append(UInt8(truncatingIfNeeded: bits >> (8 * b))) }
            }
            var traits: [String: Any] = [:]
            for (k, name) in traitNames.enumerated() { traits[name] = p.traits[u * 5 + k] }
            traits["group"] = Int(p.group[u]) < groups.count ? groups[Int(p.group[u])] : String(p.group[u])
            traits["dominant_topic"] = Int(p.block[u])
            let history: [String: Any] = ["activity_per_day": p.activity[u], "chronotype_hour": p.chronotype[u], "initial_trust": p.initialTrust[u]]
            func text(_ o: [String: Any]) -> String {
                (try? JSONSerialization.data(withJSONObject: o, options: [.sortedKeys])).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
            }
            out.append(.init(profileID: EpisodeLog.uuid(seed: seed, "user/\(u)"), personaVector: Data(vector), traits: text(traits),
                             interactionHistory: text(history), source: source))
        }
        return out
    }

    static func json(_ d: [String: Double]) -> String {
        let finite = d.filter { $0.value.isFinite }
        guard let data = try? JSONSerialization.data(withJSONObject: finite, options: [.sortedKeys]) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }

    /// Registers `rows` in the store at `path` (one transaction), reporting on `progress`.
    public static func register(_ rows: RunImport, storePath: String, progress: Progress?) throws {
        let start = Date()
        let store = try Store(path: storePath)
        try store.register(rows)
        progress?.note(String(format: "store: registered run %@ in %@ (%d decisions, %d signals, %d models, %d profiles) in %.2f s",
                              rows.runID, storePath, rows.episodes.count, rows.signals.count, rows.checkpoints.count, rows.profiles.count,
                              Date().timeIntervalSince(start)))
    }
}
