import GymAgents
import GymEval
import GymGate
import GymSim

/// Training phase settings.
public struct TrainingConfig: Sendable, Equatable {
    /// Decisions (training episodes) each agent trains for.
    public var episodes = 20_000
    /// Window (decisions) of one learning-curve point.
    public var curveWindow = 1_000
    /// When a user opts out during training, their decisions leave the training data of every
    /// agent that can forget (the bandits) and are never used again.
    public var honourOptOut = false
    /// Users dispute a training signal with probability `disputeProbability + disputeBadOutcome *
    /// max(0, -value)` (clipped to 1): a bad outcome raises it.
    public var disputeProbability = 0.0
    public var disputeBadOutcome = 0.0
    /// Disputed signals are excluded from training (never delivered to the learner).
    public var honourDisputes = false
    public init() {}
}

/// Evaluation phase settings.
public struct EvaluationConfig: Sendable, Equatable {
    /// Held-out decisions each agent is evaluated on (fresh seeds, learning frozen).
    public var episodes = 20_000
    /// Evaluate until the evaluation world ends (`sessions.max_days`, or no active user left),
    /// `episodes` being only an upper bound: every agent then covers the same simulated days.
    public var wholeHorizon = false
    public var eval = EvalConfig()
    public init() {}
}

/// What a run writes besides the report.
public struct LoggingConfig: Sendable, Equatable {
    /// Write the evaluation episodes as JSONL (`training_episodes` and `reward_signals` schema).
    public var episodes = true
    /// Write a TrainingExplanation per evaluation decision (`run --explain`).
    public var explanations = false
    public init() {}
}

/// The `transfer` metric's setting: a source world, and the fine-tuning budget on this
/// scenario's world (the target).
public struct TransferConfig: Sendable, Equatable {
    /// The source scenario file, as written in the scenario (relative to it).
    public var source: String
    /// The source scenario's world.
    public var sourceSim: SimConfig
    public var fineTuneEpisodes: Int
    public init(source: String, sourceSim: SimConfig, fineTuneEpisodes: Int = 1000) {
        self.source = source; self.sourceSim = sourceSim; self.fineTuneEpisodes = fineTuneEpisodes
    }
}

/// A fully validated scenario.
public struct Scenario: Sendable, Equatable {
    public var name: String
    public var description = ""
    /// Root seed; nil means "take --seed, else draw a fresh one".
    public var seed: UInt64?
    /// GSL generator name (validated against GSL's table).
    public var generator = "mt19937"
    public var sim = SimConfig()
    public var agents: [AgentSpec] = [.random, .oracle, .epsilonGreedy(EpsilonGreedyConfig())]
    public var training = TrainingConfig()
    public var evaluation = EvaluationConfig()
    public var gate: [GateRule] = []
    public var logging = LoggingConfig()
    /// Measure `transfer` from this source world (nil: not measured).
    public var transfer: TransferConfig? = nil
    /// Circuit breakers and their fallback (none by default).
    public var safety = SafetyConfig()
    public init(name: String) { self.name = name }
}

extension Scenario {
    /// Memory the scenario may use, checked by the validator.
    public static let memoryLimitBytes = 12 << 30

    /// A conservative estimate of a run's peak memory: one world per agent (population, emotion
    /// state, pools, user state, hive events over `sessions.max_days`), the training rewards and the evaluation records and logs.
    public var estimatedMemoryBytes: Int {
        let p = sim.population
        let perUser = p.personaDimension * 4 + sim.emotion.dimension * 16 + p.candidatePool * 12 + p.topics * 8 + 512
        let weeks = sim.sessions.maxDays / 7 + 1
        let events = Int(sim.hives.eventsPerWeekPer1000 * Double(p.size) / 1000 * weeks) * (p.topics * 8 + 96)
        let world = p.size * perUser + events
        let training = training.episodes * 16
        // Over the whole horizon: at most the sessions the horizon can hold (the mean activity,
        // with a margin of 1.5 for the weekday and hour weights and the activity's spread).
        let sessions = Double(p.size) * p.activityMean * sim.sessions.maxDays * 1.5
        let decisions = self.evaluation.wholeHorizon ? min(self.evaluation.episodes, Int(min(sessions, 1e9))) : self.evaluation.episodes
        let evaluation = decisions * (logging.episodes ? 1200 : 600)
        // Observation size of the journey world, for PPO's buffers.
        let obs = JourneyWorld.observationLayout(for: sim).dimension
        var total = 0
        for a in agents {
            var agent = world + training + evaluation
            if case .ppo(let c) = a {
                // The ring (over journeys it also keeps the previous block) and the rollout buffer
                // (over journeys up to twice the block, for late-signal corrections).
                let rows = c.updateEvery + c.rewardLag + 1 + (c.returns == .journey ? c.updateEvery : 0)
                let widths = [obs] + c.ppo.hidden + [1]
                var params = 0
                for i in 0..<(widths.count - 1) { params += widths[i] * widths[i + 1] + widths[i + 1] }
                // ring + rollout buffer + two networks x (weights, gradients, Adam m and v) + activations
                agent += rows * (obs * 8 + 128) + c.rowsPerUpdate * (obs * 8 + 64) + 2 * 4 * params * 8
                    + 2 * c.minibatchSize * 16 * (c.ppo.hidden.reduce(0, +) + obs) * 8
            }
            // transfer trains two more agents on two more worlds
            if transfer != nil { agent += 2 * world }
            total += agent
        }
        return total
    }
}
