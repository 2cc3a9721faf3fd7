import ArgumentParser
import Foundation
import GymEval
import GymGate
import GymRunner

struct OPECommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ope",
        abstract: "Off-policy evaluation: estimate a candidate policy's value from logged data (DM, IPS, SNIPS, DR, SNDR, Switch-DR with bootstrap intervals and weight diagnostics).",
        subcommands: [OPEEstimateCommand.self, OPEOpenBanditCommand.self, OPEValidateCommand.self, OPESelectCommand.self],
        defaultSubcommand: OPEEstimateCommand.self
    )
}

struct OPEEstimateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "estimate",
        abstract: "Estimate a candidate policy from logs (the default: `optima-gym ope --logs FILE --policy SPEC`).",
        discussion: """
        --logs: the simulator's training_episodes.jsonl (action_index, reward_score, propensity, numeric context_snapshot fields; with `run --log-observations` the observation vector and allowed actions); a CSV with a header: action (0-based integer), reward, propensity (the logging policy's probability of that action), optionally position (0-based), and every other numeric column as a context feature; or obd:DIR/POLICY/CAMPAIGN for the Open Bandit Dataset layout (e.g. obd:data/obd/random/all, fetched by scripts/get-obd.sh).
        --policy: uniform; bts:PRIOR.yaml:CAMPAIGN (prior-only Bernoulli Thompson sampling); probs:FILE.csv (one row per logged row, in log order, columns p_0 ... p_{K-1}); agent:NAME (the --scenario's agent NAME, trained as `optima-gym run --seed SEED` trains it, then frozen; needs a log written with --log-observations); checkpoint:FILE (a PPO checkpoint for the --scenario's spaces; the same logs).
        Gate: each --require RULE is ESTIMATOR[.value|.ci_low|.ci_high] >= or <= a number or `logged` (the logged policy's value, its mean reward), e.g. --require 'dr.ci_low>=logged'. With rules, a candidate whose effective sample size is below --ess-floor fails the gate whatever its estimates; the verdict is in report.md and gate.csv, and the exit code is 1 when it fails.
        Delayed rewards (simulator logs): --signals reward_signals.jsonl with --cutoffs (durations after the log's last decision, e.g. 0,1h,6h,1d,7d) re-estimates with only the signals that had arrived by each cut-off (decision time + latency <= cut-off); signals not yet arrived count as missing and contribute nothing. The signals' weights come from --signal-weights, else the --scenario's rewards, else they are solved from the log (reward_score = sum of weight x value must hold exactly). Writes cutoffs.csv.
        Sizes that come from the log (the action space, positions, rows x actions tables) are bounded by --max-actions, --max-positions and --max-table-cells, checked before anything is allocated.
        Writes report.md and estimates.csv (estimator, value, ci_low, ci_high, ess, max_weight, ess_below_floor) to --out, atomically.
        Trajectory logs (a CSV with trajectory_id, step, action, reward, propensity and optionally state, elapsed_seconds and numeric context; or a simulator JSONL with --trajectories) get the journey-level estimators tis, sntis, pdis, snpdis, dr and fqe (docs/ope.md), with bootstrap intervals over whole trajectories; --policy probs:FILE.csv then has one row per state (state, p_0 ... p_{K-1}). --require rules name these estimators, `logged` is the logged policy's mean discounted return per trajectory, and --ess-floor applies to the whole-trajectory weights' ESS. Writes estimates.csv, steps.csv (per-step ESS and largest weight), report.md and, with rules, gate.csv.
        """
    )

    @Option(help: "The logged data (JSONL, CSV, or obd:DIR/POLICY/CAMPAIGN).")
    var logs: String

    @Option(help: "The candidate policy: uniform, bts:PRIOR.yaml:CAMPAIGN, probs:FILE.csv, agent:NAME or checkpoint:FILE.")
    var policy: String

    @Option(help: "The scenario whose agents, spaces and reward weights agent:, checkpoint: and --signals use.")
    var scenario: String?

    @Option(help: "Number of actions of the log's action space (default: the largest logged action + 1, or the scenario's).")
    var actions: Int?

    @OptionGroup var output: OutputDirectoryOption
    @OptionGroup var estimation: OPEOptions

    @Option(name: .customLong("reward-model"), help: "auto (logistic for 0/1 rewards, else ridge), logistic or ridge.")
    var rewardModel: String = "auto"

    @Option(name: .customLong("ess-floor"), help: "Effective sample size below which the candidate is flagged, and fails the gate when there are --require rules.")
    var essFloor: Double = 100

    @Option(name: .customLong("require"), help: "A gate rule, e.g. 'dr.ci_low>=logged' or 'snips.value>=0.1' (repeatable).")
    var require: [String] = []

    @Option(help: "reward_signals.jsonl of the same run, for --cutoffs.")
    var signals: String?

    @Option(help: "Cut-offs after the log's last decision (s, m, h, d suffixes; comma-separated), e.g. 0,1h,6h,1d,7d.")
    var cutoffs: String?

    @Option(name: .customLong("signal-weights"), help: "Reward weight of each signal type, e.g. engagement=0.3,resonance=0.4,explicit_feedback=0.3.")
    var signalWeights: String?

    @OptionGroup var seed: SeedOption
    @OptionGroup var threads: ThreadsOption
    @OptionGroup var limits: DataLimitOptions
    @OptionGroup var sequential: SequentialOPEOptions

    static func parseDuration(_ raw: String) -> Double? {
        let t = raw.trimmingCharacters(in: .whitespaces)
        let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86_400]
        if let u = t.last, let k = units[u], let x = Double(t.dropLast()), x.isFinite, x >= 0 { return x * k }
        if let x = Double(t), x.isFinite, x >= 0 { return x }
        return nil
    }

    func parsedRequirements() throws -> [OPERequirement] {
        try require.map { r in
            switch OPERequirement.parse(r, estimators: isSequential ? SequentialOPE.Estimator.allCases.map(\.rawValue) : OPEEstimator.allCases.map(\.rawValue)) {
            case .success(let q): return q
            case .failure(let e): throw ValidationError("--require \(e.description)")
            }
        }
    }

    func parsedWeights() throws -> [String: Double]? {
        guard let raw = signalWeights else { return nil }
        var w: [String: Double] = [:]
        for part in raw.split(separator: ",") {
            let kv = part.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard kv.count == 2, let x = Double(kv[1]), x.isFinite else {
                throw ValidationError("--signal-weights: '\(part)' is not TYPE=NUMBER (e.g. engagement=0.3)")
            }
            w[kv[0]] = x
        }
        return w
    }

    func validate() throws {
        if let a = actions { guard (1...limits.maxActions).contains(a) else { throw ValidationError("--actions must be in [1, \(limits.maxActions)] (--max-actions), got \(a)") } }
        guard ["auto", "logistic", "ridge"].contains(rewardModel) else { throw ValidationError("--reward-model must be auto, logistic or ridge, got '\(rewardModel)'") }
        guard essFloor >= 0, essFloor.isFinite else { throw ValidationError("--ess-floor must be >= 0, got \(essFloor)") }
        let known = ["uniform", "bts:", "probs:", "agent:", "checkpoint:"]
        guard known.contains(where: { policy == $0 || ($0.hasSuffix(":") && policy.hasPrefix($0)) }) else {
            throw ValidationError("--policy must be uniform, bts:PRIOR.yaml:CAMPAIGN, probs:FILE.csv, agent:NAME or checkpoint:FILE, got '\(policy)'")
        }
        if (policy.hasPrefix("agent:") || policy.hasPrefix("checkpoint:")) && scenario == nil {
            throw ValidationError("--policy \(policy) needs --scenario (the agent's observation and action spaces)")
        }
        _ = try parsedRequirements()
        if (signals == nil) != (cutoffs == nil) { throw ValidationError("--signals and --cutoffs go together") }
        if let cutoffs {
            for c in cutoffs.split(separator: ",") where Self.parseDuration(String(c)) == nil {
                throw ValidationError("--cutoffs: '\(c)' is not a duration >= 0 (e.g. 0, 90s, 30m, 6h, 2d)")
            }
            guard logs.hasSuffix(".jsonl") else { throw ValidationError("--cutoffs needs the simulator's training_episodes.jsonl as --logs") }
        }
        _ = try parsedWeights()
        try validateSequential()
    }

    func run() throws {
        if isSequential { return try runSequential() }
        var q = OPEEstimateRequest(logs: logs, policy: policy)
        q.scenarioPath = scenario; q.actions = actions; q.out = output.out
        q.resamples = estimation.resamples; q.folds = estimation.folds; q.switchLambda = estimation.switchLambda
        q.rewardModel = RewardModelKind(rawValue: rewardModel)
        q.essFloor = essFloor; q.requirements = try parsedRequirements()
        q.signalsPath = signals; q.cutoffs = cutoffs?.split(separator: ",").map { Self.parseDuration(String($0))! }
        q.signalWeights = try parsedWeights(); q.seed = seed.seed ?? 1; q.threads = threads.threads; q.limits = limits.limits
        let (report, _) = try OPEJob.estimate(q, progress: Progress(enabled: true))
        print(report.markdown())
        if let g = report.gate, !g.verdict.passed { throw GateFailed() }
    }
}

struct OPEOpenBanditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "obd",
        abstract: "The Open Bandit Dataset experiment (Saito et al. 2021): estimate Bernoulli TS from the Random policy's logs and Random from the BTS logs, per campaign, and compare with each policy's on-policy value in its own logs.",
        discussion: """
        Data: <data>/{random,bts}/{all,men,women}/<campaign>.csv with item_context.csv, and the BTS prior <data>/prior_bts.yaml, as `scripts/get-obd.sh` fetches them into data/obd. The target BTS is the prior-only ZOZOTOWN policy; its probability of each item at each position is computed by numerical integration (see BernoulliTSTable). Positions are handled as the Open Bandit Pipeline does: each logged row is one (impression, position) record; the target's probability is that of the logged item at the logged position, divided by the logged per-position propensity; the value is the mean click per record. The reward model for DM / DR / SNDR / Switch-DR is a logistic regression per position on [user-feature one-hot, item features], C = 100, 3-fold cross-fitting. Estimates whose importance weights have an effective sample size below --ess-floor are flagged in every table. Writes report.md and estimates.csv to --out. OBP's side of the comparison: bench/peers/obp_obd_experiment.py.
        """
    )

    @Option(help: "The Open Bandit Dataset directory (scripts/get-obd.sh fetches it).")
    var data: String = "data/obd"

    @Option(help: "Campaigns (comma-separated).")
    var campaigns: String = "all,men,women"

    @Option(help: "Output directory (must not exist or be empty).")
    var out: String = "reports/obd-ope"

    @OptionGroup var estimation: OPEOptions

    @Option(name: .customLong("grid-points"), help: "Nodes of the numerical integration of the BTS position table.")
    var gridPoints: Int = 40_000

    @Option(name: .customLong("ess-floor"), help: "Effective sample size below which an estimate is flagged.")
    var essFloor: Double = 100

    @OptionGroup var seed: SeedOption
    @OptionGroup var threads: ThreadsOption
    @OptionGroup var limits: DataLimitOptions

    func validate() throws {
        guard (100...10_000_000).contains(gridPoints) else { throw ValidationError("--grid-points must be in [100, 10000000], got \(gridPoints)") }
        guard essFloor >= 0, essFloor.isFinite else { throw ValidationError("--ess-floor must be >= 0, got \(essFloor)") }
        for c in campaigns.split(separator: ",") where !["all", "men", "women"].contains(String(c)) {
            throw ValidationError("--campaigns: '\(c)' is not one of all, men, women")
        }
        if out.isEmpty { throw ValidationError("--out must not be empty") }
    }

    func run() throws {
        let r = try OPEJob.openBandit(data: data, campaigns: campaigns.split(separator: ",").map(String.init), out: out,
                                      resamples: estimation.resamples, folds: estimation.folds, switchLambda: estimation.switchLambda,
                                      gridPoints: gridPoints, essFloor: essFloor, seed: seed.seed ?? 12345, threads: threads.threads,
                                      limits: limits.limits, progress: Progress(enabled: true))
        print(r.markdown())
    }
}
