import Foundation
import GymData

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
