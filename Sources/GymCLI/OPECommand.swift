import ArgumentParser
import Foundation
import GymData
import GymAgents
import GymEval
import GymGate
import GymLinalg
import GymRandom
import GymReports
import GymRunner
import GymSim
import GymScenario
import GymSynth

struct OPECommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ope",
        abstract: "Off-policy evaluation: estimate a candidate policy's value from logged data (DM, IPS, SNIPS, DR, SNDR, Switch-DR with bootstrap intervals and weight diagnostics).",
        subcommands: [OPEEstimateCommand.self, OPEOpenBandit.self, OPEValidate.self],
        defaultSubcommand: OPEEstimateCommand.self
    )
}

struct OPEEstimateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "estimate",
        abstract: "Estimate a candidate policy from logs (the default: `optima-gym ope --logs FILE --policy SPEC`).",
        discussion: """
        --logs: the simulator's training_episodes.jsonl (action_index, reward_score, propensity, numeric context_snapshot fields; with `run --log-observations` the observation vector and allowed actions); a CSV with a header: action (0-based integer), reward, propensity (the logging policy's probability of that action), optionally position (0-based), and every other numeric column as a context feature; or obd:DIR/POLICY/CAMPAIGN for the Open Bandit Dataset layout (e.g. obd:../shared/data/obd/random/all).
        --policy: uniform; bts:PRIOR.yaml:CAMPAIGN (prior-only Bernoulli Thompson sampling); probs:FILE.csv (one row per logged row, in log order, columns p_0 ... p_{K-1}); agent:NAME (the --scenario's agent NAME, trained as `optima-gym run --seed SEED` trains it, then frozen; needs a log written with --log-observations); checkpoint:FILE (a PPO checkpoint for the --scenario's spaces; the same logs).
        Gate: each --require RULE is ESTIMATOR[.value|.ci_low|.ci_high] >= or <= a number or `logged` (the logged policy's value, its mean reward), e.g. --require 'dr.ci_low>=logged'. With rules, a candidate whose effective sample size is below --ess-floor fails the gate whatever its estimates; the verdict is in report.md and gate.csv, and the exit code is 1 when it fails.
        Delayed rewards (simulator logs): --signals reward_signals.jsonl with --cutoffs (durations after the log's last decision, e.g. 0,1h,6h,1d,7d) re-estimates with only the signals that had arrived by each cut-off (decision time + latency <= cut-off); signals not yet arrived count as missing and contribute nothing. The signals' weights come from --signal-weights, else the --scenario's rewards, else they are solved from the log (reward_score = sum of weight x value must hold exactly). Writes cutoffs.csv.
        Writes report.md and estimates.csv (estimator, value, ci_low, ci_high) to --out, atomically.
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

    @Option(help: "Output directory (must not exist or be empty).")
    var out: String?

    @Option(help: "Bootstrap resamples.")
    var resamples: Int = 1000

    @Option(help: "Cross-fitting folds of the reward model.")
    var folds: Int = 3

    @Option(name: .customLong("reward-model"), help: "auto (logistic for 0/1 rewards, else ridge), logistic or ridge.")
    var rewardModel: String = "auto"

    @Option(name: .customLong("switch-lambda"), help: "Switch-DR's weight threshold.")
    var switchLambda: Double = 100

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

    @Option(help: "Root seed (bootstrap, folds; and the training of agent:NAME).")
    var seed: UInt64 = 1

    @Option(help: "Worker threads for the bootstrap.")
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    struct Requirement { var estimator: OPEEstimator; var on: GateBound; var atLeast: Bool; var bound: Double?; var text: String }

    static func parseRequirement(_ raw: String) throws -> Requirement {
        let t = raw.replacingOccurrences(of: " ", with: "")
        let op = t.contains(">=") ? ">=" : (t.contains("<=") ? "<=" : "")
        guard !op.isEmpty else { throw ValidationError("--require '\(raw)': expected ESTIMATOR[.value|.ci_low|.ci_high]>=BOUND or <=BOUND") }
        let sides = t.components(separatedBy: op)
        guard sides.count == 2 else { throw ValidationError("--require '\(raw)': one comparison expected") }
        let lhs = sides[0].split(separator: ".", maxSplits: 1).map(String.init)
        guard let e = OPEEstimator(rawValue: lhs.first ?? "") else {
            throw ValidationError("--require '\(raw)': unknown estimator '\(lhs.first ?? "")' (one of \(OPEEstimator.allCases.map { $0.rawValue }.joined(separator: ", ")))")
        }
        let on: GateBound
        if lhs.count == 2 {
            guard let b = GateBound(rawValue: lhs[1]) else { throw ValidationError("--require '\(raw)': '\(lhs[1])' is not value, ci_low or ci_high") }
            on = b
        } else { on = .value }
        let bound: Double?
        if sides[1] == "logged" { bound = nil } else {
            guard let x = Double(sides[1]), x.isFinite else { throw ValidationError("--require '\(raw)': '\(sides[1])' is not a number or 'logged'") }
            bound = x
        }
        return Requirement(estimator: e, on: on, atLeast: op == ">=", bound: bound, text: raw)
    }

    static func parseDuration(_ raw: String) -> Double? {
        let t = raw.trimmingCharacters(in: .whitespaces)
        let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86_400]
        if let u = t.last, let k = units[u], let x = Double(t.dropLast()), x.isFinite, x >= 0 { return x * k }
        if let x = Double(t), x.isFinite, x >= 0 { return x }
        return nil
    }

    func validate() throws {
        try validateOPEOptions(resamples: resamples, folds: folds, switchLambda: switchLambda, threads: threads)
        if let a = actions { guard (1...1_000_000).contains(a) else { throw ValidationError("--actions must be in [1, 1000000], got \(a)") } }
        guard ["auto", "logistic", "ridge"].contains(rewardModel) else { throw ValidationError("--reward-model must be auto, logistic or ridge, got '\(rewardModel)'") }
        guard essFloor >= 0, essFloor.isFinite else { throw ValidationError("--ess-floor must be >= 0, got \(essFloor)") }
        let known = ["uniform", "bts:", "probs:", "agent:", "checkpoint:"]
        guard known.contains(where: { policy == $0 || ($0.hasSuffix(":") && policy.hasPrefix($0)) }) else {
            throw ValidationError("--policy must be uniform, bts:PRIOR.yaml:CAMPAIGN, probs:FILE.csv, agent:NAME or checkpoint:FILE, got '\(policy)'")
        }
        if (policy.hasPrefix("agent:") || policy.hasPrefix("checkpoint:")) && scenario == nil {
            throw ValidationError("--policy \(policy) needs --scenario (the agent's observation and action spaces)")
        }
        for r in require { _ = try Self.parseRequirement(r) }
        if (signals == nil) != (cutoffs == nil) { throw ValidationError("--signals and --cutoffs go together") }
        if let cutoffs {
            for c in cutoffs.split(separator: ",") where Self.parseDuration(String(c)) == nil {
                throw ValidationError("--cutoffs: '\(c)' is not a duration >= 0 (e.g. 0, 90s, 30m, 6h, 2d)")
            }
            guard logs.hasSuffix(".jsonl") else { throw ValidationError("--cutoffs needs the simulator's training_episodes.jsonl as --logs") }
        }
        if let w = signalWeights { _ = try parseWeights(w) }
        if let out { try requireEmptyOutput(out) }
    }

    func parseWeights(_ raw: String) throws -> [String: Double] {
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

    func run() throws {
        do { try estimate() } catch let e as DataError { printError(e.description); throw Exit.dataError }
        catch let e as ScenarioError { printError(e.description); throw Exit.dataError }
        catch let e as CheckpointError { printError(e.description); throw Exit.dataError }
        catch let e as OPECandidateError { printError("error: \(e.description)"); throw Exit.dataError }
    }

    func loadLog(actions: Int?, episodeIDs: UnsafeMutablePointer<[String]>? = nil) throws -> LoggedBandit {
        if logs.hasPrefix("obd:") {
            let url = URL(fileURLWithPath: String(logs.dropFirst(4)))
            let campaign = url.lastPathComponent, pol = url.deletingLastPathComponent().lastPathComponent
            return try LogImport.openBandit(directory: url.deletingLastPathComponent().deletingLastPathComponent().path, policy: pol, campaign: campaign)
        }
        if logs.hasSuffix(".jsonl") { return try LogImport.episodes(path: logs, actions: actions, episodeIDs: episodeIDs) }
        return try LogImport.csv(path: logs, actions: actions)
    }

    func estimate() throws {
        let sc = try scenario.map { try ScenarioLoader.load(path: $0) }
        var actionCount = actions
        if actionCount == nil, let sc, logs.hasSuffix(".jsonl") { actionCount = JourneyWorld(config: sc.sim).actionLayout.count }
        var ids: [String] = []
        var log = try withUnsafeMutablePointer(to: &ids) { try loadLog(actions: actionCount, episodeIDs: cutoffs == nil ? nil : $0) }
        let target: TargetPolicy
        if policy == "uniform" {
            if log.masks.isEmpty {
                target = ContextFreePolicy.uniform(actions: log.actions, positions: log.positions)
            } else {
                // Uniform over each row's allowed actions.
                let A = log.actions
                var probs = [Double](repeating: 0, count: log.count * A)
                for i in 0..<log.count {
                    let k = Double((0..<A).filter { log.masks[i * A + $0] }.count)
                    for a in 0..<A where log.masks[i * A + a] { probs[i * A + a] = 1 / k }
                }
                target = PerRowPolicy(actions: A, positions: 1, probs: probs)
            }
        } else if policy.hasPrefix("bts:") {
            let parts = policy.dropFirst(4).split(separator: ":", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { throw DataError(file: policy, message: "expected bts:PRIOR.yaml:CAMPAIGN") }
            let prior = try BTSPrior.load(path: parts[0], campaign: parts[1])
            guard prior.alpha.count == log.actions else {
                throw DataError(file: parts[0], column: parts[1], message: "the policy has \(prior.alpha.count) actions; the log's action space has \(log.actions)")
            }
            guard prior.alpha.count >= log.positions else { throw DataError(file: parts[0], message: "fewer items than positions") }
            target = ContextFreePolicy(actions: log.actions, positions: log.positions,
                                       table: BernoulliTSTable.integrate(alpha: prior.alpha, beta: prior.beta, positions: log.positions), name: "bts")
        } else if policy.hasPrefix("agent:") || policy.hasPrefix("checkpoint:") {
            let sc = sc!
            let candidate: DistributionalPolicy
            if policy.hasPrefix("agent:") {
                let progress = Progress(enabled: true)
                candidate = try OPECandidates.trainedAgent(String(policy.dropFirst(6)), scenario: sc, seed: seed, progress: progress)
                progress.finish()
            } else {
                candidate = try OPECandidates.checkpoint(String(policy.dropFirst(11)), scenario: sc)
            }
            target = try OPECandidates.perRow(candidate, log: log, scenario: sc, spec: policy)
        } else {
            target = PerRowPolicy(actions: log.actions, positions: log.positions,
                                  probs: try LogImport.policyProbabilities(path: String(policy.dropFirst(6)), rows: log.count, actions: log.actions))
        }
        let kind = rewardModel == "auto" ? RewardModelKind.automatic(for: log) : RewardModelKind(rawValue: rewardModel)!
        let (est, diag) = OPERunner.run(log: log, policy: target, seed: seed, resamples: resamples, threads: threads, folds: folds,
                                        lambda: switchLambda, kind: kind)
        let flagged = diag.effectiveSampleSize < essFloor
        var md = "# Off-policy evaluation\n\n| | |\n|---|---|\n| logs | `\(logs)`: \(log.count) rows, \(log.actions) actions, \(log.positions) position(s) |\n"
        md += "| candidate | `\(policy)` |\n| logged policy's value (mean reward) | \(String(format: "%.6f", log.meanReward)) |\n"
        md += "| reward model | \(kind.rawValue), \(folds)-fold cross-fitting |\n| seed | \(seed) |\n\n"
        md += "| estimator | value | 95% interval |\n|---|---|---|\n"
        var csv = "estimator,value,ci_low,ci_high\n"
        for e in est {
            md += String(format: "| %@ | %.6f | [%.6f, %.6f] |\n", e.estimator.title as NSString, e.value, e.ciLow, e.ciHigh)
            csv += "\(e.estimator.rawValue),\(e.value),\(e.ciLow),\(e.ciHigh)\n"
        }
        md += String(format: "\nImportance weights: effective sample size %.1f of %d rows (%.1f%%), max weight %.2f, mean weight %.4f.\n",
                     diag.effectiveSampleSize, log.count, 100 * diag.effectiveSampleSize / Double(max(1, log.count)), diag.maxWeight, diag.meanWeight)
        if let u = diag.unsupportedMass {
            md += String(format: "Share of the candidate's probability mass on actions the log never shows at that position (an estimate of the mass without logging support): %.4f.\n", u)
        }
        if flagged {
            md += String(format: "\n**Flagged:** the effective sample size %.1f is below the floor %g: the candidate's estimates rest on too few rows; a gate fails it.\n", diag.effectiveSampleSize, essFloor)
        }
        var files: [(String, String)] = []
        // Gate.
        var gateFailed = false
        if !require.isEmpty {
            var rules: [GateRule] = []
            for r in require {
                let q = try Self.parseRequirement(r)
                let b = q.bound ?? log.meanReward
                rules.append(GateRule(metric: q.estimator.rawValue, agent: "candidate", min: q.atLeast ? b : nil, max: q.atLeast ? nil : b,
                                      on: q.on, source: "--require \(r)"))
            }
            rules.append(GateRule(metric: "ess", agent: "candidate", min: essFloor, on: .value, source: "--ess-floor"))
            var metrics = est.map { MetricValue(name: $0.estimator.rawValue, value: $0.value, ciLow: $0.ciLow, ciHigh: $0.ciHigh, count: log.count) }
            metrics.append(MetricValue(name: "ess", value: diag.effectiveSampleSize, ciLow: .nan, ciHigh: .nan, count: log.count))
            let verdict = Gate.evaluate(rules, on: [AgentMetricSet(agent: "candidate", metrics: metrics)])
            gateFailed = !verdict.passed
            md += "\n## Gate: \(verdict.passed ? "passed" : "FAILED")\n\n| rule | result | detail |\n|---|---|---|\n"
            var gcsv = "rule,passed,measured,detail\n"
            for res in verdict.results {
                let name = res.rule.source ?? res.rule.metric
                var why = res.reason
                if res.rule.metric == "ess" && !res.passed {
                    why += String(format: " — the importance weights are worth only %.1f rows: the candidate fails whatever its point estimates", diag.effectiveSampleSize)
                }
                if res.rule.source?.contains("logged") == true { why += String(format: " (logged policy's value %.6f)", log.meanReward) }
                md += "| `\(name)` | \(res.passed ? "pass" : "**fail**") | \(why) |\n"
                gcsv += "\(Render.csvField(name)),\(res.passed),\(res.measured.map { "\($0)" } ?? ""),\(Render.csvField(why))\n"
            }
            files.append(("gate.csv", gcsv))
        }
        // Delayed rewards.
        if let signals, let cutoffs {
            let durations = cutoffs.split(separator: ",").map { Self.parseDuration(String($0))! }
            guard log.times.count == log.count else { throw DataError(file: logs, column: "timestamp", message: "the log has no timestamps; cut-offs need them") }
            let last = log.times.max()!
            let parsed = try LogImport.rewardSignals(path: signals, episodeIDs: ids)
            let weights = try signalWeightsFor(sc: sc, signals: parsed, log: log)
            let (rewards, arrived, full) = try parsed.rewards(times: log.times, weights: weights, cutoffs: durations.map { last + $0 })
            let mismatch = zip(full, log.reward).map { abs($0 - $1) }.max() ?? 0
            md += "\n## Delayed rewards: the estimate at cut-offs\n\n"
            md += "Signals from `\(signals)` with weights \(weights.sorted { $0.key < $1.key }.map { "\($0.key) \(formatG($0.value))" }.joined(separator: ", ")); a signal counts at a cut-off when decision time + latency <= cut-off (after the log's last decision); signals not yet arrived are missing and contribute nothing. With every signal the rewards reproduce reward_score to \(String(format: "%.1e", mismatch)).\n\n"
            md += "| cut-off after the last decision | signals arrived | logged value | " + OPEEstimator.allCases.map { $0.title }.joined(separator: " | ") + " |\n"
            md += "|---|---|---|" + String(repeating: "---|", count: OPEEstimator.allCases.count) + "\n"
            var ccsv = "cutoff_seconds,signals_arrived,logged_value,estimator,value,ci_low,ci_high\n"
            var variants: [(String, Double, [Double], Double)] = zip(durations, zip(rewards, arrived)).map { (d, ra) in (formatDuration(d), d, ra.0, ra.1) }
            variants.append(("every signal", .infinity, full, 1))
            for (label, d, r, share) in variants {
                var l2 = log
                l2.reward = r
                let k2 = rewardModel == "auto" ? RewardModelKind.automatic(for: l2) : kind
                let (e2, _) = OPERunner.run(log: l2, policy: target, seed: seed, resamples: resamples, threads: threads, folds: folds,
                                            lambda: switchLambda, kind: k2)
                md += "| \(label) | \(String(format: "%.1f%%", 100 * share)) | \(String(format: "%.5f", l2.meanReward)) | "
                    + e2.map { String(format: "%.5f [%.5f, %.5f]", $0.value, $0.ciLow, $0.ciHigh) }.joined(separator: " | ") + " |\n"
                for e in e2 { ccsv += "\(d.isFinite ? "\(d)" : "inf"),\(share),\(l2.meanReward),\(e.estimator.rawValue),\(e.value),\(e.ciLow),\(e.ciHigh)\n" }
            }
            files.append(("cutoffs.csv", ccsv))
        }
        if let out { try writeReportDirectory(out, [("report.md", md), ("estimates.csv", csv)] + files) }
        print(md)
        if gateFailed { throw Exit.gateFailed }
    }

    /// The signal weights: --signal-weights, else the scenario's, else solved from the log.
    func signalWeightsFor(sc: Scenario?, signals: RewardSignals, log: LoggedBandit) throws -> [String: Double] {
        if let w = signalWeights { return try parseWeights(w) }
        if let sc {
            guard sc.sim.rewards.shiftAtDay == nil else {
                throw DataError(file: scenario!, column: "rewards.shift_at_day", message: "the reward weights change during the run; give --signal-weights for the logged period")
            }
            return ["engagement": sc.sim.rewards.engagementWeight, "resonance": sc.sim.rewards.resonanceWeight, "explicit_feedback": sc.sim.rewards.explicitWeight]
        }
        // Solve reward_score = sum_k w_k (sum of the episode's type-k values) by least squares.
        let kinds = ["engagement", "resonance", "explicit_feedback"]
        var columns: [[Double]] = []
        for k in kinds {
            let one = Dictionary(uniqueKeysWithValues: kinds.map { ($0, $0 == k ? 1.0 : 0.0) })
            columns.append(try signals.rewards(times: log.times, weights: one, cutoffs: []).all)
        }
        var g = [Double](repeating: 0, count: 9), b = [Double](repeating: 0, count: 3)
        for i in 0..<log.count {
            for j in 0..<3 {
                b[j] += columns[j][i] * log.reward[i]
                for k in 0..<3 { g[j * 3 + k] += columns[j][i] * columns[k][i] }
            }
        }
        for j in 0..<3 { g[j * 4] += 1e-12 }
        guard let w = Cholesky.solve(g, b, n: 3) else {
            throw DataError(file: signals.path, message: "cannot solve the signal weights from the log; give --signal-weights or --scenario")
        }
        let residual = (0..<log.count).map { i in abs(log.reward[i] - (0..<3).reduce(0) { $0 + w[$1] * columns[$1][i] }) }.max() ?? 0
        guard residual <= 1e-6 else {
            throw DataError(file: signals.path, message: String(format: "reward_score is not a fixed weighted sum of the signals (best fit leaves %.3g); give --signal-weights or --scenario", residual))
        }
        return Dictionary(uniqueKeysWithValues: zip(kinds, w.map { ($0 * 1e9).rounded() / 1e9 }))
    }
}

func formatDuration(_ s: Double) -> String {
    if s == 0 { return "0" }
    if s.truncatingRemainder(dividingBy: 86_400) == 0 { return "\(Int(s / 86_400))d" }
    if s.truncatingRemainder(dividingBy: 3600) == 0 { return "\(Int(s / 3600))h" }
    if s.truncatingRemainder(dividingBy: 60) == 0 { return "\(Int(s / 60))m" }
    return "\(formatG(s))s"
}


/// Flag checks shared by the `ope` commands.
func validateOPEOptions(resamples: Int, folds: Int, switchLambda: Double, threads: Int) throws {
    guard (10...1_000_000).contains(resamples) else { throw ValidationError("--resamples must be in [10, 1000000], got \(resamples)") }
    guard (1...20).contains(folds) else { throw ValidationError("--folds must be in [1, 20], got \(folds)") }
    guard switchLambda > 0 else { throw ValidationError("--switch-lambda must be > 0, got \(switchLambda)") }
    guard (1...256).contains(threads) else { throw ValidationError("--threads must be in [1, 256], got \(threads)") }
}

/// Shared: run every estimator and format a table.
enum OPERunner {
    static func run(log: LoggedBandit, policy: TargetPolicy, seed: UInt64, resamples: Int, threads: Int, folds: Int, lambda: Double,
                    kind: RewardModelKind = .logistic) -> (estimates: [OPEEstimate], diagnostics: WeightDiagnostics) {
        let root = SeedTree(root: seed)
        let model = RewardModel(log: log, folds: folds, kind: kind, seed: root)
        let rows = OPE.rows(log, policy, model: model)
        let est = OPE.estimate(rows, estimators: OPEEstimator.allCases, lambda: lambda, resamples: resamples, seed: root, threads: threads)
        return (est, WeightDiagnostics(weights: rows.w, unsupportedMass: OPE.unloggedMass(log, policy)))
    }
}

struct OPEOpenBandit: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "obd",
        abstract: "The Open Bandit Dataset experiment (Saito et al. 2021): estimate Bernoulli TS from the Random policy's logs and Random from the BTS logs, per campaign, and compare with each policy's on-policy value in its own logs.",
        discussion: """
        Data: <data>/{random,bts}/{all,men,women}/<campaign>.csv with item_context.csv, and the BTS prior <data>/prior_bts.yaml (the layout of ../shared/data/obd). The target BTS is the prior-only ZOZOTOWN policy; its probability of each item at each position is computed by numerical integration (see BernoulliTSTable). Positions are handled as the Open Bandit Pipeline does: each logged row is one (impression, position) record; the target's probability is that of the logged item at the logged position, divided by the logged per-position propensity; the value is the mean click per record. The reward model for DM / DR / SNDR / Switch-DR is a logistic regression per position on [user-feature one-hot, item features], C = 100, 3-fold cross-fitting. Writes report.md and estimates.csv to --out.
        """
    )

    @Option(help: "The Open Bandit Dataset directory.")
    var data: String = "../shared/data/obd"

    @Option(help: "Campaigns (comma-separated).")
    var campaigns: String = "all,men,women"

    @Option(help: "Output directory (must not exist or be empty).")
    var out: String = "reports/obd-ope"

    @Option(help: "Bootstrap resamples per estimate.")
    var resamples: Int = 1000

    @Option(help: "Cross-fitting folds of the reward model.")
    var folds: Int = 3

    @Option(name: .customLong("switch-lambda"), help: "Switch-DR's weight threshold (rows with larger importance weights use the reward model only).")
    var switchLambda: Double = 100

    @Option(name: .customLong("grid-points"), help: "Nodes of the numerical integration of the BTS position table.")
    var gridPoints: Int = 40_000

    @Option(help: "Root seed.")
    var seed: UInt64 = 12345

    @Option(help: "Worker threads for the bootstrap.")
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    func validate() throws {
        try validateOPEOptions(resamples: resamples, folds: folds, switchLambda: switchLambda, threads: threads)
        guard (100...10_000_000).contains(gridPoints) else { throw ValidationError("--grid-points must be in [100, 10000000], got \(gridPoints)") }
        let known = ["all", "men", "women"]
        for c in campaigns.split(separator: ",") where !known.contains(String(c)) {
            throw ValidationError("--campaigns: '\(c)' is not one of all, men, women")
        }
        try requireEmptyOutput(out)
    }

    struct Row { var campaign: String; var direction: String; var estimator: String; var value: Double; var low: Double; var high: Double; var truth: Double }

    func run() throws {
        do { try experiment() } catch let e as DataError { printError(e.description); throw Exit.dataError }
    }

    func experiment() throws {
        var rows: [Row] = []
        var notes: [String] = []
        let t0 = DispatchTime.now().uptimeNanoseconds
        for c in campaigns.split(separator: ",").map(String.init) {
            let random = try LogImport.openBandit(directory: data, policy: "random", campaign: c)
            let bts = try LogImport.openBandit(directory: data, policy: "bts", campaign: c)
            let prior = try BTSPrior.load(path: URL(fileURLWithPath: data).appendingPathComponent("prior_bts.yaml").path, campaign: c)
            guard prior.alpha.count == random.actions else {
                throw DataError(file: "\(data)/prior_bts.yaml", column: c, message: "the prior has \(prior.alpha.count) items; the log has \(random.actions) actions")
            }
            let table = BernoulliTSTable.integrate(alpha: prior.alpha, beta: prior.beta, positions: 3, gridPoints: gridPoints)
            let btsPolicy = ContextFreePolicy(actions: random.actions, positions: 3, table: table, name: "bts")
            let uniform = ContextFreePolicy.uniform(actions: bts.actions, positions: 3)
            for (direction, log, policy, truth) in [("BTS from Random logs", random, btsPolicy as TargetPolicy, bts.meanReward),
                                                    ("Random from BTS logs", bts, uniform as TargetPolicy, random.meanReward)] {
                let (est, diag) = OPERunner.run(log: log, policy: policy, seed: seed, resamples: resamples, threads: threads, folds: folds, lambda: switchLambda)
                for e in est {
                    rows.append(Row(campaign: c, direction: direction, estimator: e.estimator.title, value: e.value, low: e.ciLow, high: e.ciHigh, truth: truth))
                }
                notes.append(String(format: "%@, %@: %d rows, ESS %.0f (%.1f%%), max weight %.1f, mean weight %.3f, truth %.6f",
                                    c as NSString, direction as NSString, log.count, diag.effectiveSampleSize,
                                    100 * diag.effectiveSampleSize / Double(log.count), diag.maxWeight, diag.meanWeight, truth))
                printError("\(c): \(direction) done")
            }
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
        var md = "# Off-policy evaluation on the Open Bandit Dataset\n\n"
        md += "Data: `\(data)` (the Open Bandit Dataset sample, ZOZO, CC BY 4.0). Truth: the target policy's on-policy value, the mean click in its own logs. Relative error = |estimate - truth| / truth. Intervals: \(resamples)-resample percentile bootstrap (seed \(seed)). Switch-DR lambda \(formatG(switchLambda)). \(String(format: "%.1f", seconds)) s.\n\n"
        md += "| campaign | direction | estimator | estimate | 95% interval | truth | relative error |\n|---|---|---|---|---|---|---|\n"
        var csv = "campaign,direction,estimator,value,ci_low,ci_high,truth,relative_error\n"
        for r in rows {
            let rel = abs(r.value - r.truth) / r.truth
            md += String(format: "| %@ | %@ | %@ | %.6f | [%.6f, %.6f] | %.6f | %.3f |\n", r.campaign as NSString, r.direction as NSString,
                         r.estimator as NSString, r.value, r.low, r.high, r.truth, rel)
            csv += "\(r.campaign),\(r.direction),\(r.estimator),\(r.value),\(r.low),\(r.high),\(r.truth),\(rel)\n"
        }
        md += "\n## Importance weights\n\n" + notes.map { "- \($0)" }.joined(separator: "\n") + "\n"
        md += "\nPositions: each logged row is one (impression, position) record with the logging policy's per-position propensity; the target's probability is that of the logged item at the logged position (as the Open Bandit Pipeline). The BTS table is the prior-only policy's, integrated numerically (\(gridPoints) nodes).\n"
        try writeReport(md: md, csv: csv)
        print(md)
    }

    func writeReport(md: String, csv: String) throws {
        try writeReportDirectory(out, [("report.md", md), ("estimates.csv", csv)])
    }
}

func formatG(_ x: Double) -> String { x.isFinite ? String(format: "%g", x) : "inf" }

struct OPEValidate: ParsableCommand {
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

    @Option(help: "Bootstrap resamples per estimate.")
    var resamples: Int = 1000

    @Option(help: "Cross-fitting folds of the reward model.")
    var folds: Int = 3

    @Option(name: .customLong("switch-lambda"), help: "Switch-DR's weight threshold.")
    var switchLambda: Double = 100

    @Option(help: "Root seed (default: the scenario's, else 1).")
    var seed: UInt64?

    @Option(help: "Worker threads (results do not depend on it).")
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    @Option(help: "Output directory (must not exist or be empty). Default: reports/<scenario>/ope-validate-<run-id>.")
    var out: String?

    @Flag(help: "No progress output on stderr.")
    var quiet = false

    func validate() throws {
        guard (0...1).contains(behaviourMix) else { throw ValidationError("--behaviour-mix must be in [0, 1], got \(behaviourMix)") }
        guard (0...1).contains(targetMix) else { throw ValidationError("--target-mix must be in [0, 1], got \(targetMix)") }
        guard (1...100_000).contains(repetitions) else { throw ValidationError("--repetitions must be in [1, 100000], got \(repetitions)") }
        if let d = decisions { guard (10...100_000_000).contains(d) else { throw ValidationError("--decisions must be in [10, 100000000], got \(d)") } }
        guard OPEValidationConfig.TruthMode(rawValue: truth) != nil else { throw ValidationError("--truth must be same-world or fresh-worlds, got '\(truth)'") }
        guard (1...100_000).contains(truthRuns) else { throw ValidationError("--truth-runs must be in [1, 100000], got \(truthRuns)") }
        try validateOPEOptions(resamples: resamples, folds: folds, switchLambda: switchLambda, threads: threads)
        if let out { try requireEmptyOutput(out) }
    }

    func run() throws {
        let sc: Scenario
        do { sc = try ScenarioLoader.load(path: scenario) } catch let e as ScenarioError { printError(e.description); throw Exit.dataError }
        var c = OPEValidationConfig()
        c.behaviour = behaviour; c.target = target; c.behaviourMix = behaviourMix; c.targetMix = targetMix
        c.repetitions = repetitions; c.decisions = decisions; c.truthRuns = truthRuns; c.truthMode = OPEValidationConfig.TruthMode(rawValue: truth)!; c.resamples = resamples; c.folds = folds
        c.switchLambda = switchLambda; c.threads = threads; c.seed = seed ?? sc.seed ?? 1
        let dest = out ?? "reports/\(sc.name)/ope-validate-\(makeRunID(started: Date(), seed: c.seed))"
        if let c = try? FileManager.default.contentsOfDirectory(atPath: dest), !c.isEmpty {
            printError("error: \(dest): the output directory exists and is not empty; choose another --out (nothing was run)")
            throw Exit.usage
        }
        let progress = Progress(enabled: !quiet)
        let t0 = DispatchTime.now().uptimeNanoseconds
        let r: OPEValidationResult
        do { r = try OPEValidation.run(scenario: sc, config: c, progress: progress) } catch let e as OPECandidateError {
            progress.finish(); printError("error: \(scenario): \(e.description)"); throw Exit.dataError
        } catch {
            progress.finish(); printError("error: \(scenario): \(error)"); throw Exit.dataError
        }
        progress.finish()
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
        let md = Self.report(r, scenario: sc.name, file: scenario) + String(format: "\n%.1f s.\n", seconds)
        var est = "repetition,estimator,value,ci_low,ci_high,truth,covered,ess,max_weight\n"
        for (i, row) in r.estimates.enumerated() {
            for e in row {
                est += "\(i),\(e.estimator.rawValue),\(e.value),\(e.ciLow),\(e.ciHigh),\(r.truths[i]),\(e.ciLow <= r.truths[i] && r.truths[i] <= e.ciHigh),\(r.diagnostics[i].effectiveSampleSize),\(r.diagnostics[i].maxWeight)\n"
            }
        }
        var cov = "estimator,mean_estimate,truth,bias,rmse,mean_ci_width,coverage,repetitions\n"
        for s in r.summaries {
            cov += "\(s.estimator.rawValue),\(s.meanEstimate),\(r.truth),\(s.bias),\(s.rmse),\(s.meanWidth),\(s.coverage),\(r.estimates.count)\n"
        }
        do { try writeReportDirectory(dest, [("report.md", md), ("estimates.csv", est), ("coverage.csv", cov)]) } catch let e as DataError {
            printError(e.description); throw Exit.dataError
        }
        print(md)
    }

    static func report(_ r: OPEValidationResult, scenario: String, file: String) -> String {
        let c = r.config
        var md = "# Off-policy validation in the simulator: \(scenario)\n\n"
        md += "| | |\n|---|---|\n| scenario | `\(file)` |\n"
        md += "| behaviour (logging) | \(c.behaviour)\(c.behaviourMix > 0 ? String(format: " mixed with %.2f uniform", c.behaviourMix) : "") |\n"
        md += "| target | \(c.target)\(c.targetMix > 0 ? String(format: " mixed with %.2f uniform", c.targetMix) : "") |\n"
        md += "| repetitions | \(r.estimates.count) logged worlds of \(r.decisions) decisions |\n"
        if c.truthMode == .sameWorld {
            md += String(format: "| truth (target on-policy) | per repetition: the target in the logged world with fresh action seeds, mean of %d runs (standard error %.5f); mean over repetitions %.5f |\n", c.truthRuns, r.truthStandardError, r.truth)
        } else {
            md += String(format: "| truth (target on-policy) | %.5f ± %.5f (standard error over %d fresh worlds) |\n", r.truth, r.truthStandardError, c.truthRuns)
        }
        let lv = r.loggedValue.reduce(0, +) / Double(max(1, r.loggedValue.count))
        md += String(format: "| behaviour's own value | %.5f (mean over the logs) |\n", lv)
        let ess = r.diagnostics.map { $0.effectiveSampleSize }.reduce(0, +) / Double(max(1, r.diagnostics.count))
        let mw = r.diagnostics.map { $0.maxWeight }.max() ?? 0
        let um = r.diagnostics.compactMap { $0.unsupportedMass }.reduce(0, +) / Double(max(1, r.diagnostics.count))
        md += String(format: "| importance weights | mean ESS %.0f of %d rows, largest weight %.2f, target mass without behaviour support %.4f |\n", ess, r.decisions, mw, um)
        md += "| seed, resamples, folds | \(c.seed), \(c.resamples), \(c.folds) |\n\n"
        if r.estimates.count == 1 {
            md += "| estimator | estimate | 95% interval | truth | covers |\n|---|---|---|---|---|\n"
            for e in r.estimates[0] {
                md += String(format: "| %@ | %.5f | [%.5f, %.5f] | %.5f | %@ |\n", e.estimator.title as NSString, e.value, e.ciLow, e.ciHigh, r.truths[0],
                             (e.ciLow <= r.truths[0] && r.truths[0] <= e.ciHigh ? "yes" : "no") as NSString)
            }
        } else {
            md += "| estimator | mean estimate | bias | RMSE | mean interval width | coverage of the truth |\n|---|---|---|---|---|---|\n"
            for s in r.summaries {
                md += String(format: "| %@ | %.5f | %+.5f | %.5f | %.5f | %.0f%% |\n", s.estimator.title as NSString, s.meanEstimate, s.bias, s.rmse, s.meanWidth, 100 * s.coverage)
            }
        }
        return md
    }
}
