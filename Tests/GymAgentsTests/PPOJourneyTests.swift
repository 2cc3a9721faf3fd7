import XCTest
import GymCore
import GymRandom
@testable import GymAgents

/// PPO over journeys (PPOAgent+Training): the GAE targets of one update, checked against a case
/// computed by hand from the formulas, and late signals reaching the update after their block.
final class PPOJourneyTests: XCTestCase {
    static let day = 86_400.0
    let gamma = 0.9, lambda = 0.5

    /// A 3-feature, 2-action PPO agent: blocks of 4 decisions, trained 4 decisions late.
    func makeAgent(churnPenalty: Double = -1) -> PPOAgent {
        var c = PPOAgentConfig()
        c.updateEvery = 4
        c.rewardLag = 4
        c.minibatchSize = 2
        c.sharedActionHead = false
        c.discountPerDay = gamma
        c.churnPenalty = churnPenalty
        c.optOutPenalty = -2
        c.ppo.gaeLambda = lambda
        c.ppo.hidden = [6]
        c.ppo.precision = .double
        c.ppo.explorationStart = 0.1
        c.ppo.explorationEnd = 0.1
        let layout = ObservationLayout(segments: [ObservationSegment(name: "x", offset: 0, features: ["a", "b", "c"])])
        let actions = ActionLayout(families: [ActionFamily(name: "f", range: 0..<2, labels: ["p", "q"])])
        return PPOAgent(config: c, layout: layout, actions: actions, trainingDecisions: 100,
                        initStream: RandomStream(seed: 1), shuffle: RandomStream(seed: 2), sampler: RandomStream(seed: 3))
    }

    /// Observation of decision d (distinct, so that the critic's values differ).
    func obs(_ d: Int) -> [Double] { [sin(Double(d + 1)), cos(Double(2 * d + 1)), Double(d % 3) - 1] }

    func value(_ agent: PPOAgent, _ d: Int) -> Double {
        obs(d).withUnsafeBufferPointer { agent.ppo.value($0.baseAddress!, batch: 1)[0] }
    }

    /// Takes decision d for `user` at `days`, after delivering `ends` (journey ends since the last step).
    func step(_ agent: PPOAgent, _ d: Int, user: Int, days: Double, previousDays: Double?, step: Int, ends: [JourneyEnd] = []) {
        if !ends.isEmpty { agent.journeysEnded(ends) }
        agent.willAct(in: DecisionContext(user: user, journeyStep: step, time: days * Self.day,
                                          elapsed: previousDays.map { (days - $0) * Self.day } ?? 0))
        _ = agent.act(observation: obs(d), mask: [true, true], decision: d, truth: nil)
    }

    func feedback(_ d: Int, value: Double, latencyDays: Double) -> Feedback {
        Feedback(episode: d, kind: .resonance, value: value, weight: 1, confidence: 1, latency: latencyDays * Self.day)
    }

    /// Journeys (days in brackets):
    ///   A: d0 [0] -> d2 [1] -> d5 [3.5] -> d7 [5] (still open)
    ///   B: d1 [0.5] -> d4 [2] -> churns at day 3
    ///   C: d3 [1.5] -> d6 [4] (still open)
    /// The first update trains block [0, 4) once d7 is taken. By hand:
    ///   A7 = A6 = 0 (open: the trace stops and bootstraps from V)
    ///   A5 = r5 + g^1.5 V7 - V5
    ///   A2 = r2 + g^2.5 V5 - V2 + g^2.5 l A5
    ///   A0 = r0 + g^1 V2 - V0 + g^1 l A2
    ///   A4 = r4 + g^1 (churn penalty) - V4          (terminated: never a value)
    ///   A1 = r1 + g^1.5 V4 - V1 + g^1.5 l A4
    ///   A3 = r3 + g^2.5 V6 - V3
    /// where r_k sums the signals that arrived, each discounted by g^(latency in days).
    func testGAEOverJourneysMatchesHandComputedCase() {
        let agent = makeAgent()
        let g = gamma, l = lambda, penalty = -1.0
        step(agent, 0, user: 0, days: 0, previousDays: nil, step: 0)
        step(agent, 1, user: 1, days: 0.5, previousDays: nil, step: 0)
        agent.observe([feedback(0, value: 1.0, latencyDays: 0.5)])
        step(agent, 2, user: 0, days: 1, previousDays: 0, step: 1)
        agent.observe([feedback(1, value: 0.5, latencyDays: 0), feedback(2, value: 1.0, latencyDays: 1)])
        step(agent, 3, user: 2, days: 1.5, previousDays: nil, step: 0)
        step(agent, 4, user: 1, days: 2, previousDays: 0.5, step: 1)
        agent.observe([feedback(4, value: 0.2, latencyDays: 0.25), feedback(3, value: -0.3, latencyDays: 2)])
        step(agent, 5, user: 0, days: 3.5, previousDays: 1, step: 2, ends: [JourneyEnd(user: 1, time: 3 * Self.day, optedOut: false)])
        agent.observe([feedback(5, value: 0.7, latencyDays: 1)])
        step(agent, 6, user: 2, days: 4, previousDays: 1.5, step: 1)
        XCTAssertTrue(agent.updates.isEmpty, "no update before decision 7 (block [0,4) + lag 4)")
        let V = (0...7).map { value(agent, $0) }   // the critic before the update
        step(agent, 7, user: 0, days: 5, previousDays: 3.5, step: 3)
        XCTAssertEqual(agent.updates.count, 1)

        let r0 = pow(g, 0.5) * 1.0, r1 = 0.5, r2 = g * 1.0, r3 = pow(g, 2) * -0.3, r4 = pow(g, 0.25) * 0.2, r5 = g * 0.7
        let A5 = r5 + pow(g, 1.5) * V[7] - V[5]
        let A2 = r2 + pow(g, 2.5) * V[5] - V[2] + pow(g, 2.5) * l * A5
        let A0 = r0 + g * V[2] - V[0] + g * l * A2
        let A4 = r4 + g * penalty - V[4]
        let A1 = r1 + pow(g, 1.5) * V[4] - V[1] + pow(g, 1.5) * l * A4
        let A3 = r3 + pow(g, 2.5) * V[6] - V[3]
        let expected = [A0, A1, A2, A3]
        XCTAssertEqual(agent.updates[0].episodes, 4, "the block's 4 decisions, no corrections")
        for i in 0..<4 {
            XCTAssertEqual(agent.ppo.values[i], V[i], accuracy: 1e-12, "value of d\(i)")
            XCTAssertEqual(agent.ppo.advantages[i], expected[i], accuracy: 1e-12, "advantage of d\(i)")
            XCTAssertEqual(agent.ppo.returns[i], expected[i] + V[i], accuracy: 1e-12, "critic target of d\(i)")
            XCTAssertEqual(agent.ppo.actions[i], agent.ringAction[i], "row \(i) is decision \(i)")
        }
    }

    /// A signal for d0 arrives after block [0, 4) was trained: the next update (block [4, 8))
    /// carries d0 once more, with the signal's discounted value as its advantage and the corrected
    /// one-step return r0 + g^4 V(d4) as the critic's target. A block decision whose journey is
    /// still open at its update (d3, user 3's only decision) is deferred, and trained in the next
    /// update once user 3 opts out: r3 + g^6.5 (opt-out penalty) - V3, never a value.
    func testLateSignalReachesTheNextUpdateAndOpenJourneysAreDeferred() {
        let agent = makeAgent(churnPenalty: 0)
        let g = gamma, optOutPenalty = -2.0
        // Decision d at day d; users 0, 1, 2 take turns, user 3 acts once (d3) and opts out at day 9.5.
        let users = [0, 1, 2, 3, 0, 1, 2, 0, 1, 2, 0, 1]
        var prev = [Int: Double](), steps = [Int: Int]()
        func take(_ d: Int, ends: [JourneyEnd] = []) {
            let u = users[d]
            step(agent, d, user: u, days: Double(d), previousDays: prev[u], step: steps[u, default: 0], ends: ends)
            prev[u] = Double(d)
            steps[u, default: 0] += 1
        }
        for d in 0..<8 { take(d) }
        XCTAssertEqual(agent.updates.count, 1, "block [0,4) trained at d7")
        XCTAssertEqual(agent.ringTrained[3], 2, "d3's journey (user 3) has no next step yet: deferred")
        XCTAssertEqual(agent.updates[0].episodes, 3, "d0, d1, d2 trained; d3 deferred")
        let r0 = 0.6 * pow(g, 3)
        agent.observe([feedback(0, value: 0.6, latencyDays: 3)])   // late: d0 was trained
        XCTAssertEqual(agent.corrections, [0])
        XCTAssertEqual(agent.ringDelta[0], r0, accuracy: 1e-15)
        take(8)
        take(9)
        take(10, ends: [JourneyEnd(user: 3, time: 9.5 * Self.day, optedOut: true)])
        XCTAssertEqual(agent.corrections, [0, 3], "the opt-out resolves deferred d3")
        let V = (0...11).map { value(agent, $0) }   // the critic as the second update starts
        take(11)
        XCTAssertEqual(agent.updates.count, 2)
        XCTAssertEqual(agent.updates[1].episodes, 6, "block [4, 8) and the corrections of d0 and d3")
        // Rows 0-3: the block, all with a next step (d4->d7, d5->d8, d6->d9, d7->d10); rows 4, 5: d0, d3.
        XCTAssertEqual(Array(agent.ppo.obs[12..<15]), obs(0))
        XCTAssertEqual(agent.ppo.advantages[4], r0, accuracy: 1e-12, "d0's correction: the late signal's discounted value")
        XCTAssertEqual(agent.ppo.returns[4], r0 + pow(g, 4) * V[4], accuracy: 1e-12, "d0's critic target: r0 + g^4 V(d4)")
        XCTAssertEqual(agent.ppo.values[4], V[0], accuracy: 1e-12)
        XCTAssertEqual(Array(agent.ppo.obs[15..<18]), obs(3))
        let A3 = 0 + pow(g, 6.5) * optOutPenalty - V[3]
        XCTAssertEqual(agent.ppo.advantages[5], A3, accuracy: 1e-12, "deferred d3: reward + discounted opt-out penalty - V")
        XCTAssertEqual(agent.ppo.returns[5], A3 + V[3], accuracy: 1e-12)
        // The block's GAE along user 0's journey: d10 is its newest decision (no delta yet), so
        // A7 = r7 + g^3 V10 - V7 and A4 = r4 + g^3 V7 - V4 + g^3 l A7 (no signals: r = 0).
        let A7 = pow(g, 3) * V[10] - V[7]
        XCTAssertEqual(agent.ppo.advantages[3], A7, accuracy: 1e-12)
        XCTAssertEqual(agent.ppo.advantages[0], pow(g, 3) * V[7] - V[4] + pow(g, 3) * lambda * A7, accuracy: 1e-12)
        XCTAssertTrue(agent.corrections.isEmpty)
        XCTAssertEqual(agent.droppedCorrections, 0)
    }

    /// Truncation: the world's horizon cuts both open journeys after d3 (a new world follows).
    /// The decision at each cut has no next state: the trace stops there and bootstraps from its
    /// value (A = 0 for it, and it is not trained), so the decision before it gets
    ///   A0 = r0 + g^1 V2 - V0 (user 0: d0 [0] -> d2 [1], cut)
    ///   A1 = r1 + g^1 V3 - V1 (user 1: d1 [0.5] -> d3 [1.5], cut)
    /// with no lambda term, and the later journeys (d4...) are new ones.
    func testTruncationBootstrapsFromTheValueAndStartsNewJourneys() {
        let agent = makeAgent()
        let g = gamma
        step(agent, 0, user: 0, days: 0, previousDays: nil, step: 0)
        step(agent, 1, user: 1, days: 0.5, previousDays: nil, step: 0)
        agent.observe([feedback(0, value: 0.4, latencyDays: 0), feedback(1, value: -0.2, latencyDays: 0)])
        step(agent, 2, user: 0, days: 1, previousDays: 0, step: 1)
        step(agent, 3, user: 1, days: 1.5, previousDays: 0.5, step: 1)
        agent.observe([feedback(2, value: 0.9, latencyDays: 0)])
        agent.truncateJourneys(at: 2 * Self.day)
        // A fresh world: same users, new journeys, the clock from 0.
        step(agent, 4, user: 0, days: 0, previousDays: nil, step: 0)
        step(agent, 5, user: 1, days: 0.2, previousDays: nil, step: 0)
        step(agent, 6, user: 0, days: 0.4, previousDays: 0, step: 1)
        let V = (0...7).map { value(agent, $0) }
        step(agent, 7, user: 1, days: 0.6, previousDays: 0.2, step: 1)
        XCTAssertEqual(agent.updates.count, 1)
        XCTAssertEqual(agent.updates[0].episodes, 2, "d0 and d1 trained; d2 and d3, at the cut, not")
        XCTAssertEqual(agent.ringTrained[2], 2)
        XCTAssertEqual(agent.ringTrained[3], 2)
        XCTAssertNotEqual(agent.ringJourney[4], agent.ringJourney[0], "after the cut, user 0 starts a new journey")
        XCTAssertEqual(agent.ringNext[2], -1, "the cut journey's last decision has no next")
        XCTAssertEqual(agent.ppo.advantages[0], 0.4 + g * V[2] - V[0], accuracy: 1e-12)
        XCTAssertEqual(agent.ppo.advantages[1], -0.2 + g * V[3] - V[1], accuracy: 1e-12)
        XCTAssertEqual(agent.ppo.returns[0], 0.4 + g * V[2], accuracy: 1e-12)
        XCTAssertTrue(agent.corrections.isEmpty, "a cut decision is never queued")
    }
}
