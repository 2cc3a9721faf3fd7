/// How epsilon decays over training episodes.
public enum EpsilonSchedule: String, Sendable, Equatable, CaseIterable {
    /// epsilon(t) = start + (end - start) * min(1, t / decayEpisodes)
    case linear
    /// epsilon(t) = end + (start - end) * exp(-5 t / decayEpisodes) (within 1% of `end` at decayEpisodes)
    case exponential
}

/// Configuration of the epsilon-greedy contextual bandit.
public struct EpsilonGreedyConfig: Sendable, Equatable {
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

    public func epsilon(at t: Int) -> Double {
        let x = decayEpisodes > 0 ? Double(t) / Double(decayEpisodes) : 1
        switch schedule {
        case .linear: return epsilonStart + (epsilonEnd - epsilonStart) * min(1, x)
        case .exponential: return epsilonEnd + (epsilonStart - epsilonEnd) * _exp(-5 * x)
        }
    }
}

import Foundation
@inline(__always) func _exp(_ x: Double) -> Double { Foundation.exp(x) }

/// One agent of a scenario.
public enum AgentSpec: Sendable, Equatable {
    /// Uniform over the allowed actions.
    case random
    /// Reads the hidden truth and picks the action with the highest true expected reward: an upper bound.
    case oracle
    /// Ridge-regression reward models per action family, epsilon-greedy exploration.
    case epsilonGreedy(EpsilonGreedyConfig)
    /// Proximal Policy Optimization with an MLP actor and critic.
    case ppo(PPOAgentConfig)

    /// The agent's name in reports, CSV and gate rules.
    public var name: String {
        switch self {
        case .random: return "random"
        case .oracle: return "oracle"
        case .epsilonGreedy: return "epsilon_greedy"
        case .ppo: return "ppo"
        }
    }
}
