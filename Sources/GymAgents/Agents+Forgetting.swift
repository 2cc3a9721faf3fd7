import Foundation
import GymCore
import GymLinalg

/// What the bandit needs in order to forget a user exactly: each decision's user, feature row
/// and model family, and every change to its ridge statistics (a design row added, a target
/// added) in the order it happened.
struct LearningHistory: Sendable {
    enum Event: Sendable { case design(Int), target(Int, Double) }
    var events: [Event] = []
    var rows: [Int: (family: Int, row: [Double])] = [:]
    var user: [Int: Int] = [:]
    var excluded: Set<Int> = []

    mutating func design(decision: Int, family: Int, row: [Double]) {
        rows[decision] = (family, row)
        events.append(.design(decision))
    }
    mutating func target(decision: Int, contribution: Double) { events.append(.target(decision, contribution)) }
    func isExcluded(decision: Int) -> Bool { user[decision].map { excluded.contains($0) } ?? false }
}

extension EpsilonGreedyAgent: Forgetting {
    public func enableForgetting() { keepsHistory = true }

    public func attribute(decision: Int, to user: Int) {
        guard keepsHistory else { return }
        history.user[decision] = user
    }

    /// Forgetting rebuilds the ridge statistics from scratch, replaying every change that did not
    /// come from `user` in its original order, then refits. The result is bit for bit the model
    /// that never saw the user's decisions (summation order is the same), which is what the
    /// tests check. The resonance predictor is not rebuilt yet.
    public func forget(user: Int) {
        guard keepsHistory, !history.excluded.contains(user) else { return }
        history.excluded.insert(user)
        let gone = Set(history.user.filter { $0.value == user }.map { $0.key })
        history.events.removeAll { e in
            switch e { case .design(let d), .target(let d, _): return gone.contains(d) }
        }
        for d in gone { history.rows[d] = nil }
        models = models.map { RidgeRegression(dimension: $0.dimension, lambda: $0.lambda) }
        for e in history.events {
            switch e {
            case .design(let d):
                guard let r = history.rows[d] else { continue }
                r.row.withUnsafeBufferPointer { models[r.family].addDesign($0) }
            case .target(let d, let y):
                guard let r = history.rows[d] else { continue }
                r.row.withUnsafeBufferPointer { models[r.family].addTarget($0, y) }
            }
        }
        for i in models.indices { models[i].refit() }
    }

    /// The ridge statistics of every model family (Gram matrix, moments, weights), for comparison.
    public var ridgeState: [(gram: [Double], moments: [Double], weights: [Double])] { models.map { ($0.a, $0.b, $0.weights) } }

    /// Refits every model now.
    public func refitAll() { for i in models.indices { models[i].refit() } }
}
