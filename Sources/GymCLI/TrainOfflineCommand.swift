import ArgumentParser
import Foundation
import GymAgents
import GymRunner

struct TrainOfflineCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train-offline",
        abstract: "Learn a policy from logged journeys alone (behaviour cloning or discrete CQL), validate it by off-policy estimates on held-out journeys, and, with --scenario, judge it in the simulator against the behaviour that logged the data.",
        discussion: """
            --data is a dataset from `dataset collect` (a directory with journeys.jsonl and dataset.json) or journeys from elsewhere: a directory with journeys.jsonl or journeys.csv, or such a file (fields in docs/offline-rl.md). Every decision becomes a transition to the user's next decision, discounted by gamma^(days between them); a journey's last decision (terminal: churn, opt-out; or cut off) has no bootstrap.

            A share --holdout of the journeys is held out of training; --validations times during training, DR and FQE (--validation-fqe: an MLP or linear Q, cross-fitted) estimate the learned greedy policy's value on them with 95% bootstrap intervals. With --scenario (the dataset's own scenario file), the behaviour (rebuilt from dataset.json) and the learned policy act on the same --truth-runs fresh worlds: their true user_return side by side, the paired difference, and the learned Q's own estimate against its truth (overestimation flagged).

            Defaults are d3rlpy 2.8's, from the papers: CQL (Kumar et al. 2020) lr 6.25e-5, batch 32, alpha 1, target network every 8,000 steps, Huber TD loss, double DQN targets; BC lr 1e-3, batch 100, beta 0.5 (penalty on the logits); both 256-256 relu, Adam eps 1e-8. Writes report.md, curve.csv, validation.csv, truth.csv (with --scenario) and checkpoint.json (the same versioned format as `run`'s checkpoints: `evaluate --checkpoint`, `ope --policy checkpoint:` and `gate` read it).
            """
    )

    @Option(help: "The dataset: a directory from `dataset collect`, or a journey log (JSONL or CSV) or a directory holding one.")
    var data: String
    @Option(help: "The scenario file the dataset was collected on (must match dataset.json's sha256): adds the simulator's truth.")
    var scenario: String?
    @Option(help: "cql or bc.")
    var algo: String = "cql"
    @Option(help: "Gradient steps.")
    var steps: Int = 20_000
    @Option(help: "Share of the journeys held out of training for the OPE validation, in [0, 0.9] (0: no validation).")
    var holdout: Double = 0.2
    @Option(help: "OPE validations on the held-out journeys, spread evenly over training (the last at the end).")
    var validations: Int = 5
    @Option(help: "Bootstrap resamples of the validation intervals.")
    var resamples: Int = 200
    @Option(name: .customLong("validation-fqe"), help: "The validation's Q model: mlp (one hidden layer of 100, 10,000 steps, cross-fitted) or linear (cross-fitted ridge).")
    var validationFQE: String = "mlp"
    @Option(name: .customLong("truth-runs"), help: "With --scenario: fresh worlds on which both policies act for their true values.")
    var truthRuns: Int = 20
    @Option(name: .customLong("gamma-per-day"), help: "Discount per day between decisions. Default: the dataset's (dataset.json); required without one.")
    var gammaPerDay: Double?
    @Option(help: "Hidden layer widths.")
    var hidden: String = "256,256"
    @Option(help: "Batch size (default: CQL 32, BC 100).")
    var batch: Int?
    @Option(name: .customLong("learning-rate"), help: "Adam learning rate (default: CQL 6.25e-5, BC 1e-3).")
    var learningRate: Double?
    @Option(help: "CQL: weight of the conservative term (0: double DQN).")
    var alpha: Double = 1
    @Option(name: .customLong("target-update"), help: "CQL: steps between target-network copies.")
    var targetUpdate: Int = 8000
    @Option(help: "BC: weight of the penalty on the squared logits.")
    var beta: Double = 0.5
    @Option(help: "Root seed of the learner, the hold-out and the truth worlds. Default: the dataset's seed, else 1.")
    var seed: UInt64?
    @OptionGroup var threads: ThreadsOption
    @Option(help: "Output directory (must not exist or be empty). Default: reports/<scenario>/offline-<algo>-<run-id>.")
    var out: String?
    @OptionGroup var quiet: QuietOption

    func widths() throws -> [Int] { try hiddenWidths(hidden) }

    func validate() throws {
        guard ["cql", "bc"].contains(algo) else { throw ValidationError("--algo must be cql or bc, got '\(algo)'") }
        guard (1...100_000_000).contains(steps) else { throw ValidationError("--steps must be in [1, 100000000], got \(steps)") }
        guard (0...0.9).contains(holdout) else { throw ValidationError("--holdout must be in [0, 0.9], got \(holdout)") }
        guard (0...1000).contains(validations) else { throw ValidationError("--validations must be in [0, 1000], got \(validations)") }
        guard ["mlp", "linear"].contains(validationFQE) else { throw ValidationError("--validation-fqe must be mlp or linear, got '\(validationFQE)'") }
        guard (10...100_000).contains(resamples) else { throw ValidationError("--resamples must be in [10, 100000], got \(resamples)") }
        guard (2...100_000).contains(truthRuns) else { throw ValidationError("--truth-runs must be in [2, 100000], got \(truthRuns)") }
        if let g = gammaPerDay { guard g > 0, g <= 1 else { throw ValidationError("--gamma-per-day must be in (0, 1], got \(g)") } }
        guard try !widths().isEmpty else { throw ValidationError("--hidden needs at least one width") }
        if let b = batch { guard (1...65_536).contains(b) else { throw ValidationError("--batch must be in [1, 65536], got \(b)") } }
        if let l = learningRate { guard l > 0, l.isFinite else { throw ValidationError("--learning-rate must be positive, got \(l)") } }
        guard alpha >= 0, alpha.isFinite else { throw ValidationError("--alpha must be >= 0, got \(alpha)") }
        guard beta >= 0, beta.isFinite else { throw ValidationError("--beta must be >= 0, got \(beta)") }
        guard targetUpdate >= 1 else { throw ValidationError("--target-update must be at least 1, got \(targetUpdate)") }
        if let out, out.isEmpty { throw ValidationError("--out must not be empty") }
    }

    func run() throws {
        var c = OfflineRLConfig()
        c.algo = algo; c.steps = steps; c.holdout = holdout; c.validations = validations; c.resamples = resamples; c.validationFQE = validationFQE; c.truthRuns = truthRuns
        c.gammaPerDay = gammaPerDay; c.threads = threads.threads
        c.cql.hidden = try widths(); c.bc.hidden = c.cql.hidden
        if let b = batch { c.cql.batchSize = b; c.bc.batchSize = b }
        if let l = learningRate { c.cql.learningRate = l; c.bc.learningRate = l }
        c.cql.alpha = alpha; c.cql.targetUpdateInterval = targetUpdate; c.bc.beta = beta
        let r = try OPEJob.trainOffline(dataPath: data, scenarioPath: scenario, config: c, seed: seed, out: out, progress: Progress(enabled: !quiet.quiet))
        print(r.markdown)
        print("Written to \(r.destination.path)")
    }
}

struct DatasetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dataset",
        abstract: "Datasets of logged journeys for offline RL.",
        subcommands: [DatasetCollectCommand.self]
    )
}

struct DatasetCollectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "collect",
        abstract: "Log a behaviour policy's journeys in the simulator: a D4RL-style dataset with propensities, observation vectors and its provenance.",
        discussion: "The behaviour (an agent of the scenario, trained as `run` trains it under --seed, mixed with --behaviour-mix uniform over the allowed actions) acts on --worlds fresh worlds over the scenario's evaluation length. Writes journeys.jsonl (one decision per line: user_id, journey_step, elapsed_seconds, context_snapshot.observation and .allowed_actions, action_index, propensity, reward_score, terminal), dataset.json (scenario, its sha256, seed, behaviour, sizes, discount, the behaviour's logged value) and README.md. scripts/offline-datasets.sh collects the random, medium and expert datasets of long_horizon.yaml."
    )

    @Argument(help: "The scenario file.")
    var scenario: String
    @Option(help: "The logging policy: an agent of the scenario that does not read hidden truth.")
    var behaviour: String
    @Option(name: [.customLong("behaviour-mix"), .customLong("epsilon-mix")], help: "Weight of the uniform distribution mixed into the behaviour, in [0, 1] (1: uniformly random).")
    var behaviourMix: Double = 0
    @Option(help: "Fresh worlds to log.")
    var worlds: Int = 1
    @OptionGroup var seed: SeedOption
    @Option(help: "Output directory (must not exist or be empty); written to a temporary directory and renamed into place.")
    var out: String
    @OptionGroup var quiet: QuietOption

    func validate() throws {
        guard (0...1).contains(behaviourMix) else { throw ValidationError("--behaviour-mix must be in [0, 1], got \(behaviourMix)") }
        guard (1...1000).contains(worlds) else { throw ValidationError("--worlds must be in [1, 1000], got \(worlds)") }
        guard !out.isEmpty else { throw ValidationError("--out must not be empty") }
    }

    func run() throws {
        let r = try OPEJob.collectDataset(scenarioPath: scenario, behaviour: behaviour, mix: behaviourMix, worlds: worlds, seed: seed.seed, out: out,
                                          progress: Progress(enabled: !quiet.quiet))
        let p = r.dataset.provenance!
        print("\(p.transitions) decisions in \(p.journeys) journeys (\(p.terminals) terminal, \(p.truncated) cut off) logged by \(p.behaviour); logged user_return \(String(format: "%.4f", p.loggedUserReturn))")
        print("Written to \(r.destination.path)")
    }
}
