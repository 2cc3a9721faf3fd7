import Foundation

/// Logged bandit feedback: per row, the action the logging policy took, at which slate position,
/// the reward, the logging policy's probability of that action at that position (`pscore`), and
/// the context features. Flat arrays, row-major.
public struct LoggedBandit: Sendable {
    public var actions: Int
    public var positions: Int
    public var action: [Int32]
    public var position: [Int32]
    public var reward: [Double]
    public var pscore: [Double]
    /// rows x contextDimension.
    public var context: [Double]
    public var contextDimension: Int
    /// actions x actionContextDimension (features of each action), possibly empty.
    public var actionContext: [Double]
    public var actionContextDimension: Int
    /// Where the log came from (for reports).
    public var source: String
    /// rows x actions: which actions were allowed at each row (empty: all, or unknown). Set by
    /// simulator logs written with `run --log-observations`, whose context is then the agent's
    /// observation vector.
    public var masks: [Bool] = []
    /// Per row: the simulated time of the decision (seconds), when the log has it (JSONL).
    public var times: [Double] = []

    public var count: Int { reward.count }

    public init(actions: Int, positions: Int, action: [Int32], position: [Int32], reward: [Double], pscore: [Double],
                context: [Double], contextDimension: Int, actionContext: [Double] = [], actionContextDimension: Int = 0, source: String) {
        self.actions = actions; self.positions = positions; self.action = action; self.position = position
        self.reward = reward; self.pscore = pscore; self.context = context; self.contextDimension = contextDimension
        self.actionContext = actionContext; self.actionContextDimension = actionContextDimension; self.source = source
    }

    /// The mean reward (the logging policy's on-policy value).
    public var meanReward: Double { reward.isEmpty ? .nan : reward.reduce(0, +) / Double(reward.count) }
}
