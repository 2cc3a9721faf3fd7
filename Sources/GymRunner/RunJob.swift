import Foundation
import GymAgents
import GymData
import GymEval
import GymGate
import GymRandom
import GymReports
import GymScenario
import GymSim

/// What `optima-gym run` asks for.
public struct RunRequest: Sendable {
    public var scenarioPath: String
    /// The root seed: this, else the scenario's `seed:`, else `freshSeed`.
    public var seed: UInt64?
    public var freshSeed: UInt64
    /// Output directory; nil: reports/<scenario>/<run-id>.
    public var out: String?
    public var threads: Int
    public var noLogs = false
    public var logObservations = false
    public var started = Date()

    public init(scenarioPath: String, seed: UInt64?, freshSeed: UInt64, out: String?, threads: Int) {
        self.scenarioPath = scenarioPath; self.seed = seed; self.freshSeed = freshSeed; self.out = out; self.threads = threads
    }
}

/// What `optima-gym evaluate` asks for: a saved checkpoint on a scenario's evaluation world.
public struct EvaluateRequest: Sendable {
    public var checkpointPath: String
    public var scenarioPath: String
    public var seed: UInt64?
    public var freshSeed: UInt64
    public var out: String?
    /// A YAML file of gate rules (nil: the scenario's rules for the checkpoint's agent).
    public var rulesPath: String?
    public var noLogs = false
    public var started = Date()

    public init(checkpointPath: String, scenarioPath: String, seed: UInt64?, freshSeed: UInt64, out: String?, rulesPath: String?) {
        self.checkpointPath = checkpointPath; self.scenarioPath = scenarioPath; self.seed = seed; self.freshSeed = freshSeed
        self.out = out; self.rulesPath = rulesPath
    }
}

/// A finished run: where its report is and what it says.
public struct RunOutcome: Sendable {
    public var destination: URL
    public var seed: UInt64
    public var report: RunReport
}

/// `run` and `evaluate` from start to finish: load, claim the output directory before any work,
/// train and evaluate, write everything atomically.
public enum RunJob {
    public static func run(_ request: RunRequest, progress: Progress) throws -> RunOutcome {
        let sc = try ScenarioBinding.load(path: request.scenarioPath)
        let rootSeed = request.seed ?? sc.seed ?? request.freshSeed
        let runID = makeRunID(started: request.started, seed: rootSeed)
        let dir = try claim(request.out, defaultPath: "reports/\(sc.name)/\(runID)")
        let writeLogs = sc.logging.episodes && !request.noLogs
        progress.note("optima-gym \(projectVersion): scenario \(sc.name), seed \(rootSeed), \(sc.agents.count) agents, \(request.threads) threads")
        let result: (runs: [AgentRun], target: Double?)
        do {
            defer { progress.finish() }
            result = try Runner.run(sc, seed: rootSeed, threads: request.threads, captureContexts: writeLogs, progress: progress,
                                    trainingDate: ISO8601DateFormatter().string(from: request.started), logObservations: request.logObservations)
        }
        var files = RunReport.standardFiles
        for r in result.runs where r.checkpoint != nil { files.append("checkpoints/\(r.name).json") }
        if writeLogs { for r in result.runs { files += ["logs/\(r.name)/training_episodes.jsonl", "logs/\(r.name)/reward_signals.jsonl"] } }
        // Logs first, so that the wall time in the report covers everything but the report itself.
        if writeLogs {
            let layout = JourneyWorld(config: sc.sim).actionLayout
            for r in result.runs { try dir.writeLogs(r, seed: rootSeed, actionLabel: { layout.label(of: $0) }) }
        }
        for r in result.runs { if let c = r.checkpoint { try dir.write("checkpoints/\(r.name).json", bytes: Array(c)) } }
        let report = Runner.report(scenario: sc, scenarioFile: request.scenarioPath, seed: rootSeed, runs: result.runs, target: result.target,
                                   wallTime: Date().timeIntervalSince(request.started), runID: runID, files: files)
        try dir.writeReportAndCommit(report)
        return RunOutcome(destination: dir.destination, seed: rootSeed, report: report)
    }

    public static func evaluate(_ request: EvaluateRequest, progress: Progress) throws -> RunOutcome {
        let sc = try ScenarioBinding.load(path: request.scenarioPath)
        let rootSeed = request.seed ?? sc.seed ?? request.freshSeed
        let generator = try GeneratorKind.named(sc.generator)
        let seeds = SeedTree(root: rootSeed)
        let world = JourneyWorld(config: sc.sim)
        world.generator = generator
        let agent = try PPOAgent.load(path: request.checkpointPath, layout: world.observationLayout, actions: world.actionLayout,
                                      sampler: seeds.child("agent").child("ppo").child("sample").stream(generator))
        var gate = sc.gate.filter { $0.agent == agent.name }
        if let rules = request.rulesPath { gate = try ScenarioLoader.loadGateRules(path: rules, knownAgents: nil) }
        let runID = makeRunID(started: request.started, seed: rootSeed, suffix: "-eval")
        let dir = try claim(request.out, defaultPath: "reports/\(sc.name)/\(runID)")
        let writeLogs = sc.logging.episodes && !request.noLogs
        var run: AgentRun
        do {
            defer { progress.finish() }
            run = try Runner.evaluate(agent, spec: .ppo(agent.config), scenario: sc, seeds: seeds, generator: generator, world: world,
                                      captureContexts: writeLogs, progress: progress, trainingDate: "",
                                      training: ([], [], nil, ["evaluated from checkpoint \(request.checkpointPath) without retraining"]))
        }
        run.metrics = MetricCatalog.ordered(run.metrics) { Runner.notMeasured($0, scenario: sc, isUpperBound: false, hasOracle: false, checkpoint: true) }
        var evalScenario = sc
        evalScenario.gate = gate
        var files = RunReport.standardFiles
        if writeLogs {
            files += ["logs/\(run.name)/training_episodes.jsonl", "logs/\(run.name)/reward_signals.jsonl"]
            try dir.writeLogs(run, seed: rootSeed, actionLabel: { world.actionLayout.label(of: $0) })
        }
        let report = Runner.report(scenario: evalScenario, scenarioFile: request.scenarioPath, seed: rootSeed, runs: [run], target: nil,
                                   wallTime: Date().timeIntervalSince(request.started), runID: runID, files: files)
        try dir.writeReportAndCommit(report)
        return RunOutcome(destination: dir.destination, seed: rootSeed, report: report)
    }

    /// The output directory, claimed before any work: `out`, else `defaultPath` (with the pid
    /// appended when two runs of the same scenario and seed start in the same second).
    static func claim(_ out: String?, defaultPath: String) throws -> AtomicDirectory {
        if let out { return try AtomicDirectory(destination: URL(fileURLWithPath: out)) }
        var path = defaultPath
        if FileManager.default.fileExists(atPath: path) { path += "-\(getpid())" }
        return try AtomicDirectory(destination: URL(fileURLWithPath: path))
    }

    /// `gate RUN_DIR`: a finished run's verdict, against `rulesPath` or the rules it recorded.
    public static func recheckGate(runDirectory: String, rulesPath: String?) throws -> GateVerdict {
        let path = URL(fileURLWithPath: runDirectory).appendingPathComponent("run.json").path
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DataError(file: path, message: "cannot read (is \(runDirectory) a run directory written by `optima-gym run`?)")
        }
        guard let root = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
              let agents = root["agents"] as? [[String: Any]] else {
            throw DataError(file: path, message: "not a valid run.json (expected an object with an 'agents' list)")
        }
        func number(_ x: Any?) -> Double { (x as? NSNumber)?.doubleValue ?? .nan }
        var sets: [AgentMetricSet] = []
        for (i, a) in agents.enumerated() {
            guard let name = a["name"] as? String, let ms = a["metrics"] as? [[String: Any]] else {
                throw DataError(file: path, column: "agents[\(i)]", message: "an agent entry lacks 'name' or 'metrics'")
            }
            let metrics = ms.compactMap { m -> MetricValue? in
                guard let n = m["name"] as? String else { return nil }
                return MetricValue(name: n, value: number(m["value"]), ciLow: number(m["ci_low"]), ciHigh: number(m["ci_high"]),
                                   count: (m["n"] as? Int) ?? 0, note: m["note"] as? String)
            }
            sets.append(AgentMetricSet(agent: name, metrics: metrics))
        }
        let rules: [GateRule]
        if let rulesPath {
            rules = try ScenarioLoader.loadGateRules(path: rulesPath, knownAgents: nil)
        } else {
            let recorded = ((root["gate"] as? [String: Any])?["rules"] as? [[String: Any]]) ?? []
            rules = recorded.compactMap { r in
                guard let metric = r["metric"] as? String, let agent = r["agent"] as? String else { return nil }
                let lo = r["min"] as? NSNumber, hi = r["max"] as? NSNumber
                return GateRule(metric: metric, agent: agent, min: lo?.doubleValue, max: hi?.doubleValue,
                                on: GateBound(rawValue: (r["on"] as? String) ?? "value") ?? .value, source: r["source"] as? String)
            }
        }
        return Gate.evaluate(rules, on: sets)
    }
}
