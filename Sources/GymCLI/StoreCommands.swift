import ArgumentParser
import Foundation
import GymStore

/// `runs list|show`: what the store holds.
struct RunsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runs",
        abstract: "List or show the runs registered in the store.",
        subcommands: [RunsList.self, RunsShow.self]
    )
}

struct RunsList: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "Registered runs, newest first (tab-separated).")

    @OptionGroup var store: StoreReadOption

    @Option(help: "Only runs of this scenario (its `name:`).")
    var scenario: String?

    @Option(help: "At most this many runs.")
    var limit: Int = 50

    func validate() throws {
        guard (1...1_000_000).contains(limit) else { throw ValidationError("--limit must be in [1, 1000000], got \(limit)") }
    }

    func run() throws {
        let s = try store.open()
        print(["run_id", "kind", "scenario", "seed", "started_at", "wall_s", "gate", "agents", "episodes", "report_dir"].joined(separator: "\t"))
        for r in try s.runs(scenario: scenario, limit: limit) {
            print([r.runID, r.kind, r.scenario, r.seed, r.startedAt, String(format: "%.1f", r.wallTimeSeconds),
                   r.gatePassed.map { $0 ? "passed" : "failed" } ?? "-", String(r.agents), String(r.episodes), r.reportDir].joined(separator: "\t"))
        }
    }
}

struct RunsShow: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "One run: its agents and models, metrics and gate verdicts.")

    @Argument(help: "A run id, a unique prefix of one, or its report directory.")
    var runRef: String

    @OptionGroup var store: StoreReadOption

    func run() throws {
        let s = try store.open()
        let d = try s.run(runRef)
        print("run \(d.summary.runID) (\(d.summary.kind)): scenario \(d.summary.scenario) from \(d.scenarioFile), seed \(d.summary.seed)")
        print("started \(d.summary.startedAt), \(String(format: "%.1f", d.summary.wallTimeSeconds)) s; report in \(d.summary.reportDir)")
        print("\(d.summary.episodes) logged decisions, \(d.profiles) synthetic profiles (the evaluation world's users)")
        print("agents:")
        for a in d.agents {
            print("  \(a.name)\(a.isUpperBound ? " (upper bound)" : "")\tmodel \(a.checkpointID ?? "-")\ttraining \(a.trainingDecisions)\tevaluation \(a.evaluationDecisions)")
        }
        print("metrics:")
        print("  agent\tmetric\tvalue\tci_low\tci_high\tn")
        for m in d.metrics {
            print("  " + [m.agent, m.name, fmt(m.value), fmt(m.ciLow), fmt(m.ciHigh), String(m.n)].joined(separator: "\t") + (m.value == nil ? "\t\(m.note ?? "")" : ""))
        }
        if d.verdicts.isEmpty { print("gate verdicts: none recorded by `optima-gym gate`") } else {
            print("gate verdicts:")
            for v in d.verdicts {
                print("  #\(v.id) \(v.at) \(v.mode) \(v.rulesFile): \(v.passed ? "passed" : "FAILED")\(v.action.map { "; \($0)" } ?? "")")
            }
        }
    }
}

func fmt(_ x: Double?) -> String { x.map { String(format: "%.6g", $0) } ?? "-" }

/// `episodes --user ID`: one user's decisions across runs (the blueprint's GET /api/ml/episodes/:user_id).
struct EpisodesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "episodes",
        abstract: "One user's logged decisions across runs, in time order (tab-separated; --json for JSON Lines with the context snapshot)."
    )

    @Option(help: "The user's id (user_id in training_episodes).")
    var user: String

    @OptionGroup var store: StoreReadOption

    @Option(help: "At most this many decisions.")
    var limit: Int = 1000

    @Flag(help: "One JSON object per line, with the context snapshot.")
    var json = false

    func validate() throws {
        guard (1...10_000_000).contains(limit) else { throw ValidationError("--limit must be in [1, 10000000], got \(limit)") }
    }

    func run() throws {
        let s = try store.open()
        let rows = try s.episodes(user: user, limit: limit)
        if rows.isEmpty {
            throw StoreError.notFound(path: s.path, what: "no logged decision of user '\(user)' (runs registered with --no-logs or logging.episodes: false have none)")
        }
        if !json { print(["run_id", "episode_id", "timestamp", "action_taken", "outcome", "reward_score", "model_version", "propensity"].joined(separator: "\t")) }
        for (run, e) in rows {
            if json {
                let obj: [String: Any] = ["run_id": run, "episode_id": e.episodeID, "user_id": e.userID, "timestamp": e.timestamp,
                                          "action_taken": e.actionTaken, "outcome": e.outcome, "reward_score": e.rewardScore,
                                          "model_version": e.modelVersion, "propensity": e.propensity ?? NSNull(),
                                          "context_snapshot": (try? JSONSerialization.jsonObject(with: Data(e.contextSnapshot.utf8))) ?? [:]]
                let data = try JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys])
                print(String(decoding: data, as: UTF8.self))
            } else {
                print([run, e.episodeID, e.timestamp, e.actionTaken, e.outcome, fmt(e.rewardScore), e.modelVersion, fmt(e.propensity)].joined(separator: "\t"))
            }
        }
    }
}

/// `metrics --model ID`: a model's metrics in every run that evaluated it (GET /api/ml/metrics/:model_id).
struct MetricsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "metrics",
        abstract: "A registered model's metrics in every run that evaluated it (tab-separated)."
    )

    @Option(help: "A model: an alias (champion), a checkpoint id or a unique prefix of one.")
    var model: String

    @OptionGroup var store: StoreReadOption

    @Option(help: "Only this metric.")
    var metric: String?

    func run() throws {
        let s = try store.open()
        let rows = try s.metrics(model: model).filter { metric == nil || $0.metric.name == metric }
        print(["run_id", "agent", "metric", "value", "ci_low", "ci_high", "n"].joined(separator: "\t"))
        for (run, m) in rows {
            print([run, m.agent, m.name, fmt(m.value), fmt(m.ciLow), fmt(m.ciHigh), String(m.n)].joined(separator: "\t"))
        }
    }
}
