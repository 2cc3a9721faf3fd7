import Foundation
import GymCore

/// Opt-out exclusion for PPO (`Forgetting`): PPO trains on blocks of decisions some time after
/// they were taken. A user forgotten before their decisions are trained never enters an update:
/// their decisions are dropped from the block (their journey ended at the opt-out, so the other
/// journeys' advantages do not depend on them), from the queued corrections, and their late
/// signals are ignored. Updates already made cannot be undone, and the observation statistics keep
/// what they saw; the report says how many decisions were removed before training.
extension PPOAgent: Forgetting {
    public func enableForgetting() {
        forgetting = true
        if ringUser.count != capacity { ringUser = [Int](repeating: -1, count: capacity) }
    }

    public func attribute(decision: Int, to user: Int) {
        guard forgetting else { return }
        ringUser[decision % capacity] = user
    }

    public func forget(user: Int) {
        guard forgetting else { return }
        forgottenUsers.insert(user)
    }

    /// Whether the decision in `slot` belongs to a forgotten user.
    func isForgotten(_ slot: Int) -> Bool {
        forgetting && !forgottenUsers.isEmpty && forgottenUsers.contains(ringUser[slot])
    }

    /// Keeps the rows of users not forgotten; counts the others.
    func dropForgotten<T>(_ rows: [T], slots: [Int]) -> (rows: [T], slots: [Int]) {
        guard forgetting, !forgottenUsers.isEmpty else { return (rows, slots) }
        var keptRows: [T] = [], keptSlots: [Int] = []
        for (r, s) in zip(rows, slots) {
            if isForgotten(s) { forgottenDecisions += 1; continue }
            keptRows.append(r); keptSlots.append(s)
        }
        return (keptRows, keptSlots)
    }
}
