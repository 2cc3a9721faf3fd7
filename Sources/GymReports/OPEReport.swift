import Foundation
import GymEval
import GymGate

/// The report of `ope` (one candidate on one log): estimates, weight diagnostics, the gate and
/// the delayed-reward cut-offs.
public struct OPEEstimateReport: Sendable {
    public var logs: String
    public var rows: Int
    public var actions: Int
    public var positions: Int
    public var candidate: String
    public var loggedValue: Double
    public var rewardModel: String
    public var folds: Int
    public var seed: UInt64
    public var confidence = 0.95
    public var estimates: [OPEEstimate]
    public var diagnostics: WeightDiagnostics
    public var essFloor: Double
    public var gate: OPEGate.Result?
    public struct Cutoffs: Sendable {
        public var signalsPath: String
        public var weights: [(String, Double)]
        public var mismatch: Double
        public var rows: [DelayedRewards.Cutoff]
        public init(signalsPath: String, weights: [(String, Double)], mismatch: Double, rows: [DelayedRewards.Cutoff]) {
            self.signalsPath = signalsPath; self.weights = weights; self.mismatch = mismatch; self.rows = rows
        }
    }
    public var cutoffs: Cutoffs?

    public init(logs: String, rows: Int, actions: Int, positions: Int, candidate: String, loggedValue: Double, rewardModel: String,
                folds: Int, seed: UInt64, estimates: [OPEEstimate], diagnostics: WeightDiagnostics, essFloor: Double) {
        self.logs = logs; self.rows = rows; self.actions = actions; self.positions = positions; self.candidate = candidate
        self.loggedValue = loggedValue; self.rewardModel = rewardModel; self.folds = folds; self.seed = seed
        self.estimates = estimates; self.diagnostics = diagnostics; self.essFloor = essFloor
    }

    /// The effective sample size is below the floor: every estimate rests on too few rows.
    public var flagged: Bool { diagnostics.effectiveSampleSize < essFloor }

    public func markdown() -> String {
        let level = Render.percent(confidence)
        var md = "# Off-policy evaluation\n\n| | |\n|---|---|\n| logs | `\(logs)`: \(rows) rows, \(actions) actions, \(positions) position(s) |\n"
        md += "| candidate | `\(candidate)` |\n| logged policy's value (mean reward) | \(String(format: "%.6f", loggedValue)) |\n"
        md += "| reward model | \(rewardModel), \(folds)-fold cross-fitting |\n| seed | \(seed) |\n\n"
        md += "| estimator | value | \(level) interval | ESS | max weight | flag |\n|---|---|---|---|---|---|\n"
        for e in estimates {
            md += String(format: "| %@ | %.6f | [%.6f, %.6f] | %.1f | %.2f | %@ |\n", e.estimator.title as NSString, e.value, e.ciLow, e.ciHigh,
                         diagnostics.effectiveSampleSize, diagnostics.maxWeight, (flagged ? "**ESS below \(Render.g(essFloor))**" : "") as NSString)
        }
        md += String(format: "\nImportance weights: effective sample size %.1f of %d rows (%.1f%%), max weight %.2f, mean weight %.4f.\n",
                     diagnostics.effectiveSampleSize, rows, 100 * diagnostics.effectiveSampleSize / Double(max(1, rows)), diagnostics.maxWeight, diagnostics.meanWeight)
        if let u = diagnostics.unsupportedMass {
            md += String(format: "Share of the candidate's probability mass on actions the log never shows at that position (an estimate of the mass without logging support): %.4f.\n", u)
        }
        if flagged {
            md += String(format: "\n**Flagged:** the effective sample size %.1f is below the floor %@: the candidate's estimates rest on too few rows; a gate fails it.\n",
                         diagnostics.effectiveSampleSize, Render.g(essFloor) as NSString)
        }
        if let gate { md += gate.markdown }
        if let c = cutoffs {
            md += "\n## Delayed rewards: the estimate at cut-offs\n\n"
            md += "Signals from `\(c.signalsPath)` with weights \(c.weights.map { "\($0.0) \(Render.g($0.1))" }.joined(separator: ", ")); a signal counts at a cut-off when decision time + latency <= cut-off (after the log's last decision); signals not yet arrived are missing and contribute nothing. With every signal the rewards reproduce reward_score to \(String(format: "%.1e", c.mismatch)).\n\n"
            md += "| cut-off after the last decision | signals arrived | logged value | " + OPEEstimator.allCases.map { $0.title }.joined(separator: " | ") + " |\n"
            md += "|---|---|---|" + String(repeating: "---|", count: OPEEstimator.allCases.count) + "\n"
            for r in c.rows {
                md += "| \(r.seconds.isFinite ? Render.duration(r.seconds) : "every signal") | \(String(format: "%.1f%%", 100 * r.signalsArrived)) | \(String(format: "%.5f", r.loggedValue)) | "
                    + r.estimates.map { String(format: "%.5f [%.5f, %.5f]", $0.value, $0.ciLow, $0.ciHigh) }.joined(separator: " | ") + " |\n"
            }
        }
        return md
    }

    /// estimator, value, interval, and beside each estimate the weights' ESS, largest weight and
    /// whether the ESS is below the floor.
    public func estimatesCSV() -> String {
        var csv = "estimator,value,ci_low,ci_high,ess,max_weight,ess_below_floor\n"
        for e in estimates {
            csv += "\(e.estimator.rawValue),\(e.value),\(e.ciLow),\(e.ciHigh),\(diagnostics.effectiveSampleSize),\(diagnostics.maxWeight),\(flagged)\n"
        }
        return csv
    }

    public func files() -> [(name: String, text: String)] {
        var out = [("estimates.csv", estimatesCSV())]
        if let gate { out.append(("gate.csv", gate.csv)) }
        if let c = cutoffs {
            var t = "cutoff_seconds,signals_arrived,logged_value,estimator,value,ci_low,ci_high\n"
            for r in c.rows {
                for e in r.estimates {
                    t += "\(r.seconds.isFinite ? "\(r.seconds)" : "inf"),\(r.signalsArrived),\(r.loggedValue),\(e.estimator.rawValue),\(e.value),\(e.ciLow),\(e.ciHigh)\n"
                }
            }
            out.append(("cutoffs.csv", t))
        }
        out.append(("report.md", markdown()))
        return out
    }
}

/// The report of `ope obd`: per campaign and direction, every estimator against the truth.
public struct OPEOpenBanditReport: Sendable {
    public struct Row: Sendable {
        public var campaign: String, direction: String, estimator: OPEEstimator
        public var value: Double, low: Double, high: Double, truth: Double
        public var ess: Double, maxWeight: Double
        public init(campaign: String, direction: String, estimator: OPEEstimator, value: Double, low: Double, high: Double, truth: Double,
                    ess: Double, maxWeight: Double) {
            self.campaign = campaign; self.direction = direction; self.estimator = estimator; self.value = value; self.low = low
            self.high = high; self.truth = truth; self.ess = ess; self.maxWeight = maxWeight
        }
    }
    public var data: String
    public var rows: [Row] = []
    public var notes: [String] = []
    public var resamples: Int
    public var seed: UInt64
    public var switchLambda: Double
    public var gridPoints: Int
    public var essFloor: Double
    public var seconds: Double = 0

    public init(data: String, resamples: Int, seed: UInt64, switchLambda: Double, gridPoints: Int, essFloor: Double) {
        self.data = data; self.resamples = resamples; self.seed = seed; self.switchLambda = switchLambda; self.gridPoints = gridPoints
        self.essFloor = essFloor
    }

    public func markdown() -> String {
        var md = "# Off-policy evaluation on the Open Bandit Dataset\n\n"
        md += "Data: `\(data)` (the Open Bandit Dataset sample, ZOZO, CC BY 4.0). Truth: the target policy's on-policy value, the mean click in its own logs. Relative error = |estimate - truth| / truth. Intervals: \(resamples)-resample percentile bootstrap (seed \(seed)). Switch-DR lambda \(Render.g(switchLambda)). Estimates whose importance weights have an effective sample size (ESS) below \(Render.g(essFloor)) are flagged: they rest on too few rows. \(String(format: "%.1f", seconds)) s.\n\n"
        md += "| campaign | direction | estimator | estimate | 95% interval | truth | relative error | ESS | flag |\n|---|---|---|---|---|---|---|---|---|\n"
        for r in rows {
            let rel = abs(r.value - r.truth) / r.truth
            md += String(format: "| %@ | %@ | %@ | %.6f | [%.6f, %.6f] | %.6f | %.3f | %.0f | %@ |\n", r.campaign as NSString, r.direction as NSString,
                         r.estimator.title as NSString, r.value, r.low, r.high, r.truth, rel, r.ess, (r.ess < essFloor ? "**ESS below floor**" : "") as NSString)
        }
        md += "\n## Importance weights\n\n" + notes.map { "- \($0)" }.joined(separator: "\n") + "\n"
        md += "\nPositions: each logged row is one (impression, position) record with the logging policy's per-position propensity; the target's probability is that of the logged item at the logged position (as the Open Bandit Pipeline). The BTS table is the prior-only policy's, integrated numerically (\(gridPoints) nodes).\n"
        return md
    }

    public func csv() -> String {
        var csv = "campaign,direction,estimator,value,ci_low,ci_high,truth,relative_error,ess,max_weight,ess_below_floor\n"
        for r in rows {
            csv += "\(r.campaign),\(r.direction),\(r.estimator.title),\(r.value),\(r.low),\(r.high),\(r.truth),\(abs(r.value - r.truth) / r.truth),\(r.ess),\(r.maxWeight),\(r.ess < essFloor)\n"
        }
        return csv
    }

    public func files() -> [(name: String, text: String)] { [("estimates.csv", csv()), ("report.md", markdown())] }
}

extension OPEGate.Result {
    /// The report's gate section: the verdict and one row per rule.
    public var markdown: String {
        var md = "\n## Gate: \(verdict.passed ? "passed" : "FAILED")\n\n| rule | result | detail |\n|---|---|---|\n"
        for l in lines { md += "| `\(l.rule)` | \(l.passed ? "pass" : "**fail**") | \(l.detail) |\n" }
        return md
    }

    /// gate.csv: rule, passed, measured, detail.
    public var csv: String {
        var g = "rule,passed,measured,detail\n"
        for l in lines { g += "\(Render.csvField(l.rule)),\(l.passed),\(l.measured.map { "\($0)" } ?? ""),\(Render.csvField(l.detail))\n" }
        return g
    }
}
