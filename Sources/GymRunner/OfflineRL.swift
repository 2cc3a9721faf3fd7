import Foundation
import GymAgents
import GymCore
import GymData
import GymEval
import GymRandom
import GymScenario
import GymSim

/// `train-offline` in the simulator: log a behaviour policy's journeys on fresh worlds, learn a
/// policy from those logs alone (behaviour cloning or discrete CQL), then judge it by what only a
/// simulator can give: its true `user_return` against the behaviour's, on the same fresh worlds.
public struct OfflineRLConfig: Sendable {
    public var behaviour = "epsilon_greedy"
    public var behaviourMix = 0.0
    /// "cql" or "bc".
    public var algo = "cql"
    public var steps = 20_000
    /// Worlds the behaviour logs (the dataset); truth worlds for the paired comparison.
    public var datasets = 1
    public var truthRuns = 20
    public var cql = CQLConfig()
    public var bc = BCConfig()
    public var threads = 1
    public var seed: UInt64 = 1
    public init() {}
}

public struct OfflineRLResult: Sendable {
    public var config: OfflineRLConfig
    public var transitions: Int, journeys: Int, terminals: Int, truncated: Int
    /// Per truth world: the behaviour's and the learned policy's user_return.
    public var behaviourTruth: [Double], policyTruth: [Double]
    /// The learned Q's own estimate of its policy's value per journey (CQL: the mean over the
    /// logged journeys' first decisions of max_a Q), to set against its true value.
    public var qEstimate: Double?
    /// Every 1/20 of the steps: step, loss (CQL: TD + conservative; BC: cross-entropy), mean Q.
    public var curve: [(step: Int, loss: Double, meanQ: Double)]
    public var gammaPerDay: Double

    static func meanCI(_ v: [Double]) -> (mean: Double, low: Double, high: Double) {
        let n = Double(v.count), m = v.reduce(0, +) / n
        let se = v.count > 1 ? (v.reduce(0) { $0 + ($1 - m) * ($1 - m) } / (n - 1) / n).squareRoot() : .nan
        return (m, m - 1.96 * se, m + 1.96 * se)
    }
    public var behaviourValue: (mean: Double, low: Double, high: Double) { Self.meanCI(behaviourTruth) }
    public var policyValue: (mean: Double, low: Double, high: Double) { Self.meanCI(policyTruth) }
    /// Policy minus behaviour, paired by world.
    public var difference: (mean: Double, low: Double, high: Double) { Self.meanCI(zip(policyTruth, behaviourTruth).map { $0 - $1 }) }
}

public enum OfflineRL {
    /// The logged decisions of one run as transitions between consecutive decisions of a user:
    /// reward = the decision's discounted reward (and, on a journey's last decision, the churn or
    /// opt-out penalty), discount = gamma^(days to the user's next decision). A journey that ended
    /// by churn or opt-out ends in a terminal (discount 0); one still open when the log stops is
    /// truncated (no bootstrap: its next state is unknown).
    public static func transitions(_ log: LoggedBandit, records: RunRecords) -> (Transitions, journeys: Int, terminals: Int, truncated: Int) {
        let (t, _) = OPEValidation.journeyLog(log, records: records, probs: [Double](repeating: 0, count: log.count * log.actions))
        let n = t.rows.count, D = t.rows.contextDimension, A = t.rows.actions, g = records.discountPerDay
        let obs: [Float] = t.rows.context.map { Float($0) }
        var next = [Float](repeating: 0, count: n * D)
        var discount = [Float](repeating: 0, count: n), boot = [Bool](repeating: true, count: n)
        var nextMask = [Bool](repeating: true, count: t.rows.masks.isEmpty ? 0 : n * A)
        var terminals = 0, truncated = 0
        for i in 0..<t.count {
            let lo = t.offsets[i], hi = t.offsets[i + 1]
            guard hi > lo else { continue }
            for j in lo..<(hi - 1) {
                let from: Int = (j + 1) * D, to: Int = j * D
                for d in 0..<D { next[to + d] = obs[from + d] }
                let days: Double = (t.elapsed[j + 1] - t.elapsed[j]) / 86_400
                discount[j] = Float(pow(g, days))
                if !nextMask.isEmpty { for a in 0..<A { nextMask[j * A + a] = t.rows.masks[(j + 1) * A + a] } }
            }
            let user = Int(t.ids[i].dropFirst(5)) ?? -1
            if user >= 0 && records.users[user].leftAt != nil { terminals += 1 } else { boot[hi - 1] = false; truncated += 1 }
        }
        var out = Transitions(dimension: D, actions: A, observation: obs, nextObservation: next, action: t.rows.action,
                              reward: t.rows.reward.map { Float($0) }, discount: discount, bootstrap: boot)
        out.mask = t.rows.masks; out.nextMask = nextMask
        return (out, t.count, terminals, truncated)
    }

    /// Seeds: dataset world k is `offline.log/k` (actions from `offline.log/k/sample`); truth world
    /// k is `offline.truth/k`, the same world for the behaviour and the learned policy, with action
    /// streams `offline.truth/k/behaviour` and `offline.truth/k/policy`; the learner's
    /// initialisation and batches come from `offline.learner`.
    public static func run(scenario: Scenario, config c: OfflineRLConfig, progress: Progress? = nil) throws -> OfflineRLResult {
        let scenario = try ScenarioBinding.bind(scenario)
        let generator = try GeneratorKind.named(scenario.generator)
        let seeds = SeedTree(root: c.seed)
        let n = scenario.evaluation.wholeHorizon ? Int.max : scenario.evaluation.episodes
        let behaviour = try OPECandidates.trainedAgent(c.behaviour, scenario: scenario, seed: c.seed)
        let world = JourneyWorld(config: scenario.sim)
        world.generator = generator
        var data: Transitions?
        var journeys = 0, terminals = 0, truncated = 0, gamma = 1.0
        for k in 0..<c.datasets {
            let run = try OPEValidation.logRun(world: world, behaviour: (behaviour, c.behaviourMix), targets: [], decisions: n,
                                               seed: seeds.child("offline.log", k), survey: seeds.child("sim.survey"), generator: generator, scenario: scenario)
            let (t, j, te, tr) = transitions(run.log, records: run.records)
            journeys += j; terminals += te; truncated += tr; gamma = run.records.discountPerDay
            if var d = data {
                d.observation += t.observation; d.nextObservation += t.nextObservation; d.action += t.action; d.reward += t.reward
                d.discount += t.discount; d.bootstrap += t.bootstrap; d.mask += t.mask; d.nextMask += t.nextMask
                data = d
            } else { data = t }
        }
        guard let data, data.count > 0 else { throw RunError.noDecisions(scenario: scenario.name, phase: "offline dataset") }
        let total = c.steps + c.truthRuns * 2
        progress?.begin(total: total)
        var curve: [(Int, Double, Double)] = []
        let every = max(1, c.steps / 20)
        let learnerSeed = seeds.child("offline.learner")
        var qEstimate: Double?
        let make: () -> ActionDistribution
        if c.algo == "bc" {
            let bc = BehaviourCloning(dimension: data.dimension, actions: data.actions, config: c.bc, seed: learnerSeed)
            bc.train(data, steps: c.steps) { k, ce in
                if k % every == 0 { curve.append((k, ce, .nan)); progress?.update("train-offline bc", done: k, total: total) }
            }
            let p = bc.net.parameters
            make = { let b = BehaviourCloning(dimension: data.dimension, actions: data.actions, config: c.bc, seed: learnerSeed); b.net.parameters = p; return b }
        } else {
            let cql = DiscreteCQL(dimension: data.dimension, actions: data.actions, config: c.cql, seed: learnerSeed)
            cql.train(data, steps: c.steps) { k, s in
                if k % every == 0 { curve.append((k, s.td + s.conservative, s.meanQ)); progress?.update("train-offline cql", done: k, total: total) }
            }
            // Its own value estimate: max_a Q at each logged journey's first decision (allowed actions).
            var v = 0.0, count = 0
            var first = true
            for i in 0..<data.count {
                if first {
                    let q = cql.values((0..<data.dimension).map { Double(data.observation[i * data.dimension + $0]) })
                    v += (0..<data.actions).filter { data.mask.isEmpty || data.mask[i * data.actions + $0] }.map { q[$0] }.max() ?? 0
                    count += 1
                }
                first = !data.bootstrap[i] || data.discount[i] == 0
            }
            qEstimate = v / Double(max(1, count))
            let p = cql.q.parameters
            make = { let q = DiscreteCQL(dimension: data.dimension, actions: data.actions, config: c.cql, seed: learnerSeed); q.q.parameters = p; return q }
        }
        // Truth: behaviour and learned policy on the same fresh worlds.
        let jobs = c.truthRuns * 2
        var values = [Double](repeating: .nan, count: jobs)
        var failure: Error?
        let lock = NSLock()
        var done = c.steps
        let T = max(1, c.threads)
        DispatchQueue.concurrentPerform(iterations: T) { w in
            do {
                let mine = w == 0 ? behaviour : try OPECandidates.trainedAgent(c.behaviour, scenario: scenario, seed: c.seed)
                let learned = make()
                let world = JourneyWorld(config: scenario.sim)
                world.generator = generator
                var j = w
                while j < jobs {
                    let (k, isPolicy) = (j / 2, j % 2 == 1)
                    let node = seeds.child("offline.truth", k)
                    let (records, m) = try OPEValidation.onPolicyRecords(
                        world: world, policy: isPolicy ? learned : mine, mix: isPolicy ? 0 : c.behaviourMix, decisions: n, worldSeed: node,
                        sampling: node.child(isPolicy ? "policy" : "behaviour"), survey: seeds.child("sim.survey"), scenario: scenario)
                    let r = OPEValidation.journeyReturns(records, decisions: m)
                    lock.lock()
                    values[j] = r.reduce(0, +) / Double(max(1, r.count))
                    done += 1
                    progress?.update("train-offline: truth", done: done, total: total)
                    lock.unlock()
                    j += T
                }
            } catch {
                lock.lock(); if failure == nil { failure = error }; lock.unlock()
            }
        }
        if let failure { throw failure }
        return OfflineRLResult(config: c, transitions: data.count, journeys: journeys, terminals: terminals, truncated: truncated,
                               behaviourTruth: stride(from: 0, to: jobs, by: 2).map { values[$0] },
                               policyTruth: stride(from: 1, to: jobs, by: 2).map { values[$0] }, qEstimate: qEstimate,
                               curve: curve.map { (step: $0.0, loss: $0.1, meanQ: $0.2) }, gammaPerDay: gamma)
    }
}
