import Foundation
import GymData
import GymEval
import GymGate
import GymReports
import GymScenario
import GymSim

/// What `optima-gym ope` asks for.
public struct OPEEstimateRequest: Sendable {
    public var logs: String
    public var policy: String
    public var scenarioPath: String?
    public var actions: Int?
    public var out: String?
    public var resamples = 1000
    public var folds = 3
    /// nil: logistic for 0/1 rewards, ridge otherwise.
    public var rewardModel: RewardModelKind?
    public var switchLambda = 100.0
    public var essFloor = 100.0
    public var requirements: [OPERequirement] = []
    public var signalsPath: String?
    /// Seconds after the log's last decision.
    public var cutoffs: [Double]?
    public var signalWeights: [String: Double]?
    public var seed: UInt64 = 1
    public var threads = 1
    public var limits = DataLimits.standard

    public init(logs: String, policy: String) { self.logs = logs; self.policy = policy }
}

/// The work of the `ope` commands: read the logs, build the candidate, run every estimator, apply
/// the gate, and write the report atomically.
public enum OPEJob {
    /// Reads `--logs`: `obd:DIR/POLICY/CAMPAIGN`, a simulator JSONL log, or a CSV log.
    public static func loadLog(_ spec: String, actions: Int?, limits: DataLimits, episodeIDs: UnsafeMutablePointer<[String]>? = nil) throws -> LoggedBandit {
        if spec.hasPrefix("obd:") {
            let url = URL(fileURLWithPath: String(spec.dropFirst(4)))
            return try LogImport.openBandit(directory: url.deletingLastPathComponent().deletingLastPathComponent().path,
                                            policy: url.deletingLastPathComponent().lastPathComponent, campaign: url.lastPathComponent, limits: limits)
        }
        if spec.hasSuffix(".jsonl") { return try LogImport.episodes(path: spec, actions: actions, limits: limits, episodeIDs: episodeIDs) }
        return try LogImport.csv(path: spec, actions: actions, limits: limits)
    }

    public static func estimate(_ q: OPEEstimateRequest, progress: Progress?) throws -> (report: OPEEstimateReport, destination: URL?) {
        let dir = try q.out.map { try AtomicDirectory(destination: URL(fileURLWithPath: $0)) }
        let sc = try q.scenarioPath.map { try ScenarioBinding.load(path: $0) }
        var actionCount = q.actions
        if actionCount == nil, let sc, q.logs.hasSuffix(".jsonl") { actionCount = JourneyWorld(config: sc.sim).actionLayout.count }
        var ids: [String] = []
        let log = try withUnsafeMutablePointer(to: &ids) { try loadLog(q.logs, actions: actionCount, limits: q.limits, episodeIDs: q.cutoffs == nil ? nil : $0) }
        let target = try OPECandidates.target(spec: q.policy, log: log, scenario: sc, seed: q.seed, limits: q.limits, progress: progress)
        let kind = q.rewardModel ?? RewardModelKind.automatic(for: log)
        let (est, diag) = OPE.runAll(log: log, policy: target, seed: q.seed, resamples: q.resamples, threads: q.threads, folds: q.folds,
                                     lambda: q.switchLambda, kind: kind)
        var report = OPEEstimateReport(logs: q.logs, rows: log.count, actions: log.actions, positions: log.positions, candidate: q.policy,
                                       loggedValue: log.meanReward, rewardModel: kind.rawValue, folds: q.folds, seed: q.seed,
                                       estimates: est, diagnostics: diag, essFloor: q.essFloor)
        if !q.requirements.isEmpty {
            report.gate = OPEGate.evaluate(q.requirements, estimates: est, effectiveSampleSize: diag.effectiveSampleSize, essFloor: q.essFloor,
                                           loggedValue: log.meanReward, rows: log.count)
        }
        if let signalsPath = q.signalsPath, let cutoffs = q.cutoffs {
            let signals = try LogImport.rewardSignals(path: signalsPath, episodeIDs: ids)
            let weights = try signalWeights(q, scenario: sc, signals: signals, log: log)
            let (rows, mismatch) = try DelayedRewards.estimates(log: log, signals: signals, weights: weights, cutoffs: cutoffs, policy: target,
                                                                seed: q.seed, resamples: q.resamples, threads: q.threads, folds: q.folds,
                                                                lambda: q.switchLambda, kind: q.rewardModel)
            report.cutoffs = .init(signalsPath: signalsPath, weights: weights.sorted { $0.key < $1.key }.map { ($0.key, $0.value) },
                                   mismatch: mismatch, rows: rows)
        }
        if let dir {
            for (name, text) in report.files() { try dir.write(name, text) }
            try dir.commit()
        }
        return (report, dir?.destination)
    }

    /// The signal weights: --signal-weights, else the scenario's reward weights, else solved from the log.
    static func signalWeights(_ q: OPEEstimateRequest, scenario: Scenario?, signals: RewardSignals, log: LoggedBandit) throws -> [String: Double] {
        if let w = q.signalWeights { return w }
        if let sc = scenario {
            guard sc.sim.rewards.shiftAtDay == nil else {
                throw DataError(file: q.scenarioPath!, column: "rewards.shift_at_day", message: "the reward weights change during the run; give --signal-weights for the logged period")
            }
            return ["engagement": sc.sim.rewards.engagementWeight, "resonance": sc.sim.rewards.resonanceWeight, "explicit_feedback": sc.sim.rewards.explicitWeight]
        }
        return try DelayedRewards.solveWeights(signals, log: log)
    }

    /// `ope obd`: the Open Bandit Dataset experiment (Saito et al. 2021), per campaign: Bernoulli
    /// TS (prior-only) estimated from the Random policy's logs and Random from the BTS logs, each
    /// against the other policy's on-policy value.
    public static func openBandit(data: String, campaigns: [String], out: String, resamples: Int, folds: Int, switchLambda: Double,
                                  gridPoints: Int, essFloor: Double, seed: UInt64, threads: Int, limits: DataLimits,
                                  progress: Progress?) throws -> OPEOpenBanditReport {
        let dir = try AtomicDirectory(destination: URL(fileURLWithPath: out))
        var report = OPEOpenBanditReport(data: data, resamples: resamples, seed: seed, switchLambda: switchLambda, gridPoints: gridPoints, essFloor: essFloor)
        let t0 = DispatchTime.now().uptimeNanoseconds
        for c in campaigns {
            let random = try LogImport.openBandit(directory: data, policy: "random", campaign: c, limits: limits)
            let bts = try LogImport.openBandit(directory: data, policy: "bts", campaign: c, limits: limits)
            let priorPath = URL(fileURLWithPath: data).appendingPathComponent("prior_bts.yaml").path
            let prior = try BTSPrior.load(path: priorPath, campaign: c)
            guard prior.alpha.count == random.actions else {
                throw DataError(file: priorPath, column: c, message: "the prior has \(prior.alpha.count) items; the log has \(random.actions) actions")
            }
            let table = BernoulliTSTable.integrate(alpha: prior.alpha, beta: prior.beta, positions: 3, gridPoints: gridPoints)
            let btsPolicy = ContextFreePolicy(actions: random.actions, positions: 3, table: table, name: "bts")
            let uniform = ContextFreePolicy.uniform(actions: bts.actions, positions: 3)
            for (direction, log, policy, truth) in [("BTS from Random logs", random, btsPolicy as TargetPolicy, bts.meanReward),
                                                    ("Random from BTS logs", bts, uniform as TargetPolicy, random.meanReward)] {
                let (est, diag) = OPE.runAll(log: log, policy: policy, seed: seed, resamples: resamples, threads: threads, folds: folds, lambda: switchLambda)
                for e in est {
                    report.rows.append(.init(campaign: c, direction: direction, estimator: e.estimator, value: e.value, low: e.ciLow, high: e.ciHigh,
                                             truth: truth, ess: diag.effectiveSampleSize, maxWeight: diag.maxWeight))
                }
                report.notes.append(String(format: "%@, %@: %d rows, ESS %.0f (%.1f%%)%@, max weight %.1f, mean weight %.3f, truth %.6f",
                                           c as NSString, direction as NSString, log.count, diag.effectiveSampleSize,
                                           100 * diag.effectiveSampleSize / Double(log.count),
                                           (diag.effectiveSampleSize < essFloor ? " — below the floor \(Render.g(essFloor)): flagged" : "") as NSString,
                                           diag.maxWeight, diag.meanWeight, truth))
                progress?.note("\(c): \(direction) done")
            }
        }
        report.seconds = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
        for (name, text) in report.files() { try dir.write(name, text) }
        try dir.commit()
        return report
    }

    /// `ope validate`: the estimators against the on-policy truth inside the simulator; the report
    /// is written atomically to `out` (default reports/<scenario>/ope-validate-<run-id>).
    public static func validate(scenarioPath: String, config: OPEValidationConfig, seed: UInt64?, out: String?,
                                progress: Progress) throws -> (result: OPEValidationResult, markdown: String, destination: URL) {
        let sc = try ScenarioBinding.load(path: scenarioPath)
        var c = config
        c.seed = seed ?? sc.seed ?? 1
        let dir = try RunJob.claim(out, defaultPath: "reports/\(sc.name)/ope-validate-\(makeRunID(started: Date(), seed: c.seed))")
        let t0 = DispatchTime.now().uptimeNanoseconds
        let r: OPEValidationResult
        do {
            defer { progress.finish() }
            r = try OPEValidation.run(scenario: sc, config: c, progress: progress)
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
        let md = OPEValidation.report(r, scenario: sc.name, file: scenarioPath) + String(format: "\n%.1f s.\n", seconds)
        try dir.write("estimates.csv", OPEValidation.estimatesCSV(r))
        try dir.write("coverage.csv", OPEValidation.coverageCSV(r))
        try dir.write("report.md", md)
        try dir.commit()
        return (r, md, dir.destination)
    }

    /// `ope validate --journeys`: the journey and bandit estimators against the truth per journey
    /// and per decision; report.md, estimates.svg, estimates.csv and coverage.csv, written atomically.
    public static func validateJourneys(scenarioPath: String, config: OPEValidationConfig, seed: UInt64?, out: String?,
                                        progress: Progress) throws -> (result: JourneyValidationResult, markdown: String, destination: URL) {
        let sc = try ScenarioBinding.load(path: scenarioPath)
        var c = config
        c.seed = seed ?? sc.seed ?? 1
        let dir = try RunJob.claim(out, defaultPath: "reports/\(sc.name)/ope-validate-journeys-\(makeRunID(started: Date(), seed: c.seed))")
        let r: JourneyValidationResult
        do {
            defer { progress.finish() }
            r = try OPEValidation.journeys(scenario: sc, config: c, progress: progress)
        }
        let md = r.markdown(scenario: sc.name, file: scenarioPath)
        try dir.write("estimates.csv", r.estimatesCSV())
        try dir.write("coverage.csv", r.coverageCSV())
        try dir.write("estimates.svg", r.chart(scenario: sc.name))
        try dir.write("report.md", md)
        try dir.commit()
        return (r, md, dir.destination)
    }

    /// `ope select`: the candidates ranked on one logged world, assessed against the truth;
    /// report.md, selection.csv, assessment.csv, selection.svg and gate.csv (with --require),
    /// written atomically.
    public static func select(scenarioPath: String, config: OPESelectionConfig, seed: UInt64?, out: String?,
                              progress: Progress) throws -> (result: OPESelectionResult, markdown: String, destination: URL) {
        let sc = try ScenarioBinding.load(path: scenarioPath)
        var c = config
        c.seed = seed ?? sc.seed ?? 1
        let dir = try RunJob.claim(out, defaultPath: "reports/\(sc.name)/ope-select-\(makeRunID(started: Date(), seed: c.seed))")
        let r: OPESelectionResult
        do {
            defer { progress.finish() }
            r = try OPESelection.run(scenario: sc, config: c, progress: progress)
        }
        let md = r.markdown(scenario: sc.name, file: scenarioPath)
        if let g = r.gate { try dir.write("gate.csv", g.csv) }
        try dir.write("selection.csv", r.selectionCSV())
        if !r.assessments.isEmpty {
            try dir.write("assessment.csv", r.assessmentCSV())
            try dir.write("selection.svg", r.chart(scenario: sc.name))
        }
        try dir.write("report.md", md)
        try dir.commit()
        return (r, md, dir.destination)
    }
}
