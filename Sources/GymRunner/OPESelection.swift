import Foundation
import GymData
import GymAgents
import GymCore
import GymEval
import GymGate
import GymRandom
import GymScenario
import GymSim

/// `ope select`: candidate policies ranked by their journey-level off-policy estimates on one
/// logged world, and, in the simulator, the ranking assessed against their true values.
public struct OPESelectionConfig: Sendable {
    public var behaviour = "random"
    public var behaviourMix = 0.0
    /// Candidate specs: `NAME` (an agent of the scenario) or `checkpoint:FILE`, each optionally
    /// `@MIX` (mixed with that weight of the uniform distribution over the allowed actions).
    public var candidates: [String] = []
    /// Fresh worlds per candidate for the truth (0: no truth, ranking only).
    public var truthRuns = 20
    public var decisions: Int?
    public var resamples = 1000
    /// The estimator whose point estimate and lower bound rank the candidates.
    public var selectBy: SequentialOPE.Estimator = .dr
    /// k of regret@k and SharpeRatio@k.
    public var ks: [Int] = [1, 2, 3]
    /// Gate rules on the selected candidate (the highest lower bound of `selectBy`).
    public var requirements: [OPERequirement] = []
    public var essFloor = 100.0
    public var threads = 1
    public var seed: UInt64 = 1
    public init() {}
}

public struct OPESelectionResult: Sendable {
    public struct Candidate: Sendable {
        public var spec: String
        /// The behaviour itself (always a candidate: SharpeRatio@k's risk-free baseline).
        public var isBehaviour: Bool
        public var estimates: [SequentialEstimate]
        public var diagnostics: SequentialDiagnostics
        /// The target's mass on actions the behaviour never takes, per decision.
        public var unsupportedMass: Double
        public var truth: Double?
        public var truthSE: Double?
        public func estimate(_ e: SequentialOPE.Estimator) -> SequentialEstimate { estimates.first { $0.estimator == e }! }
    }
    /// One estimator's assessment of its ranking (by point estimate) against the truth.
    public struct Assessment: Sendable {
        public var estimator: SequentialOPE.Estimator
        public var nmse: Double, spearman: Double
        public var regret: [Double], sharpe: [Double]
    }

    public var config: OPESelectionConfig
    public var candidates: [Candidate]
    public var trajectories: Int, decisions: Int
    public var gammaPerDay: Double
    /// The logged policy's own discounted value per journey (in the log).
    public var loggedValue: Double
    /// Indices of the candidates by `selectBy`'s point estimate and by its lower bound.
    public var byPoint: [Int], byLowerBound: [Int]
    public var assessments: [Assessment]
    public var gate: OPEGate.Result?
    public var selected: Int { byLowerBound[0] }
}

public enum OPESelection {
    /// One candidate spec: the policy's source and its uniform mix.
    public static func parse(_ spec: String) throws -> (source: String, mix: Double) {
        guard let at = spec.lastIndex(of: "@") else { return (spec, 0) }
        let source = String(spec[..<at]), raw = String(spec[spec.index(after: at)...])
        guard let m = Double(raw), (0...1).contains(m) else {
            throw OPECandidateError(message: "candidate '\(spec)': the mix after '@' must be a number in [0, 1], got '\(raw)'")
        }
        return (source, m)
    }

    static func policy(_ source: String, scenario: Scenario, seed: UInt64) throws -> DistributionalPolicy {
        if source.hasPrefix("checkpoint:") { return try OPECandidates.checkpoint(String(source.dropFirst(11)), scenario: scenario) }
        return try OPECandidates.trainedAgent(source, scenario: scenario, seed: seed)
    }

    /// Seeds: the behaviour logs world `ope.select.log` (actions from `ope.select.log/sample`);
    /// every candidate's truth run k acts on world `ope.select.truth/k` (the same worlds for every
    /// candidate) drawing actions from `ope.select.truth/k/candidate/i`; the bootstrap and the
    /// FQE folds use `ope.select.log/candidate/i`. Agents train as in `run`.
    public static func run(scenario: Scenario, config c: OPESelectionConfig, progress: Progress? = nil) throws -> OPESelectionResult {
        let scenario = try ScenarioBinding.bind(scenario)
        let generator = try GeneratorKind.named(scenario.generator)
        let seeds = SeedTree(root: c.seed)
        let n = c.decisions ?? (scenario.evaluation.wholeHorizon ? Int.max : scenario.evaluation.episodes)
        let specs = ["\(c.behaviour)@\(c.behaviourMix)"] + c.candidates
        let parsed = try specs.map(parse)
        for (source, _) in parsed where !source.hasPrefix("checkpoint:") && !scenario.agents.contains(where: { $0.name == source }) {
            throw OPECandidateError(message: "scenario \(scenario.name) has no agent '\(source)' (it has: \(scenario.agents.map { $0.name }.joined(separator: ", ")); a PPO checkpoint is checkpoint:FILE)")
        }
        let P = specs.count, T = max(1, c.threads)
        // Every worker loads its own copies (agents keep scratch buffers); sources loaded once per worker.
        func load() throws -> [DistributionalPolicy] {
            var cache: [String: DistributionalPolicy] = [:]
            return try parsed.map { s in
                if let p = cache[s.source] { return p }
                let p = try policy(s.source, scenario: scenario, seed: c.seed)
                cache[s.source] = p
                return p
            }
        }
        let jobs = c.truthRuns * P
        progress?.begin(total: 1 + P + jobs)
        let policies = try load()
        let world = JourneyWorld(config: scenario.sim)
        world.generator = generator
        let node = seeds.child("ope.select.log")
        let run = try OPEValidation.logRun(world: world, behaviour: (policies[0], parsed[0].mix), targets: zip(policies, parsed).map { ($0, $1.mix) },
                                           decisions: n, seed: node, survey: seeds.child("sim.survey"), generator: generator, scenario: scenario)
        progress?.update("ope select: logged", done: 1, total: 1 + P + jobs)
        let (tlog, _) = OPEValidation.journeyLog(run.log, records: run.records, probs: run.policies[0].probs)
        let discounting = Discounting.perDay(run.records.discountPerDay)
        let d = discounting.factors(tlog), next = discounting.nextFactors(tlog)
        var candidates: [OPESelectionResult.Candidate] = []
        for i in 0..<P {
            let (_, probs) = OPEValidation.journeyLog(run.log, records: run.records, probs: run.policies[i].probs)
            let target = TrajectoryTarget(actions: tlog.rows.actions, table: probs, byState: false, name: specs[i])
            let q = LinearFQE.fit(tlog, target: target, nextFactor: next, seed: node.child("candidate", i))
            var o = SequentialOPE.Options(seed: node.child("candidate", i))
            o.resamples = c.resamples; o.threads = T
            let (est, diag) = SequentialOPE.run(tlog, target: target, q: q, discount: d, options: o)
            candidates.append(.init(spec: i == 0 ? "\(specs[0]) (behaviour)" : specs[i], isBehaviour: i == 0, estimates: est, diagnostics: diag,
                                    unsupportedMass: run.unsupported[i]))
            progress?.update("ope select: estimated \(specs[i])", done: 2 + i, total: 1 + P + jobs)
        }
        if c.truthRuns > 0 {
            var values = [Double](repeating: .nan, count: jobs)
            var failure: Error?
            let lock = NSLock()
            var done = 1 + P
            DispatchQueue.concurrentPerform(iterations: T) { w in
                do {
                    let mine = w == 0 ? policies : try load()
                    let world = JourneyWorld(config: scenario.sim)
                    world.generator = generator
                    var j = w
                    while j < jobs {
                        let (i, k) = (j / c.truthRuns, j % c.truthRuns)
                        let (records, m) = try OPEValidation.onPolicyRecords(
                            world: world, policy: mine[i], mix: parsed[i].mix, decisions: n, worldSeed: seeds.child("ope.select.truth", k),
                            sampling: seeds.child("ope.select.truth", k).child("candidate", i), survey: seeds.child("sim.survey"), scenario: scenario)
                        let r = OPEValidation.journeyReturns(records, decisions: m)
                        lock.lock()
                        values[j] = r.reduce(0, +) / Double(max(1, r.count))
                        done += 1
                        progress?.update("ope select: truth", done: done, total: 1 + P + jobs)
                        lock.unlock()
                        j += T
                    }
                } catch {
                    lock.lock(); if failure == nil { failure = error }; lock.unlock()
                }
            }
            if let failure { throw failure }
            for i in 0..<P {
                let v = Array(values[(i * c.truthRuns)..<((i + 1) * c.truthRuns)])
                let m = v.reduce(0, +) / Double(v.count)
                let sd = v.count > 1 ? (v.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(v.count - 1)).squareRoot() : .nan
                candidates[i].truth = m; candidates[i].truthSE = sd / Double(v.count).squareRoot()
            }
        }
        let byPoint = PolicySelection.ranking(candidates.map { $0.estimate(c.selectBy).value })
        let byLower = PolicySelection.ranking(candidates.map { $0.estimate(c.selectBy).ciLow })
        var assessments: [OPESelectionResult.Assessment] = []
        if c.truthRuns > 0 {
            let truths = candidates.map { $0.truth! }
            for e in SequentialOPE.Estimator.allCases {
                let est = candidates.map { $0.estimate(e).value }
                assessments.append(.init(estimator: e, nmse: PolicySelection.nmse(estimates: est, truths: truths), spearman: PolicySelection.spearman(est, truths),
                                         regret: c.ks.map { PolicySelection.regret(at: $0, scores: est, truths: truths) },
                                         sharpe: c.ks.map { PolicySelection.sharpeRatio(at: $0, scores: est, truths: truths, behaviourTruth: truths[0]) }))
            }
        }
        let logged = tlog.loggedValue(discount: d)
        var result = OPESelectionResult(config: c, candidates: candidates, trajectories: tlog.count, decisions: tlog.rows.count,
                                        gammaPerDay: run.records.discountPerDay, loggedValue: logged, byPoint: byPoint, byLowerBound: byLower,
                                        assessments: assessments)
        if !c.requirements.isEmpty {
            let s = candidates[result.selected]
            result.gate = OPEGate.evaluate(c.requirements, values: s.estimates.map { ($0.estimator.rawValue, $0.value, $0.ciLow, $0.ciHigh) },
                                           effectiveSampleSize: s.diagnostics.trajectoryESS, essFloor: c.essFloor, loggedValue: logged,
                                           rows: tlog.count, unit: "trajectories")
        }
        return result
    }
}
