import Foundation
import GymAgents
import GymScenario
import GymSim
import GymStore

/// `bench store`: the time to register a run's logs in the store against the time of the run
/// that produced them. The run: the random and epsilon-greedy agents on the baseline world,
/// `decisions` logged evaluation decisions in all (half each) after as many training decisions,
/// contexts captured as `run` does when it logs. The registration: every row of the run (the
/// logs' decisions and signals, metrics, checkpoints) into a fresh store, one transaction.
public enum StoreBenchmark {
    public struct Result: Sendable {
        public var decisions: Int
        public var signals: Int
        public var runSeconds: Double
        public var registerSeconds: Double
        public var storeBytes: Int
    }

    public static func run(decisions: Int, seed: UInt64, threads: Int) throws -> Result {
        var sc = Scenario(name: "bench_store")
        sc.agents = [.random, .epsilonGreedy(EpsilonGreedyConfig())]
        sc.training.episodes = decisions / 2
        sc.evaluation.episodes = decisions / 2
        sc.sim.population.size = max(1000, decisions / 50)
        sc.sim.sessions.maxDays = 365
        let started = Date()
        let t0 = DispatchTime.now().uptimeNanoseconds
        let result = try Runner.run(sc, seed: seed, threads: threads, captureContexts: true, progress: nil)
        let report = Runner.report(scenario: sc, scenarioFile: "(bench)", seed: seed, runs: result.runs, target: result.target,
                                   wallTime: 0, runID: "bench-store-\(seed)", files: [])
        let t1 = DispatchTime.now().uptimeNanoseconds
        let layout = JourneyWorld(config: sc.sim).actionLayout
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("optima-bench-store-\(getpid())")
        try? FileManager.default.removeItem(at: dir)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("optima.sqlite").path
        let rows = StoreRegistration.rows(report: report, runs: result.runs, kind: "run", scenarioText: "", seed: seed, startedAt: started,
                                          reportDir: dir.path, withLogs: true, actionLabel: { layout.label(of: $0) })
        try Store(path: path).register(rows)
        let t2 = DispatchTime.now().uptimeNanoseconds
        let bytes = ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).reduce(0) { total, f in
            total + (((try? FileManager.default.attributesOfItem(atPath: dir.appendingPathComponent(f).path))?[.size] as? NSNumber)?.intValue ?? 0)
        }
        return Result(decisions: rows.episodes.count, signals: rows.signals.count, runSeconds: Double(t1 - t0) / 1e9,
                      registerSeconds: Double(t2 - t1) / 1e9, storeBytes: bytes)
    }
}
