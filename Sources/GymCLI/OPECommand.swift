import ArgumentParser
import Foundation
import GymEval
import GymRandom
import GymScenario
import GymSynth

struct OPECommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ope",
        abstract: "Off-policy evaluation: estimate a candidate policy's value from logged data (DM, IPS, SNIPS, DR, SNDR, Switch-DR with bootstrap intervals and weight diagnostics).",
        subcommands: [OPEEstimateCommand.self, OPEOpenBandit.self],
        defaultSubcommand: OPEEstimateCommand.self
    )
}

struct OPEEstimateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "estimate",
        abstract: "Estimate a candidate policy from logs (the default: `optima-gym ope --logs FILE --policy SPEC`).",
        discussion: """
        --logs: the simulator's training_episodes.jsonl (action_index, reward_score, propensity, numeric context_snapshot fields); a CSV with a header: action (0-based integer), reward, propensity (the logging policy's probability of that action), optionally position (0-based), and every other numeric column as a context feature; or obd:DIR/POLICY/CAMPAIGN for the Open Bandit Dataset layout (e.g. obd:../shared/data/obd/random/all).
        --policy: uniform, bts:PRIOR.yaml:CAMPAIGN (prior-only Bernoulli Thompson sampling), or probs:FILE.csv (one row per logged row, in log order, columns p_0 ... p_{K-1}).
        Writes report.md and estimates.csv (estimator, value, ci_low, ci_high) to --out, atomically.
        """
    )

    @Option(help: "The logged data (CSV, or obd:DIR/POLICY/CAMPAIGN).")
    var logs: String

    @Option(help: "The candidate policy: uniform, bts:PRIOR.yaml:CAMPAIGN or probs:FILE.csv.")
    var policy: String

    @Option(help: "Number of actions of the log's action space (default: the largest logged action + 1, or the policy's).")
    var actions: Int?

    @Option(help: "Output directory (must not exist or be empty).")
    var out: String?

    @Option(help: "Bootstrap resamples.")
    var resamples: Int = 1000

    @Option(help: "Cross-fitting folds of the reward model.")
    var folds: Int = 3

    @Option(name: .customLong("switch-lambda"), help: "Switch-DR's weight threshold.")
    var switchLambda: Double = 100

    @Option(name: .customLong("ess-floor"), help: "Effective sample size below which the candidate is flagged (its estimates are not to be trusted).")
    var essFloor: Double = 100

    @Option(help: "Root seed.")
    var seed: UInt64 = 1

    @Option(help: "Worker threads for the bootstrap.")
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    func validate() throws {
        guard (10...1_000_000).contains(resamples) else { throw ValidationError("--resamples must be in [10, 1000000], got \(resamples)") }
        guard (1...20).contains(folds) else { throw ValidationError("--folds must be in [1, 20], got \(folds)") }
        if let a = actions { guard (1...1_000_000).contains(a) else { throw ValidationError("--actions must be in [1, 1000000], got \(a)") } }
        guard (1...256).contains(threads) else { throw ValidationError("--threads must be in [1, 256], got \(threads)") }
        guard policy == "uniform" || policy.hasPrefix("bts:") || policy.hasPrefix("probs:") else {
            throw ValidationError("--policy must be uniform, bts:PRIOR.yaml:CAMPAIGN or probs:FILE.csv, got '\(policy)'")
        }
        if let out {
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: out, isDirectory: &isDir) {
                guard isDir.boolValue, (try? FileManager.default.contentsOfDirectory(atPath: out))?.isEmpty == true else {
                    throw ValidationError("--out '\(out)' exists and is not an empty directory")
                }
            }
        }
    }

    func run() throws {
        do { try estimate() } catch let e as DataError { printError(e.description); throw Exit.dataError }
    }

    func loadLog() throws -> LoggedBandit {
        if logs.hasPrefix("obd:") {
            let url = URL(fileURLWithPath: String(logs.dropFirst(4)))
            let campaign = url.lastPathComponent, pol = url.deletingLastPathComponent().lastPathComponent
            return try LogImport.openBandit(directory: url.deletingLastPathComponent().deletingLastPathComponent().path, policy: pol, campaign: campaign)
        }
        if logs.hasSuffix(".jsonl") { return try LogImport.episodes(path: logs, actions: actions) }
        return try LogImport.csv(path: logs, actions: actions)
    }

    func estimate() throws {
        let log = try loadLog()
        let target: TargetPolicy
        if policy == "uniform" {
            target = ContextFreePolicy.uniform(actions: log.actions, positions: log.positions)
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
        } else {
            target = try LogImport.policyProbabilities(path: String(policy.dropFirst(6)), rows: log.count, actions: log.actions, positions: log.positions)
        }
        let (est, diag) = OPERunner.run(log: log, policy: target, seed: seed, resamples: resamples, threads: threads, folds: folds, lambda: switchLambda)
        let flagged = diag.effectiveSampleSize < essFloor
        var md = "# Off-policy evaluation\n\n| | |\n|---|---|\n| logs | `\(logs)`: \(log.count) rows, \(log.actions) actions, \(log.positions) position(s) |\n"
        md += "| candidate | `\(policy)` |\n| logged policy's value (mean reward) | \(String(format: "%.6f", log.meanReward)) |\n| seed | \(seed) |\n\n"
        md += "| estimator | value | 95% interval |\n|---|---|---|\n"
        var csv = "estimator,value,ci_low,ci_high\n"
        for e in est {
            md += String(format: "| %@ | %.6f | [%.6f, %.6f] |\n", e.estimator.title as NSString, e.value, e.ciLow, e.ciHigh)
            csv += "\(e.estimator.rawValue),\(e.value),\(e.ciLow),\(e.ciHigh)\n"
        }
        md += String(format: "\nImportance weights: effective sample size %.1f of %d rows (%.1f%%), max weight %.2f, mean weight %.4f.\n",
                     diag.effectiveSampleSize, log.count, 100 * diag.effectiveSampleSize / Double(max(1, log.count)), diag.maxWeight, diag.meanWeight)
        if flagged {
            md += String(format: "\n**Flagged:** the effective sample size %.1f is below the floor %g: the candidate's estimates rest on too few rows; a gate must not pass it.\n", diag.effectiveSampleSize, essFloor)
        }
        if let out { try writeReportDirectory(out, [("report.md", md), ("estimates.csv", csv)]) }
        print(md)
    }
}

/// Shared: run every estimator and format a table.
enum OPERunner {
    static func run(log: LoggedBandit, policy: TargetPolicy, seed: UInt64, resamples: Int, threads: Int, folds: Int, lambda: Double)
        -> (estimates: [OPEEstimate], diagnostics: WeightDiagnostics) {
        let root = SeedTree(root: seed)
        let model = RewardModel(log: log, folds: folds, seed: root)
        let rows = OPE.rows(log, policy, model: model)
        let est = OPE.estimate(rows, estimators: OPEEstimator.allCases, lambda: lambda, resamples: resamples, seed: root, threads: threads)
        return (est, WeightDiagnostics(weights: rows.w))
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
        guard (10...1_000_000).contains(resamples) else { throw ValidationError("--resamples must be in [10, 1000000], got \(resamples)") }
        guard (1...20).contains(folds) else { throw ValidationError("--folds must be in [1, 20], got \(folds)") }
        guard switchLambda > 0 else { throw ValidationError("--switch-lambda must be > 0, got \(switchLambda)") }
        guard (100...10_000_000).contains(gridPoints) else { throw ValidationError("--grid-points must be in [100, 10000000], got \(gridPoints)") }
        guard (1...256).contains(threads) else { throw ValidationError("--threads must be in [1, 256], got \(threads)") }
        let known = ["all", "men", "women"]
        for c in campaigns.split(separator: ",") where !known.contains(String(c)) {
            throw ValidationError("--campaigns: '\(c)' is not one of all, men, women")
        }
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: out, isDirectory: &isDir) {
            guard isDir.boolValue, (try? FileManager.default.contentsOfDirectory(atPath: out))?.isEmpty == true else {
                throw ValidationError("--out '\(out)' exists and is not an empty directory")
            }
        }
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
