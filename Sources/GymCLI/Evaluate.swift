import ArgumentParser
import Foundation
import GymAgents
import GymEval
import GymGate
import GymRandom
import GymReports
import GymRunner
import GymScenario
import GymSim

struct Evaluate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Evaluate a saved PPO checkpoint on a scenario's evaluation world, without retraining.",
        discussion: "Writes report.md, metrics.csv, run.json and (unless --no-logs) the episode logs to --out, by default reports/<scenario>/<run-id>-eval/. The scenario's gate rules that name the agent 'ppo' are applied (or --rules FILE). A corrupt, truncated or incompatible checkpoint exits 65."
    )

    @Option(help: "A checkpoint written by `optima-gym run` (checkpoints/ppo.json in a run directory).")
    var checkpoint: String

    @Argument(help: "Scenario YAML file whose evaluation world is used.")
    var scenario: String

    @Option(help: "Root seed (default: the scenario's, else a fresh one).")
    var seed: UInt64?

    @Option(help: "Output directory (must not exist or be empty).")
    var out: String?

    @Option(help: "YAML file with gate rules (default: the scenario's rules for agent 'ppo').")
    var rules: String?

    @Flag(help: "Do not write the episode logs.")
    var noLogs = false

    @Flag(help: "No progress output on stderr.")
    var quiet = false

    func run() throws {
        let started = Date()
        let sc: Scenario
        do { sc = try ScenarioLoader.load(path: scenario) } catch let e as ScenarioError {
            printError(e.description)
            throw Exit.dataError
        }
        var rng = SystemRandomNumberGenerator()
        let rootSeed = seed ?? sc.seed ?? rng.next()
        let generator = try GeneratorKind.named(sc.generator)
        let seeds = SeedTree(root: rootSeed)
        let world = JourneyWorld(config: sc.sim)
        world.generator = generator
        let agent: PPOAgent
        do {
            agent = try PPOAgent.load(path: checkpoint, layout: world.observationLayout, actions: world.actionLayout,
                                      sampler: seeds.child("agent").child("ppo").child("sample").stream(generator))
        } catch let e as CheckpointError {
            printError(e.description)
            throw Exit.dataError
        }
        var gateRules = sc.gate.filter { $0.agent == "ppo" }
        if let rules {
            do { gateRules = try ScenarioLoader.loadGateRules(path: rules, knownAgents: nil) } catch let e as ScenarioError {
                printError(e.description)
                throw Exit.dataError
            }
        }
        let runID = makeRunID(started: started, seed: rootSeed, suffix: "-eval")
        let dest = URL(fileURLWithPath: out ?? "reports/\(sc.name)/\(runID)")
        let dir: AtomicDirectory
        do { dir = try AtomicDirectory(destination: dest) } catch {
            printError("error: \(error)")
            throw Exit.usage
        }
        let progress = Progress(enabled: !quiet)
        let writeLogs = sc.logging.episodes && !noLogs
        let run: AgentRun
        do {
            run = try Runner.evaluate(agent, spec: .ppo(agent.config), scenario: sc, seeds: seeds, generator: generator, world: world,
                                      captureContexts: writeLogs, progress: progress, trainingDate: "",
                                      training: ([], [], nil, ["evaluated from checkpoint \(checkpoint) without retraining"]))
        } catch {
            progress.finish()
            printError("error: \(scenario): \(error)")
            throw Exit.dataError
        }
        progress.finish()
        var evalScenario = sc
        evalScenario.gate = gateRules
        var files = ["report.md", "metrics.csv", "learning_curve.csv", "learning_curve.svg", "parity.csv", "parity.svg", "run.json"]
        if writeLogs { files += ["logs/ppo/training_episodes.jsonl", "logs/ppo/reward_signals.jsonl"] }
        let report: RunReport
        do {
            if writeLogs {
                try dir.writeLogs(run, seed: rootSeed, actionLabel: { world.actionLayout.label(of: $0) })
            }
            report = Runner.report(scenario: evalScenario, scenarioFile: scenario, seed: rootSeed, runs: [run], target: nil,
                                   wallTime: Date().timeIntervalSince(started), runID: runID, files: files)
            try dir.writeReportAndCommit(report)
        } catch {
            printError("error: \(error)")
            throw Exit.software
        }
        print("checkpoint \(checkpoint) on scenario \(sc.name), seed \(rootSeed): report in \(dest.path)/report.md")
        if let m = report.agents.first?.metric("mean_reward") {
            print(String(format: "  ppo mean_reward %.4f [%.4f, %.4f]", m.value, m.ciLow, m.ciHigh))
        }
        printVerdict(report.verdict)
        if !report.verdict.passed { throw Exit.gateFailed }
    }
}
