import Foundation
import GymData
import GymAgents
import GymCore
import GymEval
import GymRandom
import GymScenario
import GymSim

/// `ope validate --journeys`: the journey-level (sequential) estimators and the bandit ones,
/// checked side by side against the simulator's truth on the same logs.
public struct JourneyValidationResult: Sendable {
    public var config: OPEValidationConfig
    /// The scenario's discount per simulated day (the semi-Markov discount of `user_return`).
    public var gammaPerDay: Double
    /// The target's on-policy value per journey (mean discounted return per user with a decision,
    /// `user_return`) and per decision (mean reward), per repetition, with the truth runs'
    /// standard errors.
    public var journeyTruths: [Double], decisionTruths: [Double]
    public var journeyTruthSE: Double, decisionTruthSE: Double
    /// Per repetition: the journey estimators, the bandit estimators, the weight diagnostics.
    public var journey: [[SequentialEstimate]]
    public var bandit: [[OPEEstimate]]
    public var diagnostics: [SequentialDiagnostics]
    /// Per repetition: journeys and decisions logged, the behaviour's own values.
    public var trajectories: [Int], decisions: [Int]
    public var loggedReturn: [Double], loggedReward: [Double]
    public var qModel: String

    /// One estimator's record over the repetitions.
    public struct Summary: Sendable {
        public var estimator: String
        /// "journey" (per user journey, discounted) or "decision" (per decision).
        public var unit: String
        public var truth: Double, meanEstimate: Double, bias: Double, rmse: Double, meanWidth: Double, coverage: Double
        public var relativeBias: Double { bias / abs(truth) }
    }

    public var summaries: [Summary] {
        var out: [Summary] = []
        func summary(_ name: String, _ unit: String, _ v: [(value: Double, low: Double, high: Double)], _ truths: [Double]) -> Summary {
            let n = Double(max(1, v.count))
            let mean = v.reduce(0) { $0 + $1.value } / n
            let bias = zip(v, truths).reduce(0) { $0 + ($1.0.value - $1.1) } / n
            let mse = zip(v, truths).reduce(0) { $0 + ($1.0.value - $1.1) * ($1.0.value - $1.1) } / n
            let width = v.reduce(0) { $0 + ($1.high - $1.low) } / n
            let covered = Double(zip(v, truths).filter { $0.0.low <= $0.1 && $0.1 <= $0.0.high }.count) / n
            return Summary(estimator: name, unit: unit, truth: truths.reduce(0, +) / n, meanEstimate: mean, bias: bias, rmse: mse.squareRoot(),
                           meanWidth: width, coverage: covered)
        }
        for (k, e) in SequentialOPE.Estimator.allCases.enumerated() {
            out.append(summary(e.rawValue, "journey", journey.map { ($0[k].value, $0[k].ciLow, $0[k].ciHigh) }, journeyTruths))
        }
        for (k, e) in OPEEstimator.allCases.enumerated() {
            out.append(summary(e.rawValue, "decision", bandit.map { ($0[k].value, $0[k].ciLow, $0[k].ciHigh) }, decisionTruths))
        }
        return out
    }
}

extension OPEValidation {
    /// The journey validation. Seeds as in `run` (repetition r logs world `ope.validate.log/r`,
    /// truth run k acts on `ope.validate.truth/k`); the journey bootstrap uses
    /// `ope.validate.log/r/journeys`. Every repetition logs the behaviour over the whole horizon
    /// (or `decisions` decisions), reads the log as journeys (one per user, steps in time order,
    /// reward = the decision's signals discounted to its time, elapsed = time since the user's
    /// first decision, a churn or opt-out penalty on the last step, discounted to it), and runs
    /// the journey estimators with `--gamma-per-day` = the scenario's discount.per_day and a
    /// linear FQE on the observation vectors, and the bandit estimators on the same decisions.
    public static func journeys(scenario: Scenario, config c: OPEValidationConfig, progress: Progress? = nil) throws -> JourneyValidationResult {
        let scenario = try ScenarioBinding.bind(scenario)
        let generator = try GeneratorKind.named(scenario.generator)
        let seeds = SeedTree(root: c.seed)
        let n = c.decisions ?? (scenario.evaluation.wholeHorizon ? Int.max : scenario.evaluation.episodes)
        let T = max(1, c.threads)
        for name in [c.behaviour, c.target] where !scenario.agents.contains(where: { $0.name == name }) {
            throw OPECandidateError(message: "scenario \(scenario.name) has no agent '\(name)' (it has: \(scenario.agents.map { $0.name }.joined(separator: ", ")))")
        }
        let R = c.repetitions
        var journey = [[SequentialEstimate]](repeating: [], count: R), bandit = [[OPEEstimate]](repeating: [], count: R)
        var diagnostics = [SequentialDiagnostics](repeating: SequentialDiagnostics(), count: R)
        var trajectories = [Int](repeating: 0, count: R), decisions = trajectories
        var loggedReturn = [Double](repeating: .nan, count: R), loggedReward = loggedReturn
        let jobs = c.truthMode == .sameWorld ? R * c.truthRuns : c.truthRuns
        var truthReturn = [Double](repeating: .nan, count: jobs), truthReward = truthReturn
        var gamma = 1.0, qModel = ""
        var failure: Error?
        let lock = NSLock()
        progress?.begin(total: R + jobs)
        var done = 0
        DispatchQueue.concurrentPerform(iterations: T) { w in
            do {
                let behaviour = try OPECandidates.trainedAgent(c.behaviour, scenario: scenario, seed: c.seed)
                let target = c.target == c.behaviour ? behaviour : try OPECandidates.trainedAgent(c.target, scenario: scenario, seed: c.seed)
                let world = JourneyWorld(config: scenario.sim)
                world.generator = generator
                var r = w
                while r < R {
                    let node = seeds.child("ope.validate.log", r)
                    let run = try logRun(world: world, behaviour: behaviour, target: target, config: c, decisions: n,
                                         seed: node, survey: seeds.child("sim.survey"), generator: generator, scenario: scenario)
                    let model = RewardModel(log: run.log, folds: c.folds, kind: .ridge, seed: node)
                    let b = OPE.estimate(OPE.rows(run.log, run.policy, model: model), estimators: OPEEstimator.allCases, lambda: c.switchLambda,
                                         resamples: c.resamples, seed: node, threads: 1)
                    let (tlog, probs) = journeyLog(run.log, records: run.records, probs: run.policy.probs)
                    let discounting = Discounting.perDay(run.records.discountPerDay)
                    let tt = TrajectoryTarget(actions: tlog.rows.actions, table: probs, byState: false, name: c.target)
                    let q = LinearFQE.fit(tlog, target: tt, nextFactor: discounting.nextFactors(tlog), seed: node.child("journeys"))
                    let d = discounting.factors(tlog)
                    var o = SequentialOPE.Options(seed: node.child("journeys"))
                    o.resamples = c.resamples
                    let (est, diag) = SequentialOPE.run(tlog, target: tt, q: q, discount: d, options: o)
                    lock.lock()
                    journey[r] = est; bandit[r] = b; diagnostics[r] = diag
                    trajectories[r] = tlog.count; decisions[r] = tlog.rows.count
                    loggedReturn[r] = tlog.loggedValue(discount: d); loggedReward[r] = run.log.meanReward
                    gamma = run.records.discountPerDay; qModel = q.model
                    done += 1
                    progress?.update("ope validate (journeys)", done: done, total: R + jobs)
                    lock.unlock()
                    r += T
                }
                var j = w
                while j < jobs {
                    let worldSeed = c.truthMode == .sameWorld ? seeds.child("ope.validate.log", j / c.truthRuns) : seeds.child("ope.validate.truth", j)
                    let sampling = c.truthMode == .sameWorld ? seeds.child("ope.validate.truth", j / c.truthRuns).child("run", j % c.truthRuns)
                                                             : seeds.child("ope.validate.truth", j)
                    let (records, k) = try onPolicyRecords(world: world, policy: target, mix: c.targetMix, decisions: n, worldSeed: worldSeed,
                                                           sampling: sampling, survey: seeds.child("sim.survey"), scenario: scenario)
                    let returns = journeyReturns(records, decisions: k)
                    let rewards = records.episodes.prefix(k).reduce(0) { $0 + $1.reward }
                    lock.lock()
                    truthReturn[j] = returns.reduce(0, +) / Double(max(1, returns.count))
                    truthReward[j] = rewards / Double(max(1, k))
                    done += 1
                    progress?.update("ope validate (journeys)", done: done, total: R + jobs)
                    lock.unlock()
                    j += T
                }
            } catch {
                lock.lock(); if failure == nil { failure = error }; lock.unlock()
            }
        }
        if let failure { throw failure }
        func truths(_ runs: [Double]) -> ([Double], Double) {
            let groups = c.truthMode == .sameWorld ? (0..<R).map { r in Array(runs[(r * c.truthRuns)..<((r + 1) * c.truthRuns)]) } : [runs]
            var means: [Double] = [], ses: [Double] = []
            for g in groups {
                let m = g.reduce(0, +) / Double(g.count)
                let sd = g.count > 1 ? (g.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(g.count - 1)).squareRoot() : .nan
                means.append(m); ses.append(sd / Double(g.count).squareRoot())
            }
            return (c.truthMode == .sameWorld ? means : [Double](repeating: means[0], count: R), ses.reduce(0, +) / Double(ses.count))
        }
        let (jt, jse) = truths(truthReturn), (dt, dse) = truths(truthReward)
        return JourneyValidationResult(config: c, gammaPerDay: gamma, journeyTruths: jt, decisionTruths: dt, journeyTruthSE: jse, decisionTruthSE: dse,
                                       journey: journey, bandit: bandit, diagnostics: diagnostics, trajectories: trajectories, decisions: decisions,
                                       loggedReturn: loggedReturn, loggedReward: loggedReward, qModel: qModel)
    }

    /// Per user with a decision among the first `k`: the journey's discounted return, as the
    /// `user_return` metric defines it (each decision's signals discounted to its time, times
    /// gamma^(days since the user's first decision), plus the churn or opt-out penalty
    /// discounted from the day the user left), in order of the users' first decisions.
    static func journeyReturns(_ records: RunRecords, decisions k: Int) -> [Double] {
        let g = records.discountPerDay
        var first = [Double](repeating: -1, count: records.users.count), slot = [Int](repeating: -1, count: records.users.count)
        var out: [Double] = []
        for e in records.episodes.prefix(k) {
            if slot[e.user] < 0 { slot[e.user] = out.count; out.append(0); first[e.user] = e.time }
            out[slot[e.user]] += pow(g, (e.time - first[e.user]) / 86_400) * e.discountedReward
        }
        for (u, o) in records.users.enumerated() where slot[u] >= 0 {
            guard let left = o.leftAt else { continue }
            let penalty = o.optedOut ? records.optOutPenalty : records.churnPenalty
            if penalty != 0 { out[slot[u]] += pow(g, (left - first[u]) / 86_400) * penalty }
        }
        return out
    }

    /// The logged decisions (in time order) as journeys: one trajectory per user, in order of the
    /// users' first decisions, steps in time order. Reward = the decision's discounted reward (its
    /// signals discounted to its time), plus, on a journey's last step, the churn or opt-out
    /// penalty discounted from the day the user left to that step; elapsed = seconds since the
    /// user's first decision. Returns the log and the target's probabilities reordered with it.
    static func journeyLog(_ log: LoggedBandit, records: RunRecords, probs: [Double]) -> (TrajectoryLog, [Double]) {
        let k = log.count, A = log.actions, D = log.contextDimension, g = records.discountPerDay
        var slot = [Int](repeating: -1, count: records.users.count), users: [Int] = []
        for e in records.episodes.prefix(k) where slot[e.user] < 0 { slot[e.user] = users.count; users.append(e.user) }
        var offsets = [Int](repeating: 0, count: users.count + 1)
        for e in records.episodes.prefix(k) { offsets[slot[e.user] + 1] += 1 }
        for i in 0..<users.count { offsets[i + 1] += offsets[i] }
        var next = Array(offsets.dropLast()), order = [Int](repeating: 0, count: k)
        for (j, e) in records.episodes.prefix(k).enumerated() { order[next[slot[e.user]]] = j; next[slot[e.user]] += 1 }
        var rows = LoggedBandit(actions: A, positions: 1, action: order.map { log.action[$0] }, position: [Int32](repeating: 0, count: k),
                                reward: order.map { records.episodes[$0].discountedReward }, pscore: order.map { log.pscore[$0] },
                                context: [], contextDimension: D, source: log.source)
        rows.context.reserveCapacity(k * D)
        var p = [Double](), elapsed = [Double](repeating: 0, count: k)
        p.reserveCapacity(k * A)
        if !log.masks.isEmpty { rows.masks.reserveCapacity(k * A) }
        for (i, j) in order.enumerated() {
            rows.context.append(contentsOf: log.context[(j * D)..<((j + 1) * D)])
            p.append(contentsOf: probs[(j * A)..<((j + 1) * A)])
            if !log.masks.isEmpty { rows.masks.append(contentsOf: log.masks[(j * A)..<((j + 1) * A)]) }
            let u = slot[records.episodes[j].user]
            elapsed[i] = records.episodes[j].time - records.episodes[order[offsets[u]]].time
        }
        for (i, u) in users.enumerated() where offsets[i + 1] > offsets[i] {
            guard let left = records.users[u].leftAt else { continue }
            let penalty = records.users[u].optedOut ? records.optOutPenalty : records.churnPenalty
            let last = offsets[i + 1] - 1
            if penalty != 0 { rows.reward[last] += pow(g, max(0, left - records.episodes[order[last]].time) / 86_400) * penalty }
        }
        var t = TrajectoryLog(rows: rows, offsets: offsets, ids: users.map { "user-\($0)" })
        t.elapsed = elapsed
        return (t, p)
    }
}
