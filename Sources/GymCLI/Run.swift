import ArgumentParser
import Foundation
import GymAgents
import GymEval
import GymReports
import GymRunner
import GymScenario

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train and evaluate a scenario's agents, write the report, and apply the release gate.",
        discussion: """
        Writes report.md, metrics.csv, learning_curve.csv, learning_curve.svg, run.json and the \
        evaluation episode logs (logs/<agent>/training_episodes.jsonl, reward_signals.jsonl) to \
        --out, by default reports/<scenario>/<run-id>/. Everything is written to a temporary \
        directory renamed into place at the end. Exits 1 when a gate rule fails.
        """
    )

    @Argument(help: "Scenario YAML file (e.g. scenarios/baseline.yaml).")
    var scenario: String

    @Option(help: "Root seed (overrides the scenario's seed:; default: the scenario's, else a fresh one).")
    var seed: UInt64?

    @Option(help: "Output directory (must not exist or be empty). Default: reports/<scenario>/<run-id>/.")
    var out: String?

    @Option(help: "Worker threads (agents run in parallel). Results do not depend on it. Default: all cores.")
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    @Flag(help: "Do not write the episode logs.")
    var noLogs = false

    @Flag(help: "No progress output on stderr.")
    var quiet = false

    @Flag(name: .customLong("log-observations"), help: "Add each decision's observation vector and allowed actions to the episode logs (context_snapshot.observation / allowed_actions), so that `ope --policy agent:NAME` or `checkpoint:FILE` can evaluate a candidate on them. Several times larger logs.")
    var logObservations = false

    func validate() throws {
        guard threads >= 1 && threads <= 1024 else {
            throw ValidationError("--threads must be between 1 and 1024, got \(threads)")
        }
        if let out, out.isEmpty { throw ValidationError("--out must not be empty") }
        if logObservations && noLogs { throw ValidationError("--log-observations has no effect with --no-logs") }
    }

    func run() throws {
        let started = Date()
        let sc: Scenario
        do { sc = try ScenarioLoader.load(path: scenario) } catch let e as ScenarioError {
            printError(e.description)
            throw Exit.dataError
        }
        var rng = SystemRandomNumberGenerator()
        let rootSeed = seed ?? sc.seed ?? rng.next()
        let runID = makeRunID(started: started, seed: rootSeed)
        var dest = URL(fileURLWithPath: out ?? "reports/\(sc.name)/\(runID)")
        if out == nil && FileManager.default.fileExists(atPath: dest.path) {
            // Two runs of the same scenario and seed started in the same second: keep both.
            dest = URL(fileURLWithPath: "reports/\(sc.name)/\(runID)-\(getpid())")
        }
        let writeLogs = sc.logging.episodes && !noLogs
        // Claim the destination before the work, so a bad --out fails fast and nothing is lost.
        let dir: AtomicDirectory
        do { dir = try AtomicDirectory(destination: dest) } catch {
            printError("error: \(error)")
            throw Exit.usage
        }
        let progress = Progress(enabled: !quiet)
        progress.note("optima-gym \(projectVersion): scenario \(sc.name), seed \(rootSeed), \(sc.agents.count) agents, \(threads) threads")
        let result: (runs: [AgentRun], target: Double?)
        do {
            let iso = ISO8601DateFormatter()
            result = try Runner.run(sc, seed: rootSeed, threads: threads, captureContexts: writeLogs, progress: progress,
                                    trainingDate: iso.string(from: started), logObservations: logObservations)
        } catch {
            progress.finish()
            printError("error: \(scenario): \(error)")
            throw Exit.dataError
        }
        progress.finish()
        var files = ["report.md", "metrics.csv", "learning_curve.csv", "learning_curve.svg", "parity.csv", "parity.svg", "run.json"]
        for r in result.runs where r.checkpoint != nil { files.append("checkpoints/\(r.name).json") }
        if writeLogs {
            for r in result.runs { files += ["logs/\(r.name)/training_episodes.jsonl", "logs/\(r.name)/reward_signals.jsonl"] }
        }
        let report: RunReport
        do {
            // Logs first, so that the wall time in the report covers everything but the report itself.
            if writeLogs {
                let world = GymSim.JourneyWorld(config: sc.sim)
                for r in result.runs {
                    try dir.writeLogs(r, seed: rootSeed, actionLabel: { world.actionLayout.label(of: $0) })
                }
            }
            for r in result.runs { if let c = r.checkpoint { try dir.write("checkpoints/\(r.name).json", bytes: Array(c)) } }
            let wall = Date().timeIntervalSince(started)
            report = Runner.report(scenario: sc, scenarioFile: scenario, seed: rootSeed, runs: result.runs, target: result.target,
                                   wallTime: wall, runID: runID, files: files)
            try dir.writeReportAndCommit(report)
        } catch {
            printError("error: \(error)")
            throw Exit.software
        }
        // Summary on stdout.
        print("scenario \(sc.name), seed \(rootSeed): report in \(dest.path)/report.md")
        for a in report.agents {
            let m = a.metric("mean_reward")
            let tag = a.isUpperBound ? " (upper bound)" : ""
            print(String(format: "  %-16@ mean_reward %.4f [%.4f, %.4f]", a.name + tag as NSString, m?.value ?? .nan, m?.ciLow ?? .nan, m?.ciHigh ?? .nan))
        }
        printVerdict(report.verdict)
        if !report.verdict.passed { throw Exit.gateFailed }
    }
}

import GymGate
import GymSim

func printVerdict(_ v: GateVerdict) {
    if v.results.isEmpty { print("gate: no rules"); return }
    print("gate: \(v.passed ? "PASSED" : "FAILED") (\(v.results.count - v.failures.count)/\(v.results.count) rules passed)")
    for r in v.results {
        print("  \(r.passed ? "pass" : "FAIL"): \(r.reason)\(r.rule.source.map { "  [\($0)]" } ?? "")")
    }
}
