import Foundation
import GymAgents
import GymData
import GymEval
import GymGate
import GymRandom
import GymReports
import GymScenario
import GymSim
import GymStore
import GymSynth
import GymCore

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
    /// `--detect`: the anomaly detectors over every evaluation (the scenario's settings, else the defaults).
    public var detect = false
    /// `--explain`: a TrainingExplanation per evaluation decision (`logging.explanations`).
    public var explain = false
    public var started = Date()
    /// The store the run is registered in (nil: none).
    public var storePath: String? = Store.defaultPath
    /// `--from`: a registered model (alias or id) the scenario's agent of the same kind continues from.
    public var from: String?

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
    public var storePath: String? = Store.defaultPath
    /// `--explain`: a TrainingExplanation per evaluation decision.
    public var explain = false

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
        var sc = try ScenarioBinding.load(path: request.scenarioPath)
        if request.detect && sc.evaluation.eval.detectors == nil { sc.evaluation.eval.detectors = DetectorConfig() }
        if request.explain { sc.logging.explanations = true }
        let rootSeed = request.seed ?? sc.seed ?? request.freshSeed
        var runID = makeRunID(started: request.started, seed: rootSeed)
        let scenarioText = (try? String(contentsOfFile: request.scenarioPath, encoding: .utf8)) ?? ""
        var provenance = try provenanceOf(sc, scenarioText: scenarioText)
        // Resolve the store and `--from` before any work, so that a wrong reference costs nothing.
        let store = try request.storePath.map { try Store(path: $0) }
        if let store { runID = try store.uniqueRunID(runID) }
        if let from = request.from {
            guard let store else { throw StoreError.invalid(path: "--from \(from)", detail: "--from reads the model registry; drop --no-store") }
            let (id, payload) = try store.checkpointPayload(from)
            let type = try store.model(id).modelType
            guard sc.agents.contains(where: { $0.name == type }) else {
                throw StoreError.invalid(path: request.scenarioPath, detail: "--from \(from) is \(type.first.map { "aeiou".contains($0) } == true ? "an" : "a") \(type) model, but the scenario has no \(type) agent to continue it (it has \(sc.agents.map(\.name).joined(separator: ", ")))")
            }
            provenance.resume = (id, type, payload)
        }
        let dir = try claim(request.out, defaultPath: "reports/\(sc.name)/\(runID)")
        let writeLogs = sc.logging.episodes && !request.noLogs
        progress.note("optima-gym \(projectVersion): scenario \(sc.name), seed \(rootSeed), \(sc.agents.count) agents, \(request.threads) threads")
        var result: (runs: [AgentRun], target: Double?)
        do {
            defer { progress.finish() }
            result = try Runner.run(sc, seed: rootSeed, threads: request.threads, captureContexts: writeLogs, progress: progress,
                                    trainingDate: ISO8601DateFormatter().string(from: request.started), logObservations: request.logObservations,
                                    provenance: provenance)
        }
        var files = RunReport.standardFiles
        if sc.sim.population.fromModel?.realPath != nil { files.append("population.svg") }
        for r in result.runs where r.checkpoint != nil { files += ["checkpoints/\(r.name).json", "checkpoints/\(r.name).card.md"] }
        files += try Runner.writeSafetyOutputs(&result.runs, to: dir)
        files += try Runner.writeExplanations(result.runs, scenario: sc, seed: rootSeed, to: dir)
        if writeLogs { for r in result.runs { files += ["logs/\(r.name)/training_episodes.jsonl", "logs/\(r.name)/reward_signals.jsonl"] } }
        // Logs first, so that the wall time in the report covers everything but the report itself.
        if writeLogs {
            let layout = JourneyWorld(config: sc.sim).actionLayout
            for r in result.runs { try dir.writeLogs(r, seed: rootSeed, actionLabel: { layout.label(of: $0) }) }
        }
        for r in result.runs { if let c = r.checkpoint { try dir.write("checkpoints/\(r.name).json", bytes: Array(c)) } }
        let report = Runner.report(scenario: sc, scenarioFile: request.scenarioPath, seed: rootSeed, runs: result.runs, target: result.target,
                                   wallTime: Date().timeIntervalSince(request.started), runID: runID, files: files)
        for (i, r) in result.runs.enumerated() where r.checkpoint != nil {
            try dir.write("checkpoints/\(r.name).card.md", Render.modelCard(report, agent: report.agents[i], checkpointID: r.checkpointID, modelType: r.checkpointType))
        }
        try dir.writeReportAndCommit(report)
        if let store {
            let layout = JourneyWorld(config: sc.sim).actionLayout
            var rows = StoreRegistration.rows(report: report, runs: result.runs, kind: "run", scenarioText: scenarioText, seed: rootSeed,
                                              startedAt: request.started, reportDir: dir.destination.path, withLogs: writeLogs,
                                              actionLabel: { layout.label(of: $0) })
            rows.profiles = StoreRegistration.profiles(sc, seed: rootSeed)
            try StoreRegistration.register(rows, storePath: store.path, progress: progress)
        }
        return RunOutcome(destination: dir.destination, seed: rootSeed, report: report)
    }

    /// A registered model's checkpoint, or nil when the store has no such model (an ambiguous
    /// prefix or a damaged store is an error of its own).
    static func registeredModel(_ ref: String, in store: Store) throws -> (id: String, payload: Data)? {
        do { return try store.checkpointPayload(ref) } catch StoreError.notFound { return nil }
    }

    /// The lineage every checkpoint of a run records: the scenario's hash and, when a DP persona
    /// model shapes the population, its fingerprint and privacy spent.
    static func provenanceOf(_ sc: Scenario, scenarioText: String) throws -> Provenance {
        var p = Provenance()
        p.scenarioSHA256 = SHA256.hex(Array(scenarioText.utf8))
        if let ref = sc.sim.population.fromModel {
            let model = try PersonaModel.load(path: ref.path)
            p.personaModel = PersonaModelLineage(fingerprint: ref.id, epsilon: model.privacy.epsilon, delta: model.privacy.delta)
        }
        return p
    }

    public static func evaluate(_ request: EvaluateRequest, progress: Progress) throws -> RunOutcome {
        var sc = try ScenarioBinding.load(path: request.scenarioPath)
        if request.explain { sc.logging.explanations = true }
        let rootSeed = request.seed ?? sc.seed ?? request.freshSeed
        let store = try request.storePath.map { try Store(path: $0) }
        // A checkpoint file, else a registered model (alias or id).
        let data: Data, label: String
        if let d = FileManager.default.contents(atPath: request.checkpointPath) {
            data = d; label = request.checkpointPath
        } else if let store, !FileManager.default.fileExists(atPath: request.checkpointPath),
                  let found = try registeredModel(request.checkpointPath, in: store) {
            data = found.payload; label = "model \(found.id)"
        } else {
            throw CheckpointError(path: request.checkpointPath, message: FileManager.default.fileExists(atPath: request.checkpointPath)
                                  ? "cannot read the checkpoint" : "no such checkpoint file\(store == nil ? "" : " nor registered model")")
        }
        var runID = makeRunID(started: request.started, seed: rootSeed, suffix: "-eval")
        if let store { runID = try store.uniqueRunID(runID) }
        let writeLogs = sc.logging.episodes && !request.noLogs
        var run: AgentRun
        var dir: AtomicDirectory
        do {
            defer { progress.finish() }
            let loaded = try ModelEvaluation.load(data, label: label, scenario: sc, seed: rootSeed)
            dir = try claim(request.out, defaultPath: "reports/\(sc.name)/\(runID)")
            run = try ModelEvaluation.evaluate(loaded, data: data, scenario: sc, seed: rootSeed, captureContexts: writeLogs, progress: progress,
                                               note: "evaluated from \(label) without retraining")
        }
        var gate = sc.gate.filter { $0.agent == run.name }
        if let rules = request.rulesPath { gate = try ScenarioLoader.loadGateRules(path: rules, knownAgents: nil) }
        var evalScenario = sc
        evalScenario.gate = gate
        let layout = JourneyWorld(config: sc.sim).actionLayout
        var files = RunReport.standardFiles
        if sc.sim.population.fromModel?.realPath != nil { files.append("population.svg") }
        var safetyRuns = [run]
        files += try Runner.writeSafetyOutputs(&safetyRuns, to: dir)
        run = safetyRuns[0]
        files += try Runner.writeExplanations([run], scenario: sc, seed: rootSeed, to: dir)
        if writeLogs {
            files += ["logs/\(run.name)/training_episodes.jsonl", "logs/\(run.name)/reward_signals.jsonl"]
            try dir.writeLogs(run, seed: rootSeed, actionLabel: { layout.label(of: $0) })
        }
        // The evaluated model's card: what it is, where it came from, and how it did here.
        files.append("model_card.md")
        let report = Runner.report(scenario: evalScenario, scenarioFile: request.scenarioPath, seed: rootSeed, runs: [run], target: nil,
                                   wallTime: Date().timeIntervalSince(request.started), runID: runID, files: files)
        try dir.write("model_card.md", Render.modelCard(report, agent: report.agents[0], checkpointID: run.checkpointID, modelType: run.checkpointType))
        try dir.writeReportAndCommit(report)
        if let store {
            var rows = StoreRegistration.rows(report: report, runs: [run], kind: "evaluate",
                                              scenarioText: (try? String(contentsOfFile: request.scenarioPath, encoding: .utf8)) ?? "",
                                              seed: rootSeed, startedAt: request.started, reportDir: dir.destination.path, withLogs: writeLogs,
                                              actionLabel: { layout.label(of: $0) })
            // The model is registered already when it came from the store; a file is registered now.
            if (try? store.model(run.modelVersion)) != nil { rows.checkpoints = [] }
            try StoreRegistration.register(rows, storePath: store.path, progress: progress)
        }
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
}
