import Foundation
import GymData
import GymAgents
import GymCore
import GymEval
import GymLinalg
import GymRandom
import GymScenario
import GymSim


/// `ope validate`: the off-policy estimators checked against the truth inside the simulator.
public struct OPEValidationConfig: Sendable {
    public enum TruthMode: String, Sendable, CaseIterable {
        /// Per repetition: the target on-policy in the logged world (the same population, events
        /// and world streams) with fresh action-sampling seeds, averaged over `truthRuns` runs.
        /// This is what one world's logs can estimate.
        case sameWorld = "same-world"
        /// One truth for all repetitions: the target on-policy on `truthRuns` fresh worlds. It
        /// adds the between-world variance (population, events), which no interval computed from
        /// one world's logs can see.
        case freshWorlds = "fresh-worlds"
    }

    public var behaviour = "random"
    public var target = "epsilon_greedy"
    /// Each policy's distribution is mixed with the uniform distribution over the allowed actions:
    /// (1 - mix) pi + mix / |allowed|.
    public var behaviourMix = 0.0
    public var targetMix = 0.0
    public var repetitions = 1
    /// Decisions per logged run and per truth run (nil: the scenario's evaluation.episodes).
    public var decisions: Int?
    public var truthRuns = 10
    /// Where the truth comes from.
    public var truthMode: TruthMode = .freshWorlds
    public var resamples = 1000
    public var folds = 3
    public var switchLambda = 100.0
    public var threads = 1
    public var seed: UInt64 = 1
    public init() {}
}

public struct OPEValidationResult: Sendable {
    public var config: OPEValidationConfig
    /// The target's on-policy value, per repetition (same-world) or one for all (fresh-worlds,
    /// repeated), and its mean.
    public var truths: [Double]
    public var truth: Double { truths.reduce(0, +) / Double(max(1, truths.count)) }
    /// Standard error of a repetition's truth (between-run standard deviation / sqrt(runs)), averaged.
    public var truthStandardError: Double
    /// Per repetition: every estimator's estimate and interval.
    public var estimates: [[OPEEstimate]]
    public var diagnostics: [WeightDiagnostics]
    /// Per repetition: the behaviour's own mean reward in its log.
    public var loggedValue: [Double]
    public var decisions: Int

    public struct Summary: Sendable {
        public var estimator: OPEEstimator
        public var meanEstimate: Double, bias: Double, rmse: Double, meanWidth: Double, coverage: Double
    }

    public var summaries: [Summary] {
        OPEEstimator.allCases.enumerated().map { k, e in
            let v = estimates.map { $0[k] }
            let n = Double(max(1, v.count))
            let mean = v.reduce(0) { $0 + $1.value } / n
            let bias = zip(v, truths).reduce(0) { $0 + ($1.0.value - $1.1) } / n
            let mse = zip(v, truths).reduce(0) { $0 + ($1.0.value - $1.1) * ($1.0.value - $1.1) } / n
            let width = v.reduce(0) { $0 + ($1.ciHigh - $1.ciLow) } / n
            let covered = Double(zip(v, truths).filter { $0.0.ciLow <= $0.1 && $0.1 <= $0.0.ciHigh }.count) / n
            return Summary(estimator: e, meanEstimate: mean, bias: bias, rmse: mse.squareRoot(), meanWidth: width, coverage: covered)
        }
    }
}

public enum OPEValidation {
    /// Seeds (children of the root): the agents train as in `run` (`sim.train`, `agent/<name>`);
    /// repetition r logs the behaviour on world `ope.validate.log/r` drawing actions from
    /// `ope.validate.log/r/sample`, and bootstraps from `ope.validate.log/r`; truth run k acts on
    /// world `ope.validate.truth/k` with `ope.validate.truth/k/sample`. Repetitions and truth
    /// runs are spread over threads; each worker trains its own (identical) copies of the
    /// agents, so results do not depend on the thread count.
    public static func run(scenario: Scenario, config c: OPEValidationConfig, progress: Progress? = nil) throws -> OPEValidationResult {
        let scenario = try ScenarioBinding.bind(scenario)
        let generator = try GeneratorKind.named(scenario.generator)
        let seeds = SeedTree(root: c.seed)
        let n = c.decisions ?? scenario.evaluation.episodes
        let T = max(1, c.threads)
        // Fail early on names (before any work).
        for name in [c.behaviour, c.target] where !scenario.agents.contains(where: { $0.name == name }) {
            throw OPECandidateError(message: "scenario \(scenario.name) has no agent '\(name)' (it has: \(scenario.agents.map { $0.name }.joined(separator: ", ")))")
        }
        var estimates = [[OPEEstimate]](repeating: [], count: c.repetitions)
        var diagnostics = [WeightDiagnostics?](repeating: nil, count: c.repetitions)
        var logged = [Double](repeating: .nan, count: c.repetitions)
        let total = c.repetitions + (c.truthMode == .sameWorld ? c.repetitions * c.truthRuns : c.truthRuns)
        var truthRuns = [Double](repeating: .nan, count: total - c.repetitions)
        var failure: Error?
        let lock = NSLock()
        _ = Gemm.preferred
        progress?.begin(total: total)
        var done = 0
        DispatchQueue.concurrentPerform(iterations: T) { w in
            do {
                let behaviour = try OPECandidates.trainedAgent(c.behaviour, scenario: scenario, seed: c.seed)
                let target = c.target == c.behaviour ? behaviour : try OPECandidates.trainedAgent(c.target, scenario: scenario, seed: c.seed)
                let world = JourneyWorld(config: scenario.sim)
                world.generator = generator
                var r = w
                while r < c.repetitions {
                    let node = seeds.child("ope.validate.log", r)
                    let run = try logRun(world: world, behaviour: behaviour, target: target, config: c, decisions: n,
                                         seed: node, survey: seeds.child("sim.survey"), generator: generator, scenario: scenario)
                    let (log, policy, unsupported) = (run.log, run.policy, run.unsupported)
                    let model = RewardModel(log: log, folds: c.folds, kind: .ridge, seed: node)
                    let rows = OPE.rows(log, policy, model: model)
                    let est = OPE.estimate(rows, estimators: OPEEstimator.allCases, lambda: c.switchLambda, resamples: c.resamples,
                                           seed: node, threads: 1)
                    lock.lock()
                    estimates[r] = est
                    diagnostics[r] = WeightDiagnostics(weights: rows.w, unsupportedMass: unsupported)
                    logged[r] = log.meanReward
                    done += 1
                    progress?.update("ope validate", done: done, total: total)
                    lock.unlock()
                    r += T
                }
                // Truth runs: job j = (repetition, run) in same-world mode, run j in fresh-worlds mode.
                let jobs = c.truthMode == .sameWorld ? c.repetitions * c.truthRuns : c.truthRuns
                var j = w
                while j < jobs {
                    let worldSeed = c.truthMode == .sameWorld ? seeds.child("ope.validate.log", j / c.truthRuns) : seeds.child("ope.validate.truth", j)
                    let sampling = c.truthMode == .sameWorld ? seeds.child("ope.validate.truth", j / c.truthRuns).child("run", j % c.truthRuns)
                                                             : seeds.child("ope.validate.truth", j)
                    let v = try onPolicy(world: world, policy: target, mix: c.targetMix, decisions: n, worldSeed: worldSeed,
                                         sampling: sampling, survey: seeds.child("sim.survey"), scenario: scenario)
                    lock.lock()
                    truthRuns[j] = v
                    done += 1
                    progress?.update("ope validate", done: done, total: total)
                    lock.unlock()
                    j += T
                }
            } catch {
                lock.lock(); if failure == nil { failure = error }; lock.unlock()
            }
        }
        if let failure { throw failure }
        // Per repetition (same-world) or one group (fresh-worlds): mean and standard error of the runs.
        let groups = c.truthMode == .sameWorld ? (0..<c.repetitions).map { r in Array(truthRuns[(r * c.truthRuns)..<((r + 1) * c.truthRuns)]) }
                                              : [truthRuns]
        var means: [Double] = [], ses: [Double] = []
        for g in groups {
            let m = g.reduce(0, +) / Double(g.count)
            let sd = g.count > 1 ? (g.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(g.count - 1)).squareRoot() : .nan
            means.append(m); ses.append(sd / Double(g.count).squareRoot())
        }
        let truths = c.truthMode == .sameWorld ? means : [Double](repeating: means[0], count: c.repetitions)
        return OPEValidationResult(config: c, truths: truths, truthStandardError: ses.reduce(0, +) / Double(ses.count),
                                   estimates: estimates, diagnostics: diagnostics.map { $0! }, loggedValue: logged, decisions: n)
    }

    /// Mixes `p` (over the allowed actions) with the uniform distribution.
    static func mix(_ p: inout [Double], mask: [Bool], _ alpha: Double) {
        guard alpha > 0 else { return }
        let k = Double(mask.reduce(0) { $0 + ($1 ? 1 : 0) })
        for a in 0..<p.count { p[a] = mask[a] ? (1 - alpha) * p[a] + alpha / k : 0 }
    }

    /// Draws an allowed action from `p` by inversion.
    static func draw(_ p: [Double], mask: [Bool], _ s: RandomStream) -> Int {
        let u = s.uniform()
        var c = 0.0, last = 0
        for a in 0..<p.count where mask[a] && p[a] > 0 {
            c += p[a]
            last = a
            if u < c { return a }
        }
        return last
    }

    /// One logged run of the behaviour: the log (context = observation), the target's
    /// distribution at each row, the target's mean mass on actions the behaviour never takes, and
    /// the run's records.
    static func logRun(world: JourneyWorld, behaviour: DistributionalPolicy, target: DistributionalPolicy, config c: OPEValidationConfig,
                       decisions n: Int, seed: SeedTree, survey: SeedTree, generator: GeneratorKind, scenario: Scenario) throws
        -> (log: LoggedBandit, policy: PerRowPolicy, unsupported: Double, records: RunRecords) {
        let r = try logRun(world: world, behaviour: (behaviour, c.behaviourMix), targets: [(target, c.targetMix)], decisions: n, seed: seed,
                           survey: survey, generator: generator, scenario: scenario)
        return (r.log, r.policies[0], r.unsupported[0], r.records)
    }

    /// One logged run of the behaviour (each policy mixed with its weight of the uniform
    /// distribution): the log, every target's distribution at each row, each target's mean mass on
    /// actions the behaviour never takes, and the run's records. Actions are drawn from
    /// `seed/sample`.
    static func logRun(world: JourneyWorld, behaviour: (DistributionalPolicy, Double), targets: [(DistributionalPolicy, Double)],
                       decisions n: Int, seed: SeedTree, survey: SeedTree, generator: GeneratorKind, scenario: Scenario) throws
        -> (log: LoggedBandit, policies: [PerRowPolicy], unsupported: [Double], records: RunRecords) {
        let D = world.observationLayout.dimension, A = world.actionLayout.count, P = targets.count
        let sampler = seed.child("sample").stream(generator)
        world.recording = true
        world.reset(seed: seed)
        if world.isDone { throw RunError.noDecisions(scenario: scenario.name, phase: "ope validate log") }
        var context: [Double] = [], masks: [Bool] = [], action: [Int32] = [], pscore: [Double] = []
        var probs = [[Double]](repeating: [], count: P)
        if n < 10_000_000 { context.reserveCapacity(n * D); for t in 0..<P { probs[t].reserveCapacity(n * A) } }
        var pb = [Double](repeating: 0, count: A), pe = pb
        var unsupported = [Double](repeating: 0, count: P)
        var k = 0
        while k < n && !world.isDone {
            let o = world.observation, m = world.actionMask
            behaviour.0.actionProbabilities(observation: o, mask: m, into: &pb)
            mix(&pb, mask: m, behaviour.1)
            for (t, target) in targets.enumerated() {
                target.0.actionProbabilities(observation: o, mask: m, into: &pe)
                mix(&pe, mask: m, target.1)
                for j in 0..<A where pb[j] == 0 { unsupported[t] += pe[j] }
                probs[t].append(contentsOf: pe)
            }
            let a = draw(pb, mask: m, sampler)
            context.append(contentsOf: o); masks.append(contentsOf: m)
            action.append(Int32(a)); pscore.append(pb[a])
            _ = world.step(ActionChoice(action: a, propensity: pb[a]))
            k += 1
        }
        let records = world.finish(surveySeed: survey)
        let reward = records.episodes.prefix(k).map { $0.reward }
        var log = LoggedBandit(actions: A, positions: 1, action: action, position: [Int32](repeating: 0, count: k), reward: Array(reward),
                               pscore: pscore, context: context, contextDimension: D, source: "ope validate")
        log.masks = masks
        return (log, probs.map { PerRowPolicy(actions: A, positions: 1, probs: $0) }, unsupported.map { $0 / Double(max(1, k)) }, records)
    }

    /// The target acting on-policy on world `worldSeed`, drawing its actions from `sampling`: its mean reward.
    static func onPolicy(world: JourneyWorld, policy: DistributionalPolicy, mix alpha: Double, decisions n: Int, worldSeed: SeedTree,
                         sampling: SeedTree, survey: SeedTree, scenario: Scenario) throws -> Double {
        let (records, k) = try onPolicyRecords(world: world, policy: policy, mix: alpha, decisions: n, worldSeed: worldSeed,
                                               sampling: sampling, survey: survey, scenario: scenario)
        let r = records.episodes.prefix(k).map { $0.reward }
        return r.reduce(0, +) / Double(max(1, r.count))
    }

    /// The target acting on-policy on world `worldSeed` for at most `n` decisions: the run's
    /// records and the number of decisions taken.
    static func onPolicyRecords(world: JourneyWorld, policy: ActionDistribution, mix alpha: Double, decisions n: Int, worldSeed: SeedTree,
                                sampling: SeedTree, survey: SeedTree, scenario: Scenario) throws -> (RunRecords, Int) {
        let A = world.actionLayout.count
        let sampler = sampling.child("sample").stream(world.generator)
        world.recording = true
        world.reset(seed: worldSeed)
        if world.isDone { throw RunError.noDecisions(scenario: scenario.name, phase: "ope validate truth") }
        var p = [Double](repeating: 0, count: A)
        var k = 0
        while k < n && !world.isDone {
            let m = world.actionMask
            policy.actionProbabilities(observation: world.observation, mask: m, into: &p)
            mix(&p, mask: m, alpha)
            let a = draw(p, mask: m, sampler)
            _ = world.step(ActionChoice(action: a, propensity: p[a]))
            k += 1
        }
        return (world.finish(surveySeed: survey), k)
    }
}
