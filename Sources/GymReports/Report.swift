import Foundation
import GymCore
import GymEval
import GymGate
import GymRandom

/// Everything a run report shows for one agent.
public struct AgentReport: Sendable {
    public var name: String
    public var isUpperBound: Bool
    public var metrics: [MetricValue]
    public var curve: [CurvePoint]
    public var trainingEpisodes: Int
    public var evaluationEpisodes: Int
    public var notes: [String]
    public init(name: String, isUpperBound: Bool, metrics: [MetricValue], curve: [CurvePoint],
                trainingEpisodes: Int, evaluationEpisodes: Int, notes: [String] = []) {
        self.name = name; self.isUpperBound = isUpperBound; self.metrics = metrics; self.curve = curve
        self.trainingEpisodes = trainingEpisodes; self.evaluationEpisodes = evaluationEpisodes; self.notes = notes
    }
    /// "oracle (myopic upper bound: reads hidden truth)" for agents that read the hidden truth.
    public var displayName: String { isUpperBound ? String(agentLabel(name, isUpperBound: true).dropLast()) + ": reads hidden truth)" : name }
    public func metric(_ n: String) -> MetricValue? { metrics.first { $0.name == n } }
}

/// One agent's success-outcome rate in one population group (the parity behind bias_parity).
public struct GroupRate: Sendable, Equatable {
    public var agent: String
    public var group: String
    public var decisions: Int
    public var successes: Int
    public var rate: Double
    /// Wilson score interval at `confidence` (the scenario's evaluation.confidence).
    public var low: Double
    public var high: Double
    public init(agent: String, group: String, decisions: Int, successes: Int, confidence: Double = 0.95) {
        self.agent = agent; self.group = group; self.decisions = decisions; self.successes = successes
        let n = Double(decisions)
        guard decisions > 0 else { rate = .nan; low = .nan; high = .nan; return }
        let p = Double(successes) / n, z = SpecialFunctions.twoSidedZ(confidence: confidence)
        rate = p
        let d = 1 + z * z / n, c = p + z * z / (2 * n), h = z * (p * (1 - p) / n + z * z / (4 * n * n)).squareRoot()
        low = max(0, (c - h) / d); high = min(1, (c + h) / d)
    }
}

/// A whole run's report.
public struct RunReport: Sendable {
    public var scenario: String
    public var scenarioFile: String
    public var description: String
    public var seed: UInt64
    public var generator: String
    public var gslVersion: String
    public var projectVersion: String
    public var wallTimeSeconds: Double
    public var runID: String
    public var agents: [AgentReport]
    public var verdict: GateVerdict
    public var targetPerformance: Double?
    public var settings: [(String, String)]
    public var files: [String]
    /// Confidence level of every interval (the scenario's `evaluation.confidence`).
    public var confidence: Double = 0.95
    /// Per agent and group: the success-outcome rate of the evaluation decisions.
    public var groupRates: [GroupRate] = []
    /// Paired differences of mean reward between agents (same evaluation users).
    public var comparisons: [PairedDifference] = []
    /// Per agent: the Kaplan-Meier share of users still active d days after their first session.
    public var survival: [(agent: String, curve: [Double])] = []
    /// Each agent's evaluation decisions by action family (no_action, suggest_pairing,
    /// recommend_hive, intervention), and the suggestions a user received per active day.
    public var actionMix: [(agent: String, counts: [Int], perUserDay: Double)] = []
    /// Where the simulated users came from, and the population's privacy and fidelity metrics
    /// (agent `population` in gate rules).
    public var populationSource = ""
    public var population: [MetricValue] = []
    /// The simulated population against real data, per column (when the scenario names real data).
    public var populationColumns: [PopulationColumn] = []
    public var populationRows: (real: Int, simulated: Int) = (0, 0)
    /// The circuit breakers over each agent's evaluation (empty: the scenario has none).
    public var breakers: [BreakerSummary] = []
    /// The files every run report holds (population.svg comes on top when the population is
    /// compared with real data) (logs and checkpoints come on top).
    public static let standardFiles = ["report.md", "metrics.csv", "learning_curve.csv", "learning_curve.svg", "parity.csv", "parity.svg",
                                       "survival.csv", "survival.svg", "run.json"]
    public init(scenario: String, scenarioFile: String, description: String, seed: UInt64, generator: String,
                gslVersion: String, projectVersion: String, wallTimeSeconds: Double, runID: String,
                agents: [AgentReport], verdict: GateVerdict, targetPerformance: Double?,
                settings: [(String, String)], files: [String]) {
        self.scenario = scenario; self.scenarioFile = scenarioFile; self.description = description; self.seed = seed
        self.generator = generator; self.gslVersion = gslVersion; self.projectVersion = projectVersion
        self.wallTimeSeconds = wallTimeSeconds; self.runID = runID; self.agents = agents; self.verdict = verdict
        self.targetPerformance = targetPerformance; self.settings = settings; self.files = files
    }
}

/// Pure render functions: a report in, text out.
public enum Render {
    /// A fixed-point number for tables; "n/a" when not finite.
    public static func f(_ x: Double, _ digits: Int = 4) -> String {
        x.isFinite ? String(format: "%.\(digits)f", x) : "n/a"
    }
    /// A CSV number in shortest round-trip form; empty when missing or not finite.
    public static func csvNumber(_ x: Double?) -> String {
        guard let x, x.isFinite else { return "" }
        return "\(x)"
    }
    /// `%g`, or "inf".
    public static func g(_ x: Double) -> String { x.isFinite ? String(format: "%g", x) : "inf" }
    /// A confidence level as a percentage: 0.95 -> "95%", 0.9 -> "90%", 0.975 -> "97.5%".
    public static func percent(_ level: Double) -> String {
        let p = level * 100
        return (p == p.rounded() ? String(Int(p)) : String(format: "%g", p)) + "%"
    }
    /// Seconds as the largest whole unit: 0, 90s, 30m, 6h, 2d.
    public static func duration(_ s: Double) -> String {
        if s == 0 { return "0" }
        if s.truncatingRemainder(dividingBy: 86_400) == 0 { return "\(Int(s / 86_400))d" }
        if s.truncatingRemainder(dividingBy: 3600) == 0 { return "\(Int(s / 3600))h" }
        if s.truncatingRemainder(dividingBy: 60) == 0 { return "\(Int(s / 60))m" }
        return "\(g(s))s"
    }
    /// A CSV field, quoted (RFC 4180) when it holds a comma, quote or line break.
    public static func csvField(_ s: String) -> String {
        s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
    }

    /// `survival.csv`: agent, day, the share of users still active that many days after their
    /// first session (Kaplan-Meier, censored at the end of the evaluation).
    public static func survivalCSV(_ r: RunReport) -> String {
        var out = "agent,day,still_active\n"
        for (a, c) in r.survival { for (d, v) in c.enumerated() { out += "\(csvField(a)),\(d),\(csvNumber(v))\n" } }
        return out
    }

    /// `parity.csv`: agent, group, decisions, successes, rate, ci_low, ci_high (Wilson 95%).
    public static func parityCSV(_ r: RunReport) -> String {
        var out = "agent,group,decisions,successes,rate,ci_low,ci_high\n"
        for g in r.groupRates {
            out += "\(csvField(g.agent)),\(csvField(g.group)),\(g.decisions),\(g.successes),\(csvNumber(g.rate)),\(csvNumber(g.low)),\(csvNumber(g.high))\n"
        }
        return out
    }

    /// `metrics.csv`: agent, metric, value, ci_low, ci_high, target, passed.
    public static func metricsCSV(_ r: RunReport) -> String {
        var out = "agent,metric,value,ci_low,ci_high,target,passed\n"
        for a in r.agents {
            for m in a.metrics {
                let target = MetricCatalog.info(m.name)?.target
                let passed = m.meetsTarget.map { $0 ? "true" : "false" } ?? ""
                out += [csvField(a.name), m.name, csvNumber(m.value), csvNumber(m.ciLow), csvNumber(m.ciHigh),
                        csvNumber(target), passed].joined(separator: ",") + "\n"
            }
        }
        return out
    }

    /// `learning_curve.csv`: agent, episodes, mean_reward, ci_low, ci_high, epsilon, pairing_accuracy,
    /// then PPO's last update statistics (empty for other agents): approx_kl, clip_fraction,
    /// explained_variance, policy_loss, value_loss, entropy.
    public static func learningCurveCSV(_ r: RunReport) -> String {
        var out = "agent,episodes,mean_reward,ci_low,ci_high,epsilon,pairing_accuracy,approx_kl,clip_fraction,explained_variance,policy_loss,value_loss,entropy\n"
        for a in r.agents {
            for p in a.curve {
                out += [csvField(a.name), String(p.episodes), csvNumber(p.meanReward), csvNumber(p.ciLow), csvNumber(p.ciHigh),
                        csvNumber(p.epsilon), csvNumber(p.pairingAccuracy), csvNumber(p.approxKL), csvNumber(p.clipFraction),
                        csvNumber(p.explainedVariance), csvNumber(p.policyLoss), csvNumber(p.valueLoss),
                        csvNumber(p.entropy)].joined(separator: ",") + "\n"
            }
        }
        return out
    }

    static func metricJSON(_ m: MetricValue) -> JSON {
        var kv: [(String, JSON)] = [("name", .string(m.name)), ("value", .num(m.value)), ("ci_low", .num(m.ciLow)),
                                    ("ci_high", .num(m.ciHigh)), ("n", .int(m.count))]
        if let info = MetricCatalog.info(m.name) {
            kv.append(("baseline", .num(info.baseline)))
            kv.append(("target", .num(info.target)))
            kv.append(("direction", .string(info.direction.rawValue)))
        }
        kv.append(("meets_target", m.meetsTarget.map { .bool($0) } ?? .null))
        if let n = m.note { kv.append(("note", .string(n))) }
        return .object(kv)
    }

    public static func verdictJSON(_ v: GateVerdict) -> JSON {
        .object([
            ("passed", .bool(v.passed)),
            ("rules", .array(v.results.map { r in
                .object([("metric", .string(r.rule.metric)), ("agent", .string(r.rule.agent)), ("min", .num(r.rule.min)),
                         ("max", .num(r.rule.max)), ("on", .string(r.rule.on.rawValue)), ("measured", .num(r.measured)),
                         ("passed", .bool(r.passed)), ("level", .string(r.level)), ("reason", .string(r.reason)),
                         ("alert_below", .num(r.rule.alertBelow)), ("alert_above", .num(r.rule.alertAbove)),
                         ("relative_to", r.rule.relativeTo.map { .string($0) } ?? .null), ("max_degradation", .num(r.rule.maxDegradation)),
                         ("source", r.rule.source.map { .string($0) } ?? .null)])
            })),
        ])
    }

    /// `run.json`: everything machine-readable.
    public static func runJSON(_ r: RunReport) -> String {
        let agents: [JSON] = r.agents.map { a in
            .object([
                ("name", .string(a.name)), ("upper_bound", .bool(a.isUpperBound)),
                ("training_episodes", .int(a.trainingEpisodes)), ("evaluation_episodes", .int(a.evaluationEpisodes)),
                ("metrics", .array(a.metrics.map(metricJSON))),
                ("learning_curve", .array(a.curve.map { p in
                    .object([("episodes", .int(p.episodes)), ("mean_reward", .num(p.meanReward)), ("ci_low", .num(p.ciLow)),
                             ("ci_high", .num(p.ciHigh)), ("epsilon", .num(p.epsilon)), ("pairing_accuracy", .num(p.pairingAccuracy)),
                             ("approx_kl", .num(p.approxKL)), ("clip_fraction", .num(p.clipFraction)),
                             ("explained_variance", .num(p.explainedVariance)), ("policy_loss", .num(p.policyLoss)),
                             ("value_loss", .num(p.valueLoss)), ("entropy", .num(p.entropy))])
                })),
                ("notes", .array(a.notes.map { .string($0) })),
            ])
        }
        let json: JSON = .object([
            ("format", .string("optima-gym.run/1")),
            ("scenario", .string(r.scenario)), ("scenario_file", .string(r.scenarioFile)),
            ("description", .string(r.description)),
            ("seed", .string(String(r.seed))), ("generator", .string(r.generator)), ("gsl_version", .string(r.gslVersion)),
            ("project_version", .string(r.projectVersion)), ("run_id", .string(r.runID)),
            ("wall_time_seconds", .num(r.wallTimeSeconds)),
            ("target_performance", .num(r.targetPerformance)),
            ("settings", .object(r.settings.map { ($0.0, .string($0.1)) })),
            ("agents", .array(agents)),
            ("comparisons", .array(r.comparisons.map { c in
                .object([("a", .string(c.a)), ("b", .string(c.b)), ("metric", .string(c.metric)), ("difference", .num(c.value)),
                         ("ci_low", .num(c.ciLow)), ("ci_high", .num(c.ciHigh)), ("users", .int(c.users)), ("significant", .bool(c.significant))])
            })),
            ("action_mix", .array(r.actionMix.map { m in
                .object([("agent", .string(m.agent)), ("no_action", .int(m.counts[0])), ("suggest_pairing", .int(m.counts[1])),
                         ("recommend_hive", .int(m.counts[2])), ("intervention", .int(m.counts[3])),
                         ("suggestions_per_user_day", .num(m.perUserDay))])
            })),
            ("population", .object([("source", .string(r.populationSource)), ("metrics", .array(r.population.map(metricJSON)))])),
            ("gate", verdictJSON(r.verdict)),
            ("files", .array(r.files.map { .string($0) })),
        ])
        return json.render() + "\n"
    }

    /// `report.md`.
    public static func markdown(_ r: RunReport, chartFile: String = "learning_curve.svg") -> String {
        var md = "# OptimaGym evaluation: \(r.scenario)\n\n"
        if !r.description.isEmpty { md += "\(r.description)\n\n" }
        md += "| | |\n|---|---|\n"
        md += "| scenario | `\(r.scenarioFile)` |\n"
        md += "| seed | \(r.seed) |\n"
        md += "| generator | GSL `\(r.generator)` |\n"
        md += "| GSL version | \(r.gslVersion) |\n"
        md += "| project version | optima-gym \(r.projectVersion) |\n"
        md += "| run id | \(r.runID) |\n"
        md += "| wall time | \(String(format: "%.1f", r.wallTimeSeconds)) s |\n"
        for (k, v) in r.settings { md += "| \(k) | \(v) |\n" }
        md += "\n"
        md += "## Release gate: \(r.verdict.passed ? "PASSED" : "FAILED")\n\n"
        if r.verdict.results.isEmpty {
            md += "The scenario defines no gate rules.\n\n"
        } else {
            let failed = r.verdict.failures.count, alerts = r.verdict.alerts.count
            if failed > 0 {
                md += "\(failed) of \(r.verdict.results.count) rules fail\(alerts > 0 ? ", \(alerts) past an alert line" : ""): "
                md += "the agents they name miss those targets, and a release of them is blocked.\n\n"
            }
            md += "| rule | result | reason |\n|---|---|---|\n"
            for res in r.verdict.results {
                var rule = "\(res.rule.agent) `\(res.rule.metric)` (\(res.rule.on.rawValue))"
                if let lo = res.rule.min { rule += " >= \(lo)" }
                if let hi = res.rule.max { rule += " <= \(hi)" }
                if let a = res.rule.alertBelow { rule += ", alert < \(a)" }
                if let a = res.rule.alertAbove { rule += ", alert > \(a)" }
                let result = res.passed ? "pass" : (res.alert ? "**ALERT**" : "**FAIL**")
                md += "| \(rule) | \(result) | \(res.reason) |\n"
            }
            md += "\n"
        }
        if !r.population.isEmpty {
            md += "## Simulated population\n\n"
            md += "The users came from \(r.populationSource). Gate rules name these with `agent: population`.\n\n"
            md += "| metric | value | note |\n|---|---|---|\n"
            for m in r.population where !m.name.hasPrefix("synthetic.kl.") {
                md += "| `\(m.name)` | \(m.value.isFinite ? String(format: "%.6g", m.value) : "—") | \(m.note ?? "") |\n"
            }
            md += "\n"
            if !r.populationColumns.isEmpty {
                md += "The \(r.populationRows.simulated) simulated users of the evaluation world (each one's draw from the persona model, in its columns) against \(r.populationRows.real) rows of real data, column by column: KL divergence of the real distribution from the simulated one (20 bins for numeric columns, smoothed; `synthetic.kl.<column>` in gate rules).\n\n"
                md += "| column | kind | KL |\n|---|---|---|\n"
                for c in r.populationColumns { md += "| `\(c.name)` | \(c.kind) | \(String(format: "%.4f", c.kl)) |\n" }
                md += "\n![Each column's distribution, real against simulated](population.svg)\n\n"
            }
        }
        md += "## Mean reward by agent\n\n"
        let level = percent(r.confidence)
        md += "| agent | mean reward | \(level) interval |\n|---|---|---|\n"
        for a in r.agents.sorted(by: { ($0.metric("mean_reward")?.value ?? -.infinity) > ($1.metric("mean_reward")?.value ?? -.infinity) }) {
            let m = a.metric("mean_reward")
            md += "| \(a.displayName) | \(f(m?.value ?? .nan)) | [\(f(m?.ciLow ?? .nan)), \(f(m?.ciHigh ?? .nan))] |\n"
        }
        md += "\n" + comparisonTable(r) + "\n"
        md += "## Learning curves\n\n![Learning curves: mean reward per training window, with \(level) normal-approximation bands](\(chartFile))\n\n"
        md += "Each point is the mean reward of a window of training decisions; the band is mean +- \(String(format: "%.2f", SpecialFunctions.twoSidedZ(confidence: r.confidence))) standard errors (\(level)).\n\n"
        if let t = r.targetPerformance {
            md += "Target performance for `sample_efficiency`: the oracle's mean reward in each training window (over all of training: \(f(t))); an agent reaches it when its window mean is at least 80% of the oracle's.\n\n"
        }
        if !r.survival.isEmpty {
            md += "## Users still active\n\n![Share of users still active by days since their first session](survival.svg)\n\n"
            md += "The share of each agent's evaluation users still active d days after their first session (Kaplan-Meier: leaving by churn or opt-out is the event, a user still active when the evaluation ends is censored; `survival.csv`). The long-term metrics `user_return`, `retention_30d`, `churn_rate` and `active_days` are in each agent's table below.\n\n"
        }
        if !r.actionMix.isEmpty {
            md += "## Actions taken\n\n"
            md += "The share of each agent's evaluation decisions by action family, and the suggestions (pairings, events, interventions) a user received per day between their first and last session. A policy that wins today's reward by burning users' fatigue shows here first.\n\n"
            md += "| agent | decisions | no_action | suggest_pairing | recommend_hive | intervention | suggestions per user-day |\n|---|---|---|---|---|---|---|\n"
            for (a, c, perDay) in r.actionMix {
                let n = max(1, c.reduce(0, +))
                md += "| \(agentLabel(a, isUpperBound: r.agents.first { $0.name == a }?.isUpperBound == true)) | \(c.reduce(0, +)) | "
                    + c.map { f(Double($0) / Double(n), 3) }.joined(separator: " | ") + " | \(f(perDay, 2)) |\n"
            }
            md += "\n"
        }
        if !r.groupRates.isEmpty {
            md += "## Success rate by group (parity)\n\n![Success-outcome rate by group, with \(level) Wilson intervals](parity.svg)\n\n"
            md += "The share of each group's evaluation decisions with a success outcome, with \(level) Wilson intervals; `bias_parity` is the smallest group rate over the largest (`parity.csv`).\n\n"
            md += "| agent | group | decisions | success rate | \(level) interval |\n|---|---|---|---|---|\n"
            for g in r.groupRates { md += "| \(g.agent) | \(g.group) | \(g.decisions) | \(f(g.rate)) | [\(f(g.low)), \(f(g.high))] |\n" }
            md += "\n"
        }
        md += breakersMarkdown(r)
        md += "## Success metrics per agent\n\n"
        md += "Intervals are \(level) percentile-bootstrap intervals that resample users (all of a user's decisions together), seeded from `eval.bootstrap`. Baselines and targets are the blueprint's (section 10).\n\n"
        for a in r.agents {
            md += "### \(a.displayName)\n\n"
            if a.isUpperBound {
                md += "> This agent reads the simulator's hidden truth. It is an upper bound for comparison, not a deployable policy.\n\n"
            }
            md += "Trained on \(a.trainingEpisodes) decisions, evaluated on \(a.evaluationEpisodes) held-out decisions.\n\n"
            md += "| metric | baseline | target | measured | \(level) interval | n | meets target |\n|---|---|---|---|---|---|---|\n"
            for m in a.metrics {
                let info = MetricCatalog.info(m.name)
                let dir = info?.direction == .lowerIsBetter ? "<= " : ">= "
                let base = info?.baseline.map { f($0, 2) } ?? "-"
                let target = info?.target.map { dir + (m.name == "sample_efficiency" ? String(Int($0)) : f($0, 2)) } ?? "-"
                let meets = m.meetsTarget.map { $0 ? "yes" : "no" } ?? "-"
                let measured = m.name == "sample_efficiency" && m.value.isFinite ? String(Int(m.value)) : f(m.value)
                let interval = m.name == "sample_efficiency" && m.ciLow.isFinite
                    ? "[\(Int(m.ciLow)), \(m.ciHigh.isFinite ? String(Int(m.ciHigh)) : "not reached")]"
                    : "[\(f(m.ciLow)), \(f(m.ciHigh))]"
                md += "| `\(m.name)` | \(base) | \(target) | \(measured) | \(interval) | \(m.count) | \(meets) |\n"
            }
            let notes = a.metrics.compactMap { m in m.note.map { "- `\(m.name)`: \($0)" } } + a.notes.map { "- \($0)" }
            if !notes.isEmpty { md += "\nNotes:\n\n" + notes.joined(separator: "\n") + "\n" }
            md += "\n"
        }
        md += "## Metric definitions\n\n"
        for info in MetricCatalog.all { md += "- `\(info.name)`: \(info.definition).\n" }
        md += "\n## Files\n\n"
        for file in r.files { md += "- [`\(file)`](\(file))\n" }
        return md
    }

    /// The paired comparisons: each difference of mean reward with its interval and whether the
    /// interval excludes 0.
    static func comparisonTable(_ r: RunReport) -> String {
        guard !r.comparisons.isEmpty else { return "" }
        let level = percent(r.confidence)
        var md = "Paired differences: both agents were evaluated on the same users, and the \(level) interval is a user-level bootstrap of the difference (each resample draws users and recomputes both agents' values over them). A difference is significant when its interval excludes 0. `mean_reward` is per decision, `user_return` per user journey (discounted), `retention_30d` per user whose 30 days fit in the evaluation.\n\n"
        md += "| metric | comparison | difference | \(level) interval | users | significant |\n|---|---|---|---|---|---|\n"
        for c in r.comparisons {
            md += "| `\(c.metric)` | \(c.a) - \(c.b) | \(f(c.value)) | [\(f(c.ciLow)), \(f(c.ciHigh))] | \(c.users) | \(c.significant ? "yes" : "no") |\n"
        }
        return md
    }
}

/// One column of the population comparison: its bins (or levels) and the row counts of each.
public struct PopulationColumn: Sendable {
    public var name: String
    public var kind: String
    public var kl: Double
    public var bins: [String]
    public var real: [Double]
    public var simulated: [Double]
    public init(name: String, kind: String, kl: Double, bins: [String], real: [Double], simulated: [Double]) {
        self.name = name; self.kind = kind; self.kl = kl; self.bins = bins; self.real = real; self.simulated = simulated
    }
}
