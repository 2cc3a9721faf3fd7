import ArgumentParser
import Foundation
import GymRunner

struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Evaluate a saved checkpoint (any agent kind) or a registered model on a scenario's evaluation world, without retraining.",
        discussion: "Writes report.md, metrics.csv, run.json and (unless --no-logs) the episode logs to --out, by default reports/<scenario>/<run-id>-eval/, and registers the evaluation in the store. The scenario's gate rules that name the checkpoint's agent are applied (or --rules FILE). A corrupt, truncated or incompatible checkpoint, or an unknown model, exits 65."
    )

    @Option(help: "A checkpoint file written by `optima-gym run` (checkpoints/<agent>.json in a run directory), or a registered model: an alias (champion) or a checkpoint id.")
    var checkpoint: String

    @Argument(help: "Scenario YAML file whose evaluation world is used.")
    var scenario: String

    @OptionGroup var seed: SeedOption
    @OptionGroup var output: OutputDirectoryOption

    @Option(help: "YAML file with gate rules (default: the scenario's rules for the checkpoint's agent).")
    var rules: String?

    @Flag(help: "Write a TrainingExplanation for every evaluation decision to explanations/<agent>.jsonl (as `run --explain`).")
    var explain = false

    @Flag(help: "Do not write the episode logs.")
    var noLogs = false

    @OptionGroup var quiet: QuietOption
    @OptionGroup var store: StoreOption

    func run() throws {
        var request = EvaluateRequest(checkpointPath: checkpoint, scenarioPath: scenario, seed: seed.seed, freshSeed: freshSeed(),
                                      out: output.out, rulesPath: rules)
        request.noLogs = noLogs
        request.explain = explain
        request.storePath = store.path
        let outcome = try RunJob.evaluate(request, progress: Progress(enabled: !quiet.quiet))
        print("checkpoint \(checkpoint) on scenario \(outcome.report.scenario), seed \(outcome.seed): report in \(outcome.destination.path)/report.md")
        if let a = outcome.report.agents.first, let m = a.metric("mean_reward") {
            print(String(format: "  %@ mean_reward %.4f [%.4f, %.4f]", a.name as NSString, m.value, m.ciLow, m.ciHigh))
        }
        try printVerdict(outcome.report.verdict)
    }
}
