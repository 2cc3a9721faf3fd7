import Foundation
import XCTest
import GymAgents
import GymCore
import GymRandom
import GymSim

/// Opt-out exclusion in the bandit: replaying one logged stream, the model that forgets each user
/// when they opt out ends identical, bit for bit, to the model trained on the same stream with
/// those users' decisions (and their signals) removed up front.
final class OptOutExclusionTests: XCTestCase {
    struct Step { var observation: [Double]; var action: Int; var user: Int; var feedback: [Feedback]; var optedOut: [Int] }

    func testForgettingEqualsRemovingUpFront() throws {
        var cfg = SimConfig()
        cfg.population.size = 300
        cfg.churn.optOutDailyBase = 0.02
        let world = JourneyWorld(config: cfg)
        world.generator = .mt19937
        world.recording = false
        world.reset(seed: SeedTree(root: 31).child("world"))
        let pick = SeedTree(root: 31).child("actions").stream(.mt19937)
        var steps: [Step] = []
        while steps.count < 12_000 && !world.isDone {
            let o = world.observation, m = world.actionMask
            let allowed = (0..<m.count).filter { m[$0] }
            let a = allowed[pick.uniformInt(allowed.count)]
            let user = world.currentUser
            let r = world.step(ActionChoice(action: a, propensity: 1 / Double(allowed.count)))
            steps.append(Step(observation: o, action: a, user: user, feedback: r.feedback, optedOut: r.endedJourneys.filter { $0.optedOut }.map { $0.user }))
        }
        let gone = Set(steps.flatMap { $0.optedOut })
        let theirs = steps.filter { gone.contains($0.user) }.count
        XCTAssertGreaterThanOrEqual(gone.count, 5, "users who opted out")
        XCTAssertGreaterThan(theirs, 50, "their decisions in the stream")
        func agent() -> EpsilonGreedyAgent {
            EpsilonGreedyAgent(config: EpsilonGreedyConfig(), layout: world.observationLayout, actions: world.actionLayout,
                               stream: SeedTree(root: 1).stream(.mt19937))
        }
        // A forgets each user as they opt out; B never sees them; C keeps everyone.
        let a = agent(), b = agent(), c = agent()
        a.enableForgetting()
        var userOf: [Int: Int] = [:]
        for (k, s) in steps.enumerated() {
            userOf[k] = s.user
            a.learn(observation: s.observation, action: s.action, decision: k)
            a.attribute(decision: k, to: s.user)
            a.observe(s.feedback)
            for u in s.optedOut { a.forget(user: u) }
            c.learn(observation: s.observation, action: s.action, decision: k)
            c.observe(s.feedback)
            if !gone.contains(s.user) { b.learn(observation: s.observation, action: s.action, decision: k) }
            b.observe(s.feedback.filter { !gone.contains(userOf[$0.episode] ?? -1) })
        }
        for x in [a, b, c] { x.refitAll() }
        let sa = a.ridgeState, sb = b.ridgeState, sc = c.ridgeState
        XCTAssertEqual(sa.count, sb.count)
        for i in sa.indices {
            XCTAssertEqual(sa[i].gram, sb[i].gram, "family \(i): Gram")
            XCTAssertEqual(sa[i].moments, sb[i].moments, "family \(i): moments")
            XCTAssertEqual(sa[i].weights, sb[i].weights, "family \(i): weights")
        }
        XCTAssertTrue(sa.indices.contains { sa[$0].gram != sc[$0].gram }, "forgetting changed the model")
    }
}
