import Foundation
import XCTest
import GymAgents
import GymCore
import GymEval
import GymRandom
import GymScenario
import GymSim
import GymTestSupport
@testable import GymRunner

/// The anomaly detectors on the simulator (`scenarios/stationary.yaml`): silent over 100,000
/// decisions of a world in steady state; a reward-weight shift at a known day and an agent that
/// breaks at a known decision are each found within a documented delay.
final class DetectorWorldTests: XCTestCase {
    func stationary() throws -> Scenario {
        try ScenarioBinding.bind(try ScenarioBinding.load(path: repositoryRoot().appendingPathComponent("scenarios/stationary.yaml").path))
    }

    func testSilentOnTheStationaryWorld() throws {
        let run = try evaluate(try stationary()) { _, _, _, _ in nil }
        XCTAssertEqual(run.evaluation.episodes.count, 130_000)
        let alarms = try XCTUnwrap(run.anomalies).filter { $0.detector != "outlier_user" }
        XCTAssertEqual(alarms, [], "alarms on the stationary world")
    }

    /// The reward weights shift at day 60 (engagement 0.3 -> 0.1, resonance 0.4 -> 0.3, explicit
    /// 0.3 -> 0.6): the reward-shift CUSUM raises it within 5,000 decisions of the first decision
    /// after the shift, and nothing before it.
    func testRewardWeightShiftIsFound() throws {
        var sc = try stationary()
        sc.sim.rewards.shiftAtDay = 60
        let run = try evaluate(sc) { _, _, _, _ in nil }
        let first = try XCTUnwrap(run.evaluation.episodes.firstIndex { $0.time >= 60 * 86_400 })
        let alarms = try XCTUnwrap(run.anomalies).filter { $0.detector != "outlier_user" }
        let shift = alarms.filter { $0.detector == "reward_shift" }
        XCTAssertTrue(alarms.allSatisfy { $0.decision >= first }, "an alarm before the shift at decision \(first): \(alarms)")
        let found = try XCTUnwrap(shift.first, "no reward_shift alarm: \(alarms)")
        XCTAssertLessThanOrEqual(found.decision - first, 5_000, "delay \(found.decision - first) decisions: \(found.reason)")
    }

    /// The agent breaks at decision 80,000 (it intervenes whenever it may): action-share drift
    /// raises it at the end of that 5,000-decision window, and nothing comes before it.
    func testBrokenAgentIsFound() throws {
        // From decision 80,000: the first intervention action that is allowed.
        let sc = try stationary()
        let layout = JourneyWorld(config: sc.sim).actionLayout
        let interventions = (0..<layout.count).filter { layout.label(of: $0).hasPrefix("intervention") }
        let run = try evaluate(sc) { _, _, decision, mask in
            decision >= 80_000 ? interventions.first { mask[$0] } : nil
        }
        let alarms = try XCTUnwrap(run.anomalies).filter { $0.detector != "outlier_user" }
        XCTAssertTrue(alarms.allSatisfy { $0.decision >= 80_000 }, "\(alarms)")
        let drift = try XCTUnwrap(alarms.first { $0.detector == "action_drift" }, "\(alarms)")
        XCTAssertEqual(drift.decision, 84_999, drift.reason)
    }

    /// The random agent, overridden for some users: `rule(user, group, decision, mask)` returns
    /// an action to take instead, or nil.
    final class SelectiveAgent: Policy {
        let name = "random", isUpperBound = false
        var learning = false
        let inner: RandomAgent
        unowned let world: JourneyWorld
        let rule: (Int, Int, Int, [Bool]) -> Int?
        init(_ inner: RandomAgent, world: JourneyWorld, rule: @escaping (Int, Int, Int, [Bool]) -> Int?) {
            self.inner = inner; self.world = world; self.rule = rule
        }
        func act(observation: [Double], mask: [Bool], decision: Int, truth: HiddenTruth?) -> ActionChoice {
            let u = world.decisionContext.user
            if let a = rule(u, Int(world.population.group[u]), decision, mask) { return ActionChoice(action: a, propensity: 1) }
            return inner.act(observation: observation, mask: mask, decision: decision, truth: truth)
        }
        func observe(_ feedback: [Feedback]) {}
    }

    func evaluate(_ sc: Scenario, rule: @escaping (Int, Int, Int, [Bool]) -> Int?) throws -> AgentRun {
        let world = JourneyWorld(config: sc.sim)
        world.generator = .mt19937
        let seeds = SeedTree(root: sc.seed ?? 1)
        let random = RandomAgent(layout: world.observationLayout, actions: world.actionLayout, stream: seeds.child("agent").stream(.mt19937))
        return try Runner.evaluate(SelectiveAgent(random, world: world, rule: rule), spec: .random, scenario: sc, seeds: seeds, generator: .mt19937,
                                   world: world, captureContexts: false, progress: nil, trainingDate: "", training: ([], [], nil, []))
    }

    /// From decision 80,000 the agent sends group B (index 1) an intervention whenever it may
    /// (mostly false positives, whose signals are negative): group B's positive-signal rate falls,
    /// and group drift raises it within two of its 10,000-decision windows; no drift alarm comes
    /// before the change.
    func testGroupChangeIsFound() throws {
        let run = try evaluate(try stationary()) { _, group, decision, mask in
            decision >= 80_000 && group == 1 ? (0..<mask.count).last { mask[$0] } : nil   // the last actions are the interventions
        }
        let alarms = try XCTUnwrap(run.anomalies).filter { $0.detector != "outlier_user" }
        XCTAssertTrue(alarms.allSatisfy { $0.decision >= 80_000 }, "\(alarms)")
        let drift = try XCTUnwrap(alarms.first { $0.detector == "group_drift" && $0.reason.hasPrefix("group B") }, "\(alarms)")
        XCTAssertLessThanOrEqual(drift.decision - 80_000, 20_000, drift.reason)
        print("group drift raised at decision \(drift.decision): \(drift.reason)")
    }

    /// One user receives an intervention at every decision they may get one: the outlier screen
    /// flags that user for their intervention share, where the same run without the change did not.
    func testOutlierUserIsFlagged() throws {
        var sc = try stationary()
        sc.evaluation.episodes = 60_000
        let target = 17
        let plain = try evaluate(sc) { _, _, _, _ in nil }
        let run = try evaluate(sc) { user, _, _, mask in
            user == target ? (0..<mask.count).last { mask[$0] } : nil
        }
        let flagged = { (r: AgentRun) in try XCTUnwrap(r.anomalies).filter { $0.detector == "outlier_user" && $0.reason.hasPrefix("user \(target):") } }
        XCTAssertEqual(try flagged(plain), [], "not an outlier without the change")
        let flags = try flagged(run)
        XCTAssertTrue(flags.contains { $0.reason.hasPrefix("user \(target): intervention share") }, "\(flags)")
    }
}
