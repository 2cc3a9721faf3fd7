import XCTest
import GymCore
import GymRandom
@testable import GymAgents

/// Opt-out exclusion in PPO (`Forgetting`): a user forgotten before their decisions are trained
/// never enters an update, and the other users' rows are what they would have been.
final class PPOForgettingTests: XCTestCase {
    static let day = 86_400.0

    func makeAgent() -> PPOAgent {
        var c = PPOAgentConfig()
        c.updateEvery = 6
        c.rewardLag = 6
        c.minibatchSize = 2
        c.sharedActionHead = false
        c.discountPerDay = 0.9
        c.optOutPenalty = -2
        c.ppo.hidden = [6]
        c.ppo.precision = .double
        let layout = ObservationLayout(segments: [ObservationSegment(name: "x", offset: 0, features: ["a", "b", "c"])])
        let actions = ActionLayout(families: [ActionFamily(name: "f", range: 0..<2, labels: ["p", "q"])])
        return PPOAgent(config: c, layout: layout, actions: actions, trainingDecisions: 100,
                        initStream: RandomStream(seed: 1), shuffle: RandomStream(seed: 2), sampler: RandomStream(seed: 3))
    }

    func obs(_ d: Int) -> [Double] { [sin(Double(d + 1)), cos(Double(2 * d + 1)), Double(d % 3) - 1] }

    /// Users 0, 1, 2 take turns (decision d at day d); user 2 opts out at day 8.5. With `forget`,
    /// the agent forgets user 2 at that moment, before block [0, 6) is trained at decision 11.
    func drive(forget: Bool) -> PPOAgent {
        let agent = makeAgent()
        if forget { agent.enableForgetting() }
        var prev: [Int: Double] = [:], steps: [Int: Int] = [:]
        for d in 0..<12 {
            let u = d < 9 ? d % 3 : d % 2   // user 2 stops after decision 8
            if d == 9 {
                let end = JourneyEnd(user: 2, time: 8.5 * Self.day, optedOut: true)
                agent.journeysEnded([end])
                if forget { agent.forget(user: 2) }
            }
            agent.willAct(in: DecisionContext(user: u, journeyStep: steps[u, default: 0], time: Double(d) * Self.day,
                                              elapsed: prev[u].map { (Double(d) - $0) * Self.day } ?? 0))
            _ = agent.act(observation: obs(d), mask: [true, true], decision: d, truth: nil)
            if forget { agent.attribute(decision: d, to: u) }
            prev[u] = Double(d); steps[u, default: 0] += 1
            // A signal for every decision, and a late one for user 2's first decision.
            var fb = [Feedback(episode: d, kind: .engagement, value: 0.1 * Double(d % 4) - 0.1, weight: 1, confidence: 1, latency: 0)]
            if d == 10 { fb.append(Feedback(episode: 2, kind: .resonance, value: 0.9, weight: 1, confidence: 1, latency: 8 * Self.day)) }
            agent.observe(fb)
        }
        return agent
    }

    func testForgottenUserNeverEntersAnUpdate() {
        let kept = drive(forget: false), forgot = drive(forget: true)
        XCTAssertEqual(kept.updates.count, 1)
        XCTAssertEqual(forgot.updates.count, 1)
        // Block [0, 6): user 2 made decisions 2 and 5.
        XCTAssertEqual(kept.updates[0].episodes, 6)
        XCTAssertEqual(forgot.updates[0].episodes, 4)
        XCTAssertEqual(forgot.forgottenDecisions, 2)
        // The rows left are the other users' rows, in the same order, with the same targets.
        let others = [0, 1, 3, 4]
        for (i, d) in others.enumerated() {
            XCTAssertEqual(Array(forgot.ppo.obs[(i * 3)..<(i * 3 + 3)]), obs(d))
            XCTAssertEqual(forgot.ppo.advantages[i], kept.ppo.advantages[d], accuracy: 1e-12, "advantage of d\(d)")
            XCTAssertEqual(forgot.ppo.returns[i], kept.ppo.returns[d], accuracy: 1e-12, "critic target of d\(d)")
        }
        // The late signal for user 2's decision 2 was ignored.
        XCTAssertEqual(forgot.ringReward[2], 0.1, accuracy: 1e-12)
        XCTAssertNotEqual(kept.ringReward[2], forgot.ringReward[2])
        XCTAssertNotEqual(kept.ppo.actor.parameters, forgot.ppo.actor.parameters, "the update differs")
    }
}
