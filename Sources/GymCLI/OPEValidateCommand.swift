import ArgumentParser
import Foundation
import GymEval
import GymGate
import GymRunner

struct OPEValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check the off-policy estimators inside the simulator: log a behaviour policy, estimate a target from those logs, and compare with the target's on-policy value on fresh worlds.",
        discussion: """
        Both policies are agents of the scenario, trained as `optima-gym run --seed SEED` trains them and then frozen; --behaviour-mix / --target-mix mix each with the uniform distribution over the allowed actions. Each repetition logs --decisions decisions of the behaviour on a fresh world (context = the agent's observation vector) and runs every estimator (ridge reward model per action, cross-fitted, bootstrap intervals). The truth (--truth fresh-worlds, the default) is the target's mean reward acting on-policy on --truth-runs fresh worlds of the same length, one truth for all repetitions; --truth same-world takes, per repetition, the target on-policy in the logged world (the same population, events and world seeds) with fresh action-sampling seeds, averaged over --truth-runs runs: exactly what one world's logs can estimate. The report gives, per estimator, the mean estimate, bias, RMSE, mean interval width and the share of repetitions whose interval covers the truth. Writes report.md, estimates.csv (one row per repetition and estimator) and coverage.csv to --out.
        Note: the simulated users' state depends on the actions taken, so contexts under the behaviour differ from those under the target; a target that overlaps the behaviour well keeps that gap small.
        """
    )

    @Argument(help: "The scenario file.")
    var scenario: String

    @Option(help: "The logging policy: an agent of the scenario (not the oracle).")
    var behaviour: String = "random"

    @Option(help: "The policy to estimate: an agent of the scenario (not the oracle).")
    var target: String = "epsilon_greedy"

    @Option(name: .customLong("behaviour-mix"), help: "Weight of the uniform distribution mixed into the behaviour, in [0, 1].")
    var behaviourMix: Double = 0

    @Option(name: .customLong("target-mix"), help: "Weight of the uniform distribution mixed into the target, in [0, 1].")
    var targetMix: Double = 0

    @Option(help: "Repetitions (fresh logged worlds).")
    var repetitions: Int = 1

    @Option(help: "Decisions per logged world and per truth world (default: the scenario's evaluation.episodes).")
    var decisions: Int?

    @Option(name: .customLong("truth-runs"), help: "On-policy runs of the target that define the truth (per repetition with --truth same-world).")
    var truthRuns: Int = 20

    @Option(help: "fresh-worlds: one truth, the target on-policy on --truth-runs fresh worlds; same-world: per repetition, the target on-policy in the logged world (same population, events and world seeds) with fresh action seeds, mean of --truth-runs runs (leaves out the between-world variance that one world's logs cannot see).")
    var truth: String = "fresh-worlds"

    @OptionGroup var estimation: OPEOptions
    @OptionGroup var seed: SeedOption
    @OptionGroup var threads: ThreadsOption

    @Option(help: "Output directory (must not exist or be empty). Default: reports/<scenario>/ope-validate-<run-id>.")
    var out: String?

    @Flag(help: "Validate the journey-level estimators (tis, sntis, pdis, snpdis, dr, fqe): every logged world is read as one journey per user, over the whole horizon (or --decisions), and the truth is the target's mean discounted return per journey (user_return); the bandit estimators are run on the same decisions and reported beside them against the per-decision truth. Writes report.md, estimates.svg (dr and pdis against the truth), estimates.csv and coverage.csv.")
    var journeys = false

    @OptionGroup var quiet: QuietOption

    func validate() throws {
        guard (0...1).contains(behaviourMix) else { throw ValidationError("--behaviour-mix must be in [0, 1], got \(behaviourMix)") }
        guard (0...1).contains(targetMix) else { throw ValidationError("--target-mix must be in [0, 1], got \(targetMix)") }
        guard (1...100_000).contains(repetitions) else { throw ValidationError("--repetitions must be in [1, 100000], got \(repetitions)") }
        if let d = decisions { guard (10...100_000_000).contains(d) else { throw ValidationError("--decisions must be in [10, 100000000], got \(d)") } }
        guard OPEValidationConfig.TruthMode(rawValue: truth) != nil else { throw ValidationError("--truth must be same-world or fresh-worlds, got '\(truth)'") }
        guard (1...100_000).contains(truthRuns) else { throw ValidationError("--truth-runs must be in [1, 100000], got \(truthRuns)") }
        if let out, out.isEmpty { throw ValidationError("--out must not be empty") }
    }

    func run() throws {
        var c = OPEValidationConfig()
        c.behaviour = behaviour; c.target = target; c.behaviourMix = behaviourMix; c.targetMix = targetMix
        c.repetitions = repetitions; c.decisions = decisions; c.truthRuns = truthRuns; c.truthMode = OPEValidationConfig.TruthMode(rawValue: truth)!
        c.resamples = estimation.resamples; c.folds = estimation.folds; c.switchLambda = estimation.switchLambda; c.threads = threads.threads
        if journeys {
            let r = try OPEJob.validateJourneys(scenarioPath: scenario, config: c, seed: seed.seed, out: out, progress: Progress(enabled: !quiet.quiet))
            print(r.markdown)
        } else {
            let r = try OPEJob.validate(scenarioPath: scenario, config: c, seed: seed.seed, out: out, progress: Progress(enabled: !quiet.quiet))
            print(r.markdown)
        }
    }
}
