import Foundation
import GymData
import GymAgents
import GymCore
import GymEval
import GymLinalg
import GymRandom
import GymScenario
import GymSim

/// A candidate or logging policy that can state its whole action distribution.
public typealias DistributionalPolicy = Policy & ActionDistribution

/// Problems with a named agent or checkpoint as an off-policy candidate (exit 65).
public struct OPECandidateError: BadInputError {
    public let message: String
    public var description: String { message }
}

/// Candidate policies for off-policy evaluation that come from the simulator: a scenario's agent
/// trained exactly as `optima-gym run --seed SEED` trains it, or a PPO checkpoint.
public enum OPECandidates {
    /// The scenario's agent `name`, trained on the `sim.train` world from `agent/<name>` streams
    /// (as `run` does with this seed), then frozen.
    public static func trainedAgent(_ name: String, scenario: Scenario, seed: UInt64, progress: Progress? = nil) throws -> DistributionalPolicy {
        let scenario = try ScenarioBinding.bind(scenario)
        guard let spec = scenario.agents.first(where: { $0.name == name }) else {
            throw OPECandidateError(message: "scenario \(scenario.name) has no agent '\(name)' (it has: \(scenario.agents.map { $0.name }.joined(separator: ", ")))")
        }
        if spec.readsHiddenTruth {
            throw OPECandidateError(message: "agent '\(name)' reads the simulator's hidden truth; it has no action distribution given the logged observation and cannot be evaluated off-policy")
        }
        let generator = try GeneratorKind.named(scenario.generator)
        let world = JourneyWorld(config: scenario.sim)
        world.generator = generator
        let seeds = SeedTree(root: seed)
        let policy = makePolicy(spec, layout: world.observationLayout, actions: world.actionLayout,
                                seeds: seeds.child("agent").child(name), generator: generator,
                                trainingDecisions: scenario.training.episodes, discount: scenario.sim.journeyDiscount)
        _ = try Runner.train(policy, world: world, worldSeed: seeds.child("sim.train"), decisions: scenario.training.episodes,
                             matchThreshold: scenario.sim.pairing.matchThreshold, scenario: scenario.name,
                             label: "\(name) training", progress: progress)
        policy.learning = false
        guard let d = policy as? DistributionalPolicy else {
            throw OPECandidateError(message: "agent '\(name)' cannot state its action distribution")
        }
        return d
    }

    /// A checkpoint (PPO, a bandit, random, cql or bc) for the scenario's observation and action spaces, frozen.
    public static func checkpoint(_ path: String, scenario: Scenario) throws -> DistributionalPolicy {
        let generator = try GeneratorKind.named(scenario.generator)
        let world = JourneyWorld(config: scenario.sim)
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CheckpointError(path: path, message: FileManager.default.fileExists(atPath: path) ? "cannot read the checkpoint" : "no such checkpoint file")
        }
        let loaded = try Checkpoints.load(data: data, path: path, layout: world.observationLayout, actions: world.actionLayout,
                                          sampler: SeedTree(root: 0).child("unused").stream(generator))
        guard let policy = loaded.policy as? DistributionalPolicy else {
            throw CheckpointError(path: path, message: "a \(loaded.modelType) checkpoint has no action distribution given the logged observation (it reads hidden truth); it cannot be evaluated off-policy")
        }
        policy.learning = false
        return policy
    }

    /// The policy's distribution at every logged row. The log must carry the observation vectors
    /// and masks (`run --log-observations`) of the scenario's spaces.
    public static func perRow(_ policy: ActionDistribution, log: LoggedBandit, scenario: Scenario, spec: String, limits: DataLimits = .standard) throws -> PerRowPolicy {
        let world = JourneyWorld(config: scenario.sim)
        let D = world.observationLayout.dimension, A = world.actionLayout.count
        guard !log.masks.isEmpty else {
            throw DataError(file: log.source, column: "context_snapshot.observation",
                            message: "the log has no observation vectors, which \(spec) needs to act; write it with `optima-gym run --log-observations`")
        }
        guard log.contextDimension == D else {
            throw DataError(file: log.source, column: "context_snapshot.observation",
                            message: "observations have \(log.contextDimension) numbers; scenario \(scenario.name)'s agents observe \(D)")
        }
        guard log.actions == A else {
            throw DataError(file: log.source, column: "action_index",
                            message: "the log's action space has \(log.actions) actions; \(spec) acts on scenario \(scenario.name)'s \(A)")
        }
        try limits.checkTable(rows: log.count, actions: A, file: log.source, what: "the candidate's probabilities")
        var probs = [Double](repeating: 0, count: log.count * A)
        var o = [Double](repeating: 0, count: D), m = [Bool](repeating: false, count: A), p = [Double](repeating: 0, count: A)
        for i in 0..<log.count {
            for j in 0..<D { o[j] = log.context[i * D + j] }
            for a in 0..<A { m[a] = log.masks[i * A + a] }
            policy.actionProbabilities(observation: o, mask: m, into: &p)
            for a in 0..<A { probs[i * A + a] = p[a] }
        }
        return PerRowPolicy(actions: A, positions: 1, probs: probs)
    }
}

extension OPECandidates {
    /// The candidate named by `--policy` on `log`: `uniform` (over each row's allowed actions when
    /// the log has masks), `bts:PRIOR.yaml:CAMPAIGN` (prior-only Bernoulli Thompson sampling),
    /// `probs:FILE.csv` (per-row probabilities), `agent:NAME` (the scenario's agent trained as
    /// `run --seed SEED` trains it) or `checkpoint:FILE` (a PPO checkpoint).
    public static func target(spec: String, log: LoggedBandit, scenario: Scenario?, seed: UInt64, limits: DataLimits,
                              progress: Progress?) throws -> TargetPolicy {
        if spec == "uniform" {
            guard !log.masks.isEmpty else { return ContextFreePolicy.uniform(actions: log.actions, positions: log.positions) }
            let A = log.actions
            try limits.checkTable(rows: log.count, actions: A, file: log.source, what: "the candidate's probabilities")
            var probs = [Double](repeating: 0, count: log.count * A)
            for i in 0..<log.count {
                let k = Double((0..<A).filter { log.masks[i * A + $0] }.count)
                for a in 0..<A where log.masks[i * A + a] { probs[i * A + a] = 1 / k }
            }
            return PerRowPolicy(actions: A, positions: 1, probs: probs)
        }
        if spec.hasPrefix("bts:") {
            let parts = spec.dropFirst(4).split(separator: ":", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { throw OPECandidateError(message: "--policy \(spec): expected bts:PRIOR.yaml:CAMPAIGN") }
            let prior = try BTSPrior.load(path: parts[0], campaign: parts[1])
            guard prior.alpha.count == log.actions else {
                throw DataError(file: parts[0], column: parts[1], message: "the policy has \(prior.alpha.count) actions; the log's action space has \(log.actions)")
            }
            guard prior.alpha.count >= log.positions else { throw DataError(file: parts[0], message: "fewer items than positions") }
            return ContextFreePolicy(actions: log.actions, positions: log.positions,
                                     table: BernoulliTSTable.integrate(alpha: prior.alpha, beta: prior.beta, positions: log.positions), name: "bts")
        }
        if spec.hasPrefix("probs:") {
            return PerRowPolicy(actions: log.actions, positions: log.positions,
                                probs: try LogImport.policyProbabilities(path: String(spec.dropFirst(6)), rows: log.count, actions: log.actions, limits: limits))
        }
        guard let scenario else { throw OPECandidateError(message: "--policy \(spec) needs --scenario (the agent's observation and action spaces)") }
        let candidate: DistributionalPolicy
        if spec.hasPrefix("agent:") {
            candidate = try trainedAgent(String(spec.dropFirst(6)), scenario: scenario, seed: seed, progress: progress)
            progress?.finish()
        } else if spec.hasPrefix("checkpoint:") {
            candidate = try checkpoint(String(spec.dropFirst(11)), scenario: scenario)
        } else {
            throw OPECandidateError(message: "--policy must be uniform, bts:PRIOR.yaml:CAMPAIGN, probs:FILE.csv, agent:NAME or checkpoint:FILE, got '\(spec)'")
        }
        return try perRow(candidate, log: log, scenario: scenario, spec: spec, limits: limits)
    }
}
