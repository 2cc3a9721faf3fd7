import XCTest
import GymAgents
import GymCore
import GymRandom
import GymTestSupport
@testable import GymSim

final class EnvironmentCheckerTests: XCTestCase {
    func testJourneyWorldPassesTheChecker() {
        let c = smallSimConfig(users: 150)
        let problems = EnvironmentChecker.check({ JourneyWorld(config: c) }, seed: SeedTree(root: 21), steps: 3000)
        XCTAssertEqual(problems, [], "\(problems)")
    }

    func testCheckerCatchesNondeterminism() {
        // A world whose reset ignores the seed for part of its state is caught.
        final class Leaky: Environment {
            let inner: JourneyWorld
            static var counter: UInt64 = 0
            init() { inner = JourneyWorld(config: smallSimConfig(users: 50)) }
            var observationLayout: ObservationLayout { inner.observationLayout }
            var actionLayout: ActionLayout { inner.actionLayout }
            func reset(seed: SeedTree) { Leaky.counter += 1; inner.reset(seed: SeedTree(root: seed.root &+ Leaky.counter)) }
            var observation: [Double] { inner.observation }
            var actionMask: [Bool] { inner.actionMask }
            var decisionIndex: Int { inner.decisionIndex }
            func step(_ c: ActionChoice) -> StepResult { inner.step(c) }
            var hiddenTruth: HiddenTruth? { nil }
        }
        let problems = EnvironmentChecker.check({ Leaky() }, seed: SeedTree(root: 1), steps: 200)
        XCTAssertTrue(problems.contains { $0.message.contains("same seed gave different trajectories") }, "\(problems)")
    }

    /// Every agent only ever takes allowed actions, the mask agrees with the observation's
    /// availability flags, and every delivered reward stays in [-1, 1].
    func testAgentsNeverTakeMaskedActionsAndRewardsStayInRange() {
        var c = smallSimConfig(users: 60)
        c.pairing.dailyExposureBudget = 1   // congested: pairing slots are often masked
        c.hives.eventsPerWeekPer1000 = 10
        let world = JourneyWorld(config: c)
        let candSeg = world.observationLayout.segment("candidates")!
        let eventSeg = world.observationLayout.segment("events")!
        let layout = world.actionLayout
        let policies: [Policy] = [
            RandomAgent(layout: world.observationLayout, actions: layout, stream: SeedTree(root: 1).stream()),
            OracleAgent(),
            EpsilonGreedyAgent(config: EpsilonGreedyConfig(), layout: world.observationLayout, actions: layout, stream: SeedTree(root: 2).stream()),
        ]
        for p in policies {
            var masked = 0, sawMaskedSlot = false
            world.reset(seed: SeedTree(root: 22))
            var k = 0
            while k < 3000 && !world.isDone {
                let mask = world.actionMask, obs = world.observation
                for s in 0..<candSeg.slots {
                    XCTAssertEqual(mask[1 + s], obs[candSeg.index(slot: s, named: "available")!] == 1)
                    if !mask[1 + s] { sawMaskedSlot = true }
                }
                for s in 0..<eventSeg.slots {
                    XCTAssertEqual(mask[1 + candSeg.slots + s], obs[eventSeg.index(slot: s, named: "available")!] == 1)
                }
                let choice = p.act(observation: obs, mask: mask, decision: world.decisionIndex, truth: p.isUpperBound ? world : nil)
                if !mask[choice.action] { masked += 1; break }
                XCTAssertGreaterThan(choice.propensity, 0)
                XCTAssertLessThanOrEqual(choice.propensity, 1)
                let r = world.step(choice)
                for f in r.feedback { XCTAssertTrue((-1...1).contains(f.value)) }
                p.observe(r.feedback)
                k += 1
            }
            XCTAssertEqual(masked, 0, "\(p.name) took a masked action")
            XCTAssertTrue(sawMaskedSlot, "the congested world should mask some pairing slots")
            for e in world.records.episodes { XCTAssertTrue((-1...1).contains(e.reward)) }
        }
    }

    func testSameSeedSameRecordsDifferentSeedDifferentRecords() {
        let c = smallSimConfig(users: 80)
        func run(_ seed: UInt64) -> [Double] {
            let w = JourneyWorld(config: c)
            let agent = RandomAgent(layout: w.observationLayout, actions: w.actionLayout, stream: SeedTree(root: 5).stream())
            return drive(w, agent, seed: SeedTree(root: seed), steps: 1500).episodes.map { $0.reward + $0.time }
        }
        XCTAssertEqual(run(1), run(1))
        XCTAssertNotEqual(run(1), run(2))
    }
}

/// A three-action toy environment for the checker's own tests: action 2 is always masked, and
/// `shift` makes it apply (choice + shift) % 3 instead of the choice (a deliberately broken one).
final class ToyEnvironment: Environment {
    let shift: Int
    init(shift: Int) { self.shift = shift }
    let observationLayout = ObservationLayout(segments: [ObservationSegment(name: "x", offset: 0, slots: 1, features: ["x"])])
    let actionLayout = ActionLayout(families: [ActionFamily(name: "a", range: 0..<3, labels: ["0", "1", "2"])])
    var observation: [Double] = [0]
    var actionMask: [Bool] = [true, true, false]
    var decisionIndex = 0
    var hiddenTruth: HiddenTruth? { nil }
    func reset(seed: SeedTree) { decisionIndex = 0; observation = [0] }
    func step(_ choice: ActionChoice) -> StepResult {
        decisionIndex += 1
        observation = [Double(decisionIndex)]
        return StepResult(reward: 0, executedAction: (choice.action + shift) % 3)
    }
}

extension EnvironmentCheckerTests {
    /// The mask check can fail: an environment that applies another action than the one chosen
    /// executes the masked action 2 and is caught; a policy that picks a masked action is caught
    /// before the step; the honest toy passes.
    func testCheckerCatchesMaskedActions() {
        XCTAssertEqual(EnvironmentChecker.check({ ToyEnvironment(shift: 0) }, seed: SeedTree(root: 1), steps: 50), [])
        let broken = EnvironmentChecker.check({ ToyEnvironment(shift: 1) }, seed: SeedTree(root: 1), steps: 50)
        XCTAssertTrue(broken.contains { $0.message.contains("executed masked action 2") }, "\(broken)")
        let badPolicy = EnvironmentChecker.check({ ToyEnvironment(shift: 0) }, seed: SeedTree(root: 1), steps: 50, choose: { _, _ in 2 })
        XCTAssertTrue(badPolicy.contains { $0.message.contains("the policy chose masked or out-of-range action 2") }, "\(badPolicy)")
    }
}
