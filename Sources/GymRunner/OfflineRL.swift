import Foundation
import GymAgents
import GymCore
import GymData
import GymEval
import GymRandom
import GymScenario
import GymSim

/// `train-offline`: learn a policy from logged journeys alone (behaviour cloning or discrete CQL),
/// validate it by off-policy estimates on held-out journeys while it learns, and, when the data
/// came from the simulator, judge it by what only a simulator can give: its true `user_return`
/// against the behaviour's on the same fresh worlds.
public struct OfflineRLConfig: Sendable {
    /// "cql" or "bc".
    public var algo = "cql"
    public var steps = 20_000
    /// Share of the journeys held out of training for the OPE validation (0: none).
    public var holdout = 0.2
    /// OPE validations on the held-out journeys, evenly spread over training (the last at the end).
    public var validations = 5
    /// Bootstrap resamples of the validation intervals.
    public var resamples = 200
    /// The validation's Q model: "mlp" (MLPFQE's defaults: one hidden layer of 100, 10,000
    /// steps, cross-fitted) or "linear" (LinearFQE, cross-fitted).
    public var validationFQE = "mlp"
    /// Fresh worlds for the truth (needs the scenario).
    public var truthRuns = 20
    /// Overrides the dataset's discount per day.
    public var gammaPerDay: Double?
    public var cql = CQLConfig()
    public var bc = BCConfig()
    public var threads = 1
    public var seed: UInt64 = 1
    public init() {}
}

/// One OPE validation of the learned policy on the held-out journeys.
public struct OfflineValidation: Sendable {
    public var step: Int
    public var dr: SequentialEstimate, fqe: SequentialEstimate
}

public struct OfflineRLResult: Sendable {
    public var config: OfflineRLConfig
    public var provenance: DatasetProvenance?
    public var dataPath: String
    public var transitions: Int, journeys: Int, terminals: Int, truncated: Int
    public var heldOutJourneys: Int
    /// The behaviour's value on the held-out journeys (their mean discounted return).
    public var heldOutLoggedValue: Double
    /// Per truth world: the behaviour's and the learned policy's user_return (empty without a scenario).
    public var behaviourTruth: [Double], policyTruth: [Double]
    /// The learned Q's own estimate of its policy's value per journey (CQL: the mean over the
    /// training journeys' first decisions of max over allowed actions of Q), to set against its true value.
    public var qEstimate: Double?
    /// Every 1/20 of the steps: step, loss (CQL: TD + conservative; BC: cross-entropy), mean Q.
    public var curve: [(step: Int, loss: Double, meanQ: Double)]
    public var validation: [OfflineValidation]
    public var gammaPerDay: Double
    /// The learned network, for the checkpoint.
    public var network: OfflineNetwork
    public var actionLabels: [String]

    static func meanCI(_ v: [Double]) -> (mean: Double, low: Double, high: Double) {
        let m = Stats.mean(v), se = (Stats.variance(v) / Double(v.count)).squareRoot()
        return (m, m - 1.96 * se, m + 1.96 * se)
    }
    public var hasTruth: Bool { !policyTruth.isEmpty }
    public var behaviourValue: (mean: Double, low: Double, high: Double) { Self.meanCI(behaviourTruth) }
    public var policyValue: (mean: Double, low: Double, high: Double) { Self.meanCI(policyTruth) }
    /// Policy minus behaviour, paired by world.
    public var difference: (mean: Double, low: Double, high: Double) { Self.meanCI(zip(policyTruth, behaviourTruth).map { $0 - $1 }) }
}

public enum OfflineRL {
    /// Seeds (under `config.seed`): held-out journeys drawn from `offline.holdout`; the learner's
    /// initialisation and batches from `offline.learner`; the validations' bootstrap from
    /// `offline.validate`; truth world k is `offline.truth/k`, the same world for the behaviour and
    /// the learned policy, with action streams `offline.truth/k/behaviour` and `offline.truth/k/policy`.
    /// The behaviour is rebuilt from the dataset's provenance (trained under its seed).
    public static func run(data: JourneyDataset, scenario: Scenario?, config c: OfflineRLConfig, progress: Progress? = nil) throws -> OfflineRLResult {
        let seeds = SeedTree(root: c.seed)
        guard let g = c.gammaPerDay ?? data.provenance?.gammaPerDay else {
            throw DatasetError(path: data.path, message: "the dataset has no dataset.json giving its discount; give --gamma-per-day")
        }
        let log = data.log
        // Held-out journeys.
        let pick = seeds.child("offline.holdout").stream(.taus2)
        var train: [Int] = [], held: [Int] = []
        for i in 0..<log.count { if c.holdout > 0 && pick.uniform() < c.holdout { held.append(i) } else { train.append(i) } }
        guard !train.isEmpty else { throw DatasetError(path: data.path, message: "no journey left to train on after holding out \(held.count)") }
        let trainData = OfflineDataset.transitions(log, gammaPerDay: g, journeys: train)
        let heldLog = OfflineDataset.subset(log, journeys: held)
        let heldValue = held.isEmpty ? .nan : { let r = OfflineDataset.journeyReturns(heldLog, gammaPerDay: g); return r.reduce(0, +) / Double(r.count) }()
        let doTruth = scenario != nil
        let total = c.steps + (doTruth ? c.truthRuns * 2 : 0)
        progress?.begin(total: total)
        var curve: [(Int, Double, Double)] = []
        var validation: [OfflineValidation] = []
        let every = max(1, c.steps / 20)
        let validateEvery = c.validations > 0 ? max(1, c.steps / c.validations) : Int.max
        let learnerSeed = seeds.child("offline.learner")
        var qEstimate: Double?
        var deployed: OfflinePolicy
        var network: OfflineNetwork
        func validate(_ p: OfflinePolicy, step: Int) {
            guard !held.isEmpty else { return }
            validation.append(validateOPE(p, log: heldLog, gammaPerDay: g, step: step, config: c, seed: seeds.child("offline.validate")))
        }
        if c.algo == "bc" {
            let bc = BehaviourCloning(dimension: trainData.dimension, actions: trainData.actions, config: c.bc, seed: learnerSeed)
            bc.train(trainData, steps: c.steps) { k, ce in
                if k % every == 0 { curve.append((k, ce, .nan)); progress?.update("train-offline bc", done: k, total: total) }
                if k % validateEvery == 0 || k == c.steps { validate(OfflinePolicy.of(bc), step: k) }
            }
            deployed = OfflinePolicy.of(bc)
            network = OfflineNetwork(shape: bc.net.shape, parameters: bc.net.parameters, bc: c.bc, steps: c.steps)
        } else {
            let cql = DiscreteCQL(dimension: trainData.dimension, actions: trainData.actions, config: c.cql, seed: learnerSeed)
            cql.train(trainData, steps: c.steps) { k, s in
                if k % every == 0 { curve.append((k, s.td + s.conservative, s.meanQ)); progress?.update("train-offline cql", done: k, total: total) }
                if k % validateEvery == 0 || k == c.steps { validate(OfflinePolicy.of(cql), step: k) }
            }
            deployed = OfflinePolicy.of(cql)
            network = OfflineNetwork(shape: cql.q.shape, parameters: cql.q.parameters, cql: c.cql, steps: c.steps)
            // Its own value estimate: max over allowed actions of Q at each training journey's first decision.
            var v = 0.0
            for i in train {
                let j = log.offsets[i]
                let q = deployed.net.forward(Array(log.rows.context[(j * log.rows.contextDimension)..<((j + 1) * log.rows.contextDimension)]))
                v += (0..<log.rows.actions).filter { log.rows.masks.isEmpty || log.rows.masks[j * log.rows.actions + $0] }.map { q[$0] }.max() ?? 0
            }
            qEstimate = v / Double(train.count)
        }
        var behaviourTruth: [Double] = [], policyTruth: [Double] = []
        if let scenario {
            (behaviourTruth, policyTruth) = try truth(scenario: scenario, data: data, policy: network, kind: c.algo, config: c, done: c.steps, total: total, progress: progress)
        }
        let labels = data.provenance?.actionLabels ?? (0..<log.rows.actions).map { "action \($0)" }
        let ended = log.terminal.reduce(0) { $0 + ($1 ? 1 : 0) }
        return OfflineRLResult(config: c, provenance: data.provenance, dataPath: data.path, transitions: trainData.count, journeys: train.count,
                               terminals: ended, truncated: log.count - ended, heldOutJourneys: held.count, heldOutLoggedValue: heldValue,
                               behaviourTruth: behaviourTruth, policyTruth: policyTruth, qEstimate: qEstimate,
                               curve: curve.map { (step: $0.0, loss: $0.1, meanQ: $0.2) }, validation: validation, gammaPerDay: g,
                               network: network, actionLabels: labels)
    }

    /// DR and FQE (MLP or linear, cross-fitted) of the greedy policy on the held-out journeys.
    static func validateOPE(_ p: OfflinePolicy, log: TrajectoryLog, gammaPerDay g: Double, step: Int, config c: OfflineRLConfig,
                            seed: SeedTree) -> OfflineValidation {
        let D = log.rows.contextDimension, A = log.rows.actions
        var probs = [Double](repeating: 0, count: log.rows.count * A)
        var out = [Double](repeating: 0, count: A)
        let all = [Bool](repeating: true, count: A)
        for j in 0..<log.rows.count {
            let m = log.rows.masks.isEmpty ? all : Array(log.rows.masks[(j * A)..<((j + 1) * A)])
            p.actionProbabilities(observation: Array(log.rows.context[(j * D)..<((j + 1) * D)]), mask: m, into: &out)
            for a in 0..<A { probs[j * A + a] = out[a] }
        }
        let target = TrajectoryTarget(actions: A, table: probs, byState: false, name: p.kind)
        let discounting = OfflineDataset.discounting(log, gammaPerDay: g)
        let q = c.validationFQE == "linear"
            ? LinearFQE.fit(log, target: target, nextFactor: discounting.nextFactors(log), seed: seed)
            : MLPFQE.fit(log, target: target, nextFactor: discounting.nextFactors(log), settings: MLPFQE.Settings(), seed: seed)
        var o = SequentialOPE.Options(seed: seed)
        o.resamples = c.resamples; o.threads = c.threads
        let (est, _) = SequentialOPE.run(log, target: target, q: q, discount: discounting.factors(log), options: o)
        return OfflineValidation(step: step, dr: est.first { $0.estimator == .dr }!, fqe: est.first { $0.estimator == .fqe }!)
    }

    /// The behaviour (rebuilt from the provenance) and the learned policy on the same fresh worlds.
    static func truth(scenario: Scenario, data: JourneyDataset, policy network: OfflineNetwork, kind: String, config c: OfflineRLConfig,
                      done start: Int, total: Int, progress: Progress?) throws -> ([Double], [Double]) {
        guard let p = data.provenance else {
            throw DatasetError(path: data.path, message: "--scenario judges the learned policy against the behaviour that logged the data; this dataset has no dataset.json naming it (a dataset from `dataset collect` has)")
        }
        let scenario = try ScenarioBinding.bind(scenario)
        guard scenario.name == p.scenario else {
            throw DatasetError(path: data.path, message: "the dataset was collected on scenario '\(p.scenario)', not '\(scenario.name)'")
        }
        let generator = try GeneratorKind.named(scenario.generator)
        let seeds = SeedTree(root: c.seed)
        let behaviourSeed = UInt64(p.seed) ?? 0
        let n = scenario.evaluation.wholeHorizon ? Int.max : scenario.evaluation.episodes
        let jobs = c.truthRuns * 2
        var values = [Double](repeating: .nan, count: jobs)
        var failure: Error?
        let lock = NSLock()
        var done = start
        let T = max(1, c.threads)
        DispatchQueue.concurrentPerform(iterations: T) { w in
            do {
                let behaviour = try OPECandidates.trainedAgent(p.behaviour, scenario: scenario, seed: behaviourSeed)
                let net = MLP(shape: network.shape)
                net.parameters = network.parameters
                let learned = OfflinePolicy(kind: kind, net: net)
                let world = JourneyWorld(config: scenario.sim)
                world.generator = generator
                var j = w
                while j < jobs {
                    let (k, isPolicy) = (j / 2, j % 2 == 1)
                    let node = seeds.child("offline.truth", k)
                    let (records, m) = try OPEValidation.onPolicyRecords(
                        world: world, policy: isPolicy ? learned : behaviour, mix: isPolicy ? 0 : p.behaviourMix, decisions: n, worldSeed: node,
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
        return (stride(from: 0, to: jobs, by: 2).map { values[$0] }, stride(from: 1, to: jobs, by: 2).map { values[$0] })
    }
}
