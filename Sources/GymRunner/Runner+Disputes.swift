import Foundation
import GymCore
import GymRandom

/// Users' disputes of training signals (`training.dispute_probability`, `dispute_bad_outcome`,
/// `honour_disputes`): each signal delivered during training is disputed with probability
/// `base + badOutcome * max(0, -value)`, drawn from the agent's own `disputes` stream; honoured,
/// a disputed signal never reaches the learner.
struct Disputes {
    let base: Double, badOutcome: Double, honour: Bool
    let stream: RandomStream
    var signals = 0, disputed = 0, negative = 0

    init?(base: Double, badOutcome: Double, honour: Bool, stream: @autoclosure () -> RandomStream) {
        guard base > 0 || badOutcome > 0 else { return nil }
        self.base = base; self.badOutcome = badOutcome; self.honour = honour
        self.stream = stream()
    }

    func probability(_ value: Double) -> Double { min(1, base + badOutcome * max(0, -value)) }

    /// The signals the learner receives: all of them, or (honoured) all but the disputed ones.
    mutating func filter(_ feedback: [Feedback]) -> [Feedback] {
        var kept: [Feedback] = []
        kept.reserveCapacity(feedback.count)
        for f in feedback {
            signals += 1
            if stream.uniform() < probability(f.value) {
                disputed += 1
                if f.value < 0 { negative += 1 }
                if honour { continue }
            }
            kept.append(f)
        }
        return kept
    }

    var note: String {
        let share = signals > 0 ? String(format: "%.1f%%", 100 * Double(disputed) / Double(signals)) : "n/a"
        return "disputes: users disputed \(disputed) of \(signals) training signals (\(share); \(negative) of them negative); "
            + (honour ? "honoured: excluded from training (training.honour_disputes)" : "not honoured: used in training (training.honour_disputes: false)")
    }
}
