import Foundation
import GymCore
import GymLinalg
import GymRandom

/// A PPO checkpoint: versioned JSON, in the blueprint's `model_checkpoints` terms
/// (checkpoint_id, model_type, weights_url, performance_metrics, training_date, active) plus
/// everything needed to rebuild the policy: the agent config, the network shapes and weights, the
/// observation statistics and the action labels it was trained with.
public struct PPOCheckpoint: Codable, Equatable, Sendable {
    public static let formatName = "optima-gym.checkpoint"
    public static let currentVersion = 1

    public var format = PPOCheckpoint.formatName
    public var version = PPOCheckpoint.currentVersion
    public var checkpointID: String
    public var modelType = "ppo"
    /// Where the weights live: inline in this file.
    public var weightsURL = "inline"
    public var performanceMetrics: [String: Double]
    public var trainingDate: String
    public var active = false
    public var scenario: String
    public var seed: String
    public var trainingDecisions: Int
    public var observationDimension: Int
    public var actionLabels: [String]
    public var config: PPOAgentConfig
    public var actorShape: MLPShape
    public var criticShape: MLPShape
    public var actor: [Double]
    public var critic: [Double]
    public var observationCount: Double
    public var observationMean: [Double]
    public var observationM2: [Double]
    /// The resonance predictor's ridge weights and signal count (absent in early checkpoints).
    public var resonanceWeights: [Double]? = nil
    public var resonanceObservations: Int? = nil
    /// Where the model came from (absent in early checkpoints).
    public var lineage: ModelLineage? = nil

    enum CodingKeys: String, CodingKey {
        case format, version, checkpointID = "checkpoint_id", modelType = "model_type", weightsURL = "weights_url"
        case performanceMetrics = "performance_metrics", trainingDate = "training_date", active, scenario, seed
        case trainingDecisions = "training_decisions", observationDimension = "observation_dimension"
        case actionLabels = "action_labels", config, actorShape = "actor_shape", criticShape = "critic_shape"
        case actor, critic, observationCount = "observation_count", observationMean = "observation_mean"
        case observationM2 = "observation_m2"
        case resonanceWeights = "resonance_weights", resonanceObservations = "resonance_observations", lineage
    }

    /// JSON text, keys sorted: the same agent gives the same bytes.
    public func encoded() throws -> Data {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return try e.encode(self)
    }
}

/// Why a checkpoint cannot be used.
public struct CheckpointError: BadInputError, Equatable {
    public let path: String
    public let message: String
    public var description: String { "\(path): error: \(message)" }
    public init(path: String, message: String) { self.path = path; self.message = message }
}

extension PPOAgent {
    /// A checkpoint of this agent's current weights.
    public func checkpoint(id: String, scenario: String, seed: UInt64, trainingDate: String, actionLabels: [String],
                           metrics: [String: Double]) -> PPOCheckpoint {
        PPOCheckpoint(checkpointID: id, performanceMetrics: metrics, trainingDate: trainingDate, scenario: scenario,
                      seed: String(seed), trainingDecisions: decisions, observationDimension: ppo.obsDim,
                      actionLabels: actionLabels, config: config, actorShape: ppo.actor.shape, criticShape: ppo.critic.shape,
                      actor: ppo.actor.parameters, critic: ppo.critic.parameters, observationCount: obsCount,
                      observationMean: obsMean, observationM2: obsM2,
                      resonanceWeights: resonancePredictorState.weights, resonanceObservations: resonancePredictorState.observations)
    }

    /// Reads and validates a checkpoint for an environment with this layout: the format and
    /// version, the shapes against the parameter counts, the dimensions against the environment,
    /// and every number finite. Errors name the file and what is wrong.
    public static func load(path: String, layout: ObservationLayout, actions: ActionLayout, sampler: RandomStream) throws -> PPOAgent {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CheckpointError(path: path, message: FileManager.default.fileExists(atPath: path) ? "cannot read the checkpoint" : "no such checkpoint file")
        }
        return try load(data: data, path: path, layout: layout, actions: actions, sampler: sampler)
    }

    /// The same, from the checkpoint's bytes (`path` names it in messages).
    /// `shuffle` orders the minibatches of any further training (`run --from`); by default a
    /// fixed stream, as an evaluation never shuffles.
    /// `trainingDecisions`: the length of that further training (its learning-rate schedule).
    public static func load(data: Data, path: String, layout: ObservationLayout, actions: ActionLayout, sampler: RandomStream,
                            shuffle: RandomStream? = nil, trainingDecisions: Int? = nil) throws -> PPOAgent {
        func fail(_ m: String) -> CheckpointError { CheckpointError(path: path, message: m) }
        // Format and version first, so that an old or foreign file says so instead of a decoding error.
        guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw fail("not a valid checkpoint: the file is not complete JSON (truncated or corrupt, \(data.count) bytes)")
        }
        guard (object["format"] as? String) == PPOCheckpoint.formatName else {
            throw fail("not an optima-gym checkpoint (format is \(object["format"].map { "'\($0)'" } ?? "missing"), expected '\(PPOCheckpoint.formatName)')")
        }
        guard let version = object["version"] as? Int, version == PPOCheckpoint.currentVersion else {
            throw fail("unsupported checkpoint version \(object["version"].map { "\($0)" } ?? "(missing)"); this build reads version \(PPOCheckpoint.currentVersion)")
        }
        let c: PPOCheckpoint
        do { c = try JSONDecoder().decode(PPOCheckpoint.self, from: data) } catch let DecodingError.keyNotFound(key, _) {
            throw fail("missing key '\(key.stringValue)'")
        } catch let DecodingError.typeMismatch(_, ctx) {
            throw fail("wrong type at '\(ctx.codingPath.map { $0.stringValue }.joined(separator: "."))': \(ctx.debugDescription)")
        } catch let DecodingError.valueNotFound(_, ctx) {
            throw fail("missing value at '\(ctx.codingPath.map { $0.stringValue }.joined(separator: "."))'")
        } catch {
            throw fail("not a valid checkpoint: \(error)")
        }
        guard c.modelType == "ppo" else { throw fail("model_type is '\(c.modelType)'; only 'ppo' checkpoints can be evaluated") }
        if let p = c.config.problem() { throw fail(p) }
        for (name, shape, params) in [("actor", c.actorShape, c.actor), ("critic", c.criticShape, c.critic)] {
            // Bounds first, so that the parameter count below cannot overflow.
            guard (1...1_000_000).contains(shape.inputs), (1...1_000_000).contains(shape.outputs),
                  shape.hidden.allSatisfy({ $0 >= 1 && $0 <= 4096 }), (1...16).contains(shape.hidden.count) else {
                throw fail("\(name)_shape is not a valid network shape: \(shape.inputs)-\(shape.hidden.map(String.init).joined(separator: "-"))-\(shape.outputs)")
            }
            guard shape.hidden == c.config.ppo.hidden, shape.activation == c.config.ppo.activation else {
                throw fail("\(name)_shape (hidden \(shape.hidden), \(shape.activation.rawValue)) differs from the config (hidden \(c.config.ppo.hidden), \(c.config.ppo.activation.rawValue))")
            }
            guard params.count == shape.parameterCount else {
                throw fail("\(name) has \(params.count) parameters but its shape \(shape.inputs)-\(shape.hidden.map(String.init).joined(separator: "-"))-\(shape.outputs) needs \(shape.parameterCount)")
            }
            if let bad = params.firstIndex(where: { !$0.isFinite }) { throw fail("\(name) parameter \(bad) is not finite") }
        }
        guard c.observationCount.isFinite, c.observationCount >= 0,
              (c.observationMean + c.observationM2).allSatisfy({ $0.isFinite }) else {
            throw fail("observation statistics are not finite")
        }
        guard c.observationDimension == layout.dimension, c.criticShape.inputs == layout.dimension else {
            throw fail("incompatible network shape: the checkpoint takes \(c.observationDimension) observation features, this scenario's world has \(layout.dimension) (check pairing.candidates_shown, hives.events_shown, emotion.dimension)")
        }
        let actorInputs = c.config.sharedActionHead ? JourneyActionFeaturizer(layout: layout, actions: actions).featureDimension : layout.dimension
        let actorOutputs = c.config.sharedActionHead ? 1 : actions.count
        guard c.actorShape.inputs == actorInputs, c.actorShape.outputs == actorOutputs, c.criticShape.outputs == 1 else {
            throw fail("incompatible network shape: the checkpoint's actor is \(c.actorShape.inputs) -> \(c.actorShape.outputs), this scenario's world needs \(actorInputs) -> \(actorOutputs) (check pairing.candidates_shown, hives.events_shown, interventions.tones)")
        }
        let labels = (0..<actions.count).map { actions.label(of: $0) }
        guard c.actionLabels == labels else {
            throw fail("the checkpoint's actions (\(c.actionLabels.joined(separator: ", "))) differ from this scenario's (\(labels.joined(separator: ", ")))")
        }
        guard c.observationMean.count == layout.dimension, c.observationM2.count == layout.dimension else {
            throw fail("observation statistics have \(c.observationMean.count) entries, expected \(layout.dimension)")
        }
        let agent = PPOAgent(config: c.config, layout: layout, actions: actions, trainingDecisions: max(1, trainingDecisions ?? c.trainingDecisions),
                             initStream: RandomStream(seed: 0), shuffle: shuffle ?? RandomStream(seed: 0), sampler: sampler)
        agent.ppo.actor.parameters = c.actor
        agent.ppo.critic.parameters = c.critic
        agent.setObservationStatistics(count: c.observationCount, mean: c.observationMean, m2: c.observationM2)
        if let w = c.resonanceWeights, let n = c.resonanceObservations {
            guard w.count == ResonancePredictor.dimension, w.allSatisfy({ $0.isFinite }), n >= 0 else {
                throw fail("resonance_weights must be \(ResonancePredictor.dimension) finite numbers")
            }
            agent.restoreResonancePredictor(weights: w, observations: n)
        }
        agent.learning = false
        return agent
    }
}
