import Foundation
import GymCore
import GymRandom

// Small capabilities the runner asks of a policy, instead of knowing its concrete type.

/// Explores with a scheduled epsilon; learning curves report it.
public protocol Exploring: AnyObject {
    var epsilon: Double { get }
}

/// Draws its actions from a stream the caller can replace, so that an evaluation reproduces
/// exactly from a checkpoint.
public protocol SamplerReplaceable: AnyObject {
    func useSampler(_ stream: RandomStream)
}

/// Counts delayed signals it had to ignore (they arrived after their decision left its memory).
public protocol SignalDropCounting: AnyObject {
    var droppedSignals: Int { get }
}

/// Learns in updates, and saves itself as a versioned checkpoint.
public protocol Checkpointable: AnyObject {
    /// Statistics of every update so far.
    var updates: [PPOUpdateStats] { get }
    /// Decisions that must pass before the first update can happen.
    var decisionsBeforeFirstUpdate: Int { get }
    /// The checkpoint (JSON) of the current state.
    func checkpointData(id: String, scenario: String, seed: UInt64, trainingDate: String, actionLabels: [String],
                        metrics: [String: Double]) throws -> Data
}

extension EpsilonGreedyAgent: Exploring, SignalDropCounting, SamplerReplaceable {
    /// Draws exploration from `stream` from now on (the evaluation phase has its own stream).
    public func useSampler(_ stream: RandomStream) { self.stream = stream }
}

extension RandomAgent: SamplerReplaceable {
    public func useSampler(_ stream: RandomStream) { self.stream = stream }
}

extension PPOAgent: Exploring, SamplerReplaceable, Checkpointable {
    public var decisionsBeforeFirstUpdate: Int { config.updateEvery + config.rewardLag }

    public func checkpointData(id: String, scenario: String, seed: UInt64, trainingDate: String, actionLabels: [String],
                               metrics: [String: Double]) throws -> Data {
        try checkpoint(id: id, scenario: scenario, seed: seed, trainingDate: trainingDate, actionLabels: actionLabels, metrics: metrics).encoded()
    }
}
