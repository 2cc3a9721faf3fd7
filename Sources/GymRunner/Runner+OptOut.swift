import Foundation
import GymAgents
import GymCore

/// `training.honour_opt_out` in the training loop: each decision is attributed to its user (a key
/// unique across the training worlds), and a user who opts out is forgotten by the learner.
struct OptOutExclusion {
    let learner: Forgetting
    var decisionsOf: [Int: Int] = [:]
    var users = 0, decisions = 0

    init?(_ policy: Policy, enabled: Bool) {
        guard enabled, let f = policy as? Forgetting else { return nil }
        learner = f
        f.enableForgetting()
    }

    static func key(world: Int, user: Int) -> Int { world * 100_000_000 + user }

    mutating func after(decision: Int, user: Int, world: Int, ends: [JourneyEnd]) {
        let u = Self.key(world: world, user: user)
        learner.attribute(decision: decision, to: u)
        decisionsOf[u, default: 0] += 1
        for e in ends where e.optedOut {
            let v = Self.key(world: world, user: e.user)
            learner.forget(user: v)
            users += 1
            decisions += decisionsOf[v] ?? 0
        }
    }

    var note: String {
        if let p = learner as? PPOAgent {
            return "honouring opt-out: \(users) user\(users == 1 ? "" : "s") opted out during training (\(decisions) decisions); \(p.forgottenDecisions) of their decisions not yet trained were dropped from PPO's updates (updates already made keep the rest)"
        }
        return "honouring opt-out: \(users) user\(users == 1 ? "" : "s") opted out during training; their \(decisions) decisions were removed from its training data"
    }
}
