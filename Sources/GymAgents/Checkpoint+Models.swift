import Foundation
import GymCore
import GymLinalg
import GymRandom

/// Where a model came from: what a checkpoint records so that a registry can answer "what was
/// this trained on?". Part of the content its id is computed from.
public struct ModelLineage: Codable, Equatable, Sendable {
    public var scenario: String
    /// SHA-256 of the scenario file's text as run.
    public var scenarioSHA256: String
    public var seed: String
    /// What the model learnt from, e.g. "simulated: scenario baseline, world sim.train, 20000 decisions".
    public var trainingData: String
    public var trainingDecisions: Int
    /// The DP persona model that shaped the population, when one did.
    public var personaModel: PersonaModelLineage?
    /// The checkpoint this one continued training from (`run --from`).
    public var parentID: String?

    public init(scenario: String, scenarioSHA256: String, seed: String, trainingData: String, trainingDecisions: Int,
                personaModel: PersonaModelLineage? = nil, parentID: String? = nil) {
        self.scenario = scenario; self.scenarioSHA256 = scenarioSHA256; self.seed = seed; self.trainingData = trainingData
        self.trainingDecisions = trainingDecisions; self.personaModel = personaModel; self.parentID = parentID
    }

    enum CodingKeys: String, CodingKey {
        case scenario, scenarioSHA256 = "scenario_sha256", seed, trainingData = "training_data"
        case trainingDecisions = "training_decisions", personaModel = "persona_model", parentID = "parent_id"
    }
}

/// A DP persona model in a lineage: its fingerprint and the privacy it spent.
public struct PersonaModelLineage: Codable, Equatable, Sendable {
    public var fingerprint: String
    public var epsilon: Double
    public var delta: Double
    public init(fingerprint: String, epsilon: Double, delta: Double) { self.fingerprint = fingerprint; self.epsilon = epsilon; self.delta = delta }
}

/// The checkpoint of an agent that is not PPO: the bandits' ridge models in full (Gram matrix,
/// moment vector, weights), so that training can go on from it; for the references (random,
/// oracle, look-ahead) their settings only. Same format name and version as PPO's checkpoints;
/// `model_type` tells them apart.
public struct ModelCheckpoint: Codable, Equatable, Sendable {
    public struct Ridge: Codable, Equatable, Sendable {
        public var dimension: Int
        public var lambda: Double
        public var gram: [Double]
        public var moments: [Double]
        public var weights: [Double]
        public var observations: Int
    }

    public var format = PPOCheckpoint.formatName
    public var version = PPOCheckpoint.currentVersion
    public var checkpointID: String
    /// random | oracle | lookahead | epsilon_greedy | paced_bandit | cql | bc
    public var modelType: String
    public var weightsURL = "inline"
    public var performanceMetrics: [String: Double]
    public var trainingDate: String
    public var active = false
    public var scenario: String
    public var seed: String
    public var trainingDecisions: Int
    public var observationDimension: Int
    public var actionLabels: [String]
    public var lineage: ModelLineage?
    public var bandit: EpsilonGreedyConfig?
    public var suggestionCost: Double?
    public var lookahead: LookAheadConfig?
    public var ridge: [Ridge]?
    public var resonanceWeights: [Double]?
    public var resonanceObservations: Int?
    /// cql | bc: the learnt network (`train-offline`).
    public var offline: OfflineNetwork?

    enum CodingKeys: String, CodingKey {
        case format, version, checkpointID = "checkpoint_id", modelType = "model_type", weightsURL = "weights_url"
        case performanceMetrics = "performance_metrics", trainingDate = "training_date", active, scenario, seed
        case trainingDecisions = "training_decisions", observationDimension = "observation_dimension", actionLabels = "action_labels"
        case lineage, bandit, suggestionCost = "suggestion_cost", lookahead, ridge
        case resonanceWeights = "resonance_weights", resonanceObservations = "resonance_observations", offline
    }
}

/// What every checkpoint records beside the model itself.
public struct CheckpointContext: Sendable {
    public var scenario: String
    public var seed: UInt64
    public var trainingDate: String
    public var actionLabels: [String]
    public var metrics: [String: Double]
    public var lineage: ModelLineage
    public init(scenario: String, seed: UInt64, trainingDate: String, actionLabels: [String], metrics: [String: Double], lineage: ModelLineage) {
        self.scenario = scenario; self.seed = seed; self.trainingDate = trainingDate; self.actionLabels = actionLabels
        self.metrics = metrics; self.lineage = lineage
    }
}

/// A saved checkpoint: its content-addressed id, its type and its bytes.
public struct SavedCheckpoint: Sendable {
    public var id: String
    public var modelType: String
    public var data: Data
}

/// Checkpoints of every agent kind, and their loading.
///
/// Ids are content-addressed: the SHA-256 (in UUID form, `SHA256.contentID`) of the checkpoint's
/// canonical JSON with its id, training date and performance metrics blanked. The same model
/// (weights, settings, lineage) always gets the same id, whenever it was trained.
public enum Checkpoints {
    static func encode<T: Encodable>(_ value: T) throws -> Data {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return try e.encode(value)
    }

    /// The checkpoint of `policy` (built from `spec`) with its id.
    public static func save(_ policy: Policy, spec: AgentSpec, observationDimension: Int, context c: CheckpointContext) throws -> SavedCheckpoint {
        if let ppo = policy as? PPOAgent {
            var k = ppo.checkpoint(id: "", scenario: c.scenario, seed: c.seed, trainingDate: "", actionLabels: c.actionLabels, metrics: [:])
            k.lineage = c.lineage
            let id = SHA256.contentID(try encode(k))
            k.checkpointID = id; k.trainingDate = c.trainingDate; k.performanceMetrics = c.metrics
            return SavedCheckpoint(id: id, modelType: k.modelType, data: try encode(k))
        }
        var k = ModelCheckpoint(checkpointID: "", modelType: spec.name, performanceMetrics: [:], trainingDate: "", scenario: c.scenario,
                                seed: String(c.seed), trainingDecisions: 0, observationDimension: observationDimension,
                                actionLabels: c.actionLabels, lineage: c.lineage)
        switch spec {
        case .random, .oracle: break
        case .lookahead(let l): k.lookahead = l
        case .epsilonGreedy, .pacedBandit:
            guard let b = policy as? EpsilonGreedyAgent else { break }
            k.bandit = b.config
            k.suggestionCost = b.suggestionCost
            k.trainingDecisions = b.trainingSteps
            k.ridge = b.models.map { ModelCheckpoint.Ridge(dimension: $0.dimension, lambda: $0.lambda, gram: $0.a, moments: $0.b, weights: $0.weights, observations: $0.observations) }
            let s = b.predictor.state
            k.resonanceWeights = s.weights; k.resonanceObservations = s.observations
        case .ppo, .offline: break
        }
        if case .random = spec, let r = policy as? RandomAgent {
            let s = r.predictor.state
            k.resonanceWeights = s.weights; k.resonanceObservations = s.observations
        }
        let id = SHA256.contentID(try encode(k))
        k.checkpointID = id; k.trainingDate = c.trainingDate; k.performanceMetrics = c.metrics
        return SavedCheckpoint(id: id, modelType: k.modelType, data: try encode(k))
    }

    /// The checkpoint of a policy learnt offline (`kind` cql or bc), with its id.
    public static func saveOffline(_ network: OfflineNetwork, kind: String, context c: CheckpointContext) throws -> SavedCheckpoint {
        var k = ModelCheckpoint(checkpointID: "", modelType: kind, performanceMetrics: [:], trainingDate: "", scenario: c.scenario,
                                seed: String(c.seed), trainingDecisions: network.steps, observationDimension: network.shape.inputs,
                                actionLabels: c.actionLabels, lineage: c.lineage)
        k.offline = network
        let id = SHA256.contentID(try encode(k))
        k.checkpointID = id; k.trainingDate = c.trainingDate; k.performanceMetrics = c.metrics
        return SavedCheckpoint(id: id, modelType: kind, data: try encode(k))
    }

    /// A loaded checkpoint: the policy (learning off), the spec it rebuilds, its id and lineage.
    public struct Loaded {
        public var policy: Policy
        public var spec: AgentSpec
        public var id: String
        public var modelType: String
        public var trainingDecisions: Int
        public var lineage: ModelLineage?
    }

    /// Reads any checkpoint (`path` names it in messages) for a world with this layout. Errors
    /// name the file and what is wrong.
    /// `shuffle`: the minibatch order of PPO's further training (`run --from`).
    public static func load(data: Data, path: String, layout: ObservationLayout, actions: ActionLayout, sampler: RandomStream,
                            shuffle: RandomStream? = nil, trainingDecisions: Int? = nil) throws -> Loaded {
        func fail(_ m: String) -> CheckpointError { CheckpointError(path: path, message: m) }
        guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw fail("not a valid checkpoint: the file is not complete JSON (truncated or corrupt, \(data.count) bytes)")
        }
        guard (object["format"] as? String) == PPOCheckpoint.formatName else {
            throw fail("not an optima-gym checkpoint (format is \(object["format"].map { "'\($0)'" } ?? "missing"), expected '\(PPOCheckpoint.formatName)')")
        }
        let type = object["model_type"] as? String ?? "ppo"
        if type == "ppo" {
            let agent = try PPOAgent.load(data: data, path: path, layout: layout, actions: actions, sampler: sampler, shuffle: shuffle,
                                          trainingDecisions: trainingDecisions)
            guard var k = try? JSONDecoder().decode(PPOCheckpoint.self, from: data) else { throw fail("not a valid ppo checkpoint") }
            let decisions = k.lineage?.trainingDecisions ?? k.trainingDecisions
            // The id is recomputed from the content, never trusted from the file: an early
            // checkpoint's id came from its seed alone, and a hand-edited one keeps its old id.
            k.checkpointID = ""; k.trainingDate = ""; k.performanceMetrics = [:]; k.active = false
            return Loaded(policy: agent, spec: .ppo(agent.config), id: SHA256.contentID(try encode(k)), modelType: "ppo",
                          trainingDecisions: decisions, lineage: k.lineage)
        }
        guard let version = object["version"] as? Int, version == PPOCheckpoint.currentVersion else {
            throw fail("unsupported checkpoint version \(object["version"].map { "\($0)" } ?? "(missing)"); this build reads version \(PPOCheckpoint.currentVersion)")
        }
        let k: ModelCheckpoint
        do { k = try JSONDecoder().decode(ModelCheckpoint.self, from: data) } catch {
            throw fail("not a valid \(type) checkpoint: \(CheckpointError.describe(error))")
        }
        let labels = (0..<actions.count).map { actions.label(of: $0) }
        guard k.actionLabels == labels, k.observationDimension == layout.dimension else {
            throw fail("the checkpoint's world (\(k.observationDimension) observation features, actions \(k.actionLabels.joined(separator: ", "))) differs from this scenario's (\(layout.dimension), \(labels.joined(separator: ", ")))")
        }
        let policy: Policy, spec: AgentSpec
        switch type {
        case "random":
            let r = RandomAgent(layout: layout, actions: actions, stream: sampler)
            if let w = k.resonanceWeights, let n = k.resonanceObservations { r.predictor.restore(weights: w, observations: n) }
            policy = r; spec = .random
        case "oracle": policy = OracleAgent(); spec = .oracle
        case "lookahead":
            let c = k.lookahead ?? LookAheadConfig()
            policy = LookAheadAgent(config: c); spec = .lookahead(c)
        case "epsilon_greedy", "paced_bandit":
            guard let config = k.bandit, let ridge = k.ridge else { throw fail("a \(type) checkpoint needs 'bandit' and 'ridge'") }
            let cost = k.suggestionCost ?? 0
            let b = EpsilonGreedyAgent(config: config, layout: layout, actions: actions, stream: sampler, suggestionCost: cost, name: type)
            guard ridge.count == b.models.count else { throw fail("'ridge' has \(ridge.count) models, this world's bandit needs \(b.models.count)") }
            for (i, r) in ridge.enumerated() {
                let d = b.models[i].dimension
                guard r.dimension == d, r.gram.count == d * d, r.moments.count == d, r.weights.count == d, r.observations >= 0,
                      (r.gram + r.moments + r.weights).allSatisfy({ $0.isFinite }), r.lambda.isFinite, r.lambda > 0 else {
                    throw fail("ridge[\(i)] must have dimension \(d) with \(d * d) + \(d) + \(d) finite numbers")
                }
                b.models[i] = RidgeRegression(dimension: d, lambda: r.lambda)
                b.models[i].restore(gram: r.gram, moments: r.moments, weights: r.weights, observations: r.observations)
            }
            if let w = k.resonanceWeights, let n = k.resonanceObservations {
                guard w.count == ResonancePredictor.dimension, w.allSatisfy({ $0.isFinite }), n >= 0 else {
                    throw fail("resonance_weights must be \(ResonancePredictor.dimension) finite numbers")
                }
                b.predictor.restore(weights: w, observations: n)
            }
            b.resumeTraining(at: k.trainingDecisions)
            policy = b
            if type == "paced_bandit" {
                var p = PacedBanditConfig(); p.bandit = config; p.suggestionCost = cost
                spec = .pacedBandit(p)
            } else { spec = .epsilonGreedy(config) }
        case "cql", "bc":
            guard let o = k.offline else { throw fail("a \(type) checkpoint needs 'offline' (the network)") }
            if let p = o.problem(inputs: layout.dimension, actions: actions.count) { throw fail(p) }
            let net = MLP(shape: o.shape)
            net.parameters = o.parameters
            let offline = OfflinePolicy(kind: type, net: net)
            offline.inputNames = (0..<layout.dimension).map { layout.name(of: $0) }
            policy = offline; spec = .offline(type)
        default:
            throw fail("unknown model_type '\(type)' (one of ppo, epsilon_greedy, paced_bandit, random, oracle, lookahead, cql, bc)")
        }
        policy.learning = false
        var blank = k
        blank.checkpointID = ""; blank.trainingDate = ""; blank.performanceMetrics = [:]; blank.active = false
        return Loaded(policy: policy, spec: spec, id: SHA256.contentID(try encode(blank)), modelType: type,
                      trainingDecisions: k.lineage?.trainingDecisions ?? k.trainingDecisions, lineage: k.lineage)
    }
}

extension CheckpointError {
    public static func describe(_ error: Error) -> String {
        switch error {
        case let DecodingError.keyNotFound(key, _): return "missing key '\(key.stringValue)'"
        case let DecodingError.typeMismatch(_, ctx):
            return "wrong type at '\(ctx.codingPath.map { $0.stringValue }.joined(separator: "."))': \(ctx.debugDescription)"
        case let DecodingError.valueNotFound(_, ctx): return "missing value at '\(ctx.codingPath.map { $0.stringValue }.joined(separator: "."))'"
        case let DecodingError.dataCorrupted(ctx): return "corrupt at '\(ctx.codingPath.map { $0.stringValue }.joined(separator: "."))': \(ctx.debugDescription)"
        default: return "\(error)"
        }
    }
}
