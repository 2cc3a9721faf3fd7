/// Settings of the look-ahead reference.
public struct LookAheadConfig: Sendable, Equatable, Codable {
    /// Days each roll-out covers.
    public var horizonDays = 30.0
    /// Fatigue ceilings of the roll-outs' base policies: each takes the myopic oracle's action at
    /// every future session unless the user's fatigue is at or above its ceiling (1: never pauses).
    public var fatigueCeilings: [Double] = [1, 0.6, 0.45, 0.3, 0.2]
    public init() {}
    enum CodingKeys: String, CodingKey { case horizonDays = "horizon_days", fatigueCeilings = "fatigue_ceilings" }
}

/// How epsilon decays over training episodes.
public enum EpsilonSchedule: String, Sendable, Equatable, CaseIterable, Codable {
    /// epsilon(t) = start + (end - start) * min(1, t / decayEpisodes)
    case linear
    /// epsilon(t) = end + (start - end) * exp(-5 t / decayEpisodes) (within 1% of `end` at decayEpisodes)
    case exponential
}

/// Configuration of the epsilon-greedy contextual bandit.
public struct EpsilonGreedyConfig: Sendable, Equatable, Codable {
    /// The blueprint's exploration: epsilon decays from 0.3 to 0.05.
    public var epsilonStart = 0.3
    public var epsilonEnd = 0.05
    public var decayEpisodes = 10_000
    public var schedule: EpsilonSchedule = .linear
    /// Epsilon while evaluating (learning frozen).
    public var evaluationEpsilon = 0.05
    /// Ridge penalty lambda of each family's reward model.
    public var ridgeLambda = 1.0
    /// Refit the ridge models every this many decisions.
    public var refitEvery = 250
    public init() {}
    enum CodingKeys: String, CodingKey {
        case epsilonStart = "epsilon_start", epsilonEnd = "epsilon_end", decayEpisodes = "decay_episodes", schedule
        case evaluationEpsilon = "evaluation_epsilon", ridgeLambda = "ridge_lambda", refitEvery = "refit_every"
    }

    public func epsilon(at t: Int) -> Double {
        let x = decayEpisodes > 0 ? Double(t) / Double(decayEpisodes) : 1
        switch schedule {
        case .linear: return epsilonStart + (epsilonEnd - epsilonStart) * min(1, x)
        case .exponential: return epsilonEnd + (epsilonStart - epsilonEnd) * _exp(-5 * x)
        }
    }
}

/// The paced bandit: epsilon-greedy over ridge reward models whose greedy choice charges every
/// suggestion (any action but no_action) a fixed cost, a stand-in for the fatigue it spends. It
/// suggests only when a suggestion's predicted reward beats doing nothing by more than the cost.
/// A heuristic baseline stronger than the myopic bandit where over-suggesting costs users; it
/// still learns nothing about consequences.
public struct PacedBanditConfig: Sendable, Equatable {
    public var bandit = EpsilonGreedyConfig()
    /// Subtracted from every suggestion's predicted reward in the greedy choice.
    public var suggestionCost = 0.05
    public init() {}
}

import Foundation
@inline(__always) func _exp(_ x: Double) -> Double { Foundation.exp(x) }

/// One agent of a scenario.
public enum AgentSpec: Sendable, Equatable {
    /// Uniform over the allowed actions.
    case random
    /// Reads the hidden truth and picks the action with the highest true expected reward now: a
    /// myopic upper-bound reference.
    case oracle
    /// Reads the hidden truth and looks ahead over the user's next days (JourneyWorld+LookAhead):
    /// a look-ahead upper-bound reference.
    case lookahead(LookAheadConfig)
    /// Ridge-regression reward models per action family, epsilon-greedy exploration.
    case epsilonGreedy(EpsilonGreedyConfig)
    /// The same bandit charging a fixed cost to every suggestion: a pacing heuristic.
    case pacedBandit(PacedBanditConfig)
    /// Proximal Policy Optimization with an MLP actor and critic.
    case ppo(PPOAgentConfig)
    /// A policy learnt offline from logged journeys (`train-offline`): "cql" or "bc". It comes
    /// from a checkpoint; a scenario cannot declare one.
    case offline(String)

    /// The references that read the simulator's hidden truth (upper bounds, not deployable).
    public var readsHiddenTruth: Bool {
        switch self {
        case .oracle, .lookahead: return true
        default: return false
        }
    }

    /// The agent's name in reports, CSV and gate rules.
    public var name: String {
        switch self {
        case .random: return "random"
        case .oracle: return "oracle"
        case .lookahead: return "lookahead"
        case .epsilonGreedy: return "epsilon_greedy"
        case .pacedBandit: return "paced_bandit"
        case .ppo: return "ppo"
        case .offline(let kind): return kind
        }
    }
}
