import ArgumentParser
import Foundation
import GymCore
import GymGate
import GymReports
import GymRunner

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Train and evaluate a scenario's agents, write the report, and apply the release gate.",
        discussion: """
        Writes report.md, metrics.csv, learning_curve.csv, learning_curve.svg, parity.csv, parity.svg, run.json, checkpoints/ and \
        the evaluation episode logs (logs/<agent>/training_episodes.jsonl, reward_signals.jsonl) to --out, by default \
        reports/<scenario>/<run-id>/. Everything is written to a hidden temporary directory beside it \
        (.tmp-<pid>@<host>~...) that is renamed into place at the end; temporary directories left by killed runs on this \
        host are removed when the next command writes into the same parent. Then the run is registered in the store \
        (--store, one transaction): the run, its metrics and paired comparisons, every agent's checkpoint under its \
        content-addressed id (the model_version of its logs), and the logs' rows. Exits 1 when a gate rule fails.
        """
    )

    @Argument(help: "Scenario YAML file (e.g. scenarios/baseline.yaml).")
    var scenario: String

    @OptionGroup var seed: SeedOption
    @OptionGroup var output: OutputDirectoryOption
    @OptionGroup var threads: ThreadsOption

    @Flag(help: "Do not write the episode logs.")
    var noLogs = false

    @OptionGroup var quiet: QuietOption
    @OptionGroup var store: StoreOption

    @Option(help: "Continue training from a registered model (an alias such as champion, or a checkpoint id): the scenario's agent of the same kind starts from it instead of from scratch; its checkpoint records the parent. Other agents train as usual.")
    var from: String?

    @Flag(name: .customLong("log-observations"), help: "Add each decision's observation vector and allowed actions to the episode logs (context_snapshot.observation / allowed_actions), so that `ope --policy agent:NAME` or `checkpoint:FILE` can evaluate a candidate on them. Several times larger logs.")
    var logObservations = false

    @Flag(help: "Run the anomaly detectors over every agent's evaluation: a shift of the mean reward signal (self-starting CUSUM on batches of 100), drift of the action shares (chi-squared, windows of 5,000), drift of each group's positive-signal rate (windows of 10,000), and outlier users (robust z-scores) for review. Writes anomalies/<agent>.jsonl and a line per agent in the report.")
    var detect = false

    @Flag(help: "Write a TrainingExplanation for every evaluation decision to explanations/<agent>.jsonl: the user's context in words and numbers, the action and the features behind it (exact attributions of the bandits' linear models; integrated gradients of PPO's actor, complete within 0.2%), the model's expected outcome, the actual outcome per signal, and the model adjustment. `optima-gym explain RUN --user ID` reads them.")
    var explain = false

    func validate() throws {
        if logObservations && noLogs { throw ValidationError("--log-observations has no effect with --no-logs") }
        if from != nil && store.noStore { throw ValidationError("--from reads the model registry: it cannot be used with --no-store") }
    }

    func run() throws {
        var request = RunRequest(scenarioPath: scenario, seed: seed.seed, freshSeed: freshSeed(), out: output.out, threads: threads.threads)
        request.noLogs = noLogs
        request.logObservations = logObservations
        request.detect = detect
        request.explain = explain
        request.storePath = store.path
        request.from = from
        let outcome = try RunJob.run(request, progress: Progress(enabled: !quiet.quiet))
        let report = outcome.report
        print("scenario \(report.scenario), seed \(outcome.seed): report in \(outcome.destination.path)/report.md")
        for a in report.agents {
            let m = a.metric("mean_reward")
            print(String(format: "  %-16@ mean_reward %.4f [%.4f, %.4f]", agentLabel(a.name, isUpperBound: a.isUpperBound) as NSString, m?.value ?? .nan, m?.ciLow ?? .nan, m?.ciHigh ?? .nan))
        }
        try printVerdict(report.verdict)
    }
}

/// Prints a gate verdict; throws `GateFailed` (exit 1) when a rule failed.
func printVerdict(_ v: GateVerdict) throws {
    if v.results.isEmpty { print("gate: no rules"); return }
    print("gate: \(v.passed ? "PASSED" : "FAILED") (\(v.results.count - v.failures.count)/\(v.results.count) rules passed)")
    let alerts = v.alerts.count
    if alerts > 0 { print("  \(alerts) rule\(alerts == 1 ? "" : "s") past an alert line") }
    for r in v.results {
        print("  \(r.passed ? "pass" : (r.alert ? "ALERT" : "FAIL")): \(r.reason)\(r.rule.source.map { "  [\($0)]" } ?? "")")
    }
    if !v.passed { throw GateFailed() }
}
