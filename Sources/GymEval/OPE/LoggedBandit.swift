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

/// A candidate policy's probabilities of actions at positions.
public protocol TargetPolicy: Sendable {
    var actions: Int { get }
    var positions: Int { get }
    /// pi(action | row's context, position).
    func probability(row: Int, action: Int, position: Int) -> Double
    /// Whether the probabilities depend on the row (false: one table for all rows).
    var dependsOnContext: Bool { get }
}

/// The same distribution for every row: `table[action * positions + position]`.
public struct ContextFreePolicy: TargetPolicy {
    public let actions: Int
    public let positions: Int
    public let table: [Double]
    public let name: String
    public var dependsOnContext: Bool { false }
    public init(actions: Int, positions: Int, table: [Double], name: String) {
        precondition(table.count == actions * positions)
        self.actions = actions; self.positions = positions; self.table = table; self.name = name
    }
    /// Uniform over the actions at every position.
    public static func uniform(actions: Int, positions: Int) -> ContextFreePolicy {
        ContextFreePolicy(actions: actions, positions: positions, table: [Double](repeating: 1 / Double(actions), count: actions * positions), name: "uniform")
    }
    @inline(__always) public func probability(row: Int, action: Int, position: Int) -> Double { table[action * positions + position] }
}

/// A different distribution per row (one row per logged row, the same for every position):
/// `probs[row * actions + action]`.
public struct PerRowPolicy: TargetPolicy {
    public let actions: Int
    public let positions: Int
    public let probs: [Double]
    public var dependsOnContext: Bool { true }
    public init(actions: Int, positions: Int, probs: [Double]) {
        self.actions = actions; self.positions = positions; self.probs = probs
    }
    @inline(__always) public func probability(row: Int, action: Int, position: Int) -> Double { probs[row * actions + action] }
}
