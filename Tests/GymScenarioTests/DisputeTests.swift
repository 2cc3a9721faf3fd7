import Foundation
import XCTest
@testable import GymAgents
import GymCore
import GymRandom
import GymScenario
import GymSim
import GymTestSupport
@testable import GymRunner

/// Disputes of training signals (`training.dispute_probability`, `dispute_bad_outcome`,
/// `honour_disputes`): the rate follows the configured probability, rises with a bad outcome,
/// and honoured disputes never reach the learner.
final class DisputeTests: XCTestCase {
    /// The bandit, counting the signals it receives.
    final class Counting: Policy {
        let inner: EpsilonGreedyAgent
        var received = 0, receivedNegative = 0
        var name: String { inner.name }
        var isUpperBound: Bool { false }
        var learning: Bool { get { inner.learning } set { inner.learning = newValue } }
        init(_ inner: EpsilonGreedyAgent) { self.inner = inner }
        func act(observation: [Double], mask: [Bool], decision: Int, truth: HiddenTruth?) -> ActionChoice {
            inner.act(observation: observation, mask: mask, decision: decision, truth: truth)
        }
        func observe(_ feedback: [Feedback]) {
            received += feedback.count
            receivedNegative += feedback.filter { $0.value < 0 }.count
            inner.observe(feedback)
        }
    }

    func train(base: Double, bad: Double, honour: Bool) throws -> (Counting, Runner.Training) {
        var sc = try ScenarioBinding.bind(try ScenarioBinding.load(path: repositoryRoot().appendingPathComponent("scenarios/baseline.yaml").path))
        sc.training.episodes = 8000
        let world = JourneyWorld(config: sc.sim)
        let seeds = SeedTree(root: 20261207)
        let agent = Counting(EpsilonGreedyAgent(config: EpsilonGreedyConfig(), layout: world.observationLayout, actions: world.actionLayout,
                                                stream: seeds.child("agent").stream()))
        let t = try Runner.train(agent, world: world, worldSeed: seeds.child("sim.train"), decisions: 8000,
                                 matchThreshold: 0.5, scenario: sc.name, label: "", progress: nil,
                                 disputes: (base, bad, honour, seeds.child("disputes")))
        return (agent, t)
    }

    /// Counts from the report's note: disputed, signals, negative.
    func counts(_ t: Runner.Training) throws -> (disputed: Int, signals: Int, negative: Int) {
        let note = try XCTUnwrap(t.notes.first { $0.hasPrefix("disputes:") }, "\(t.notes)")
        let n = note.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
        return (n[0], n[1], n[n.count - 1])
    }

    func testHonouredDisputesNeverReachTheLearner() throws {
        let (kept, tk) = try train(base: 0.05, bad: 0.5, honour: false)
        let c = try counts(tk)
        XCTAssertEqual(kept.received, c.signals, "not honoured: every signal reaches the learner")
        let (honoured, th) = try train(base: 0.05, bad: 0.5, honour: true)
        let h = try counts(th)
        XCTAssertGreaterThan(h.disputed, 100)
        XCTAssertEqual(honoured.received, h.signals - h.disputed, "honoured: the disputed ones are withheld")
        XCTAssertTrue(th.notes.contains { $0.contains("honoured: excluded from training") })
        // A bad outcome raises the probability: negative signals are over-represented among disputes.
        let negativeShare = Double(honoured.receivedNegative + h.negative) / Double(h.signals)
        XCTAssertGreaterThan(Double(h.negative) / Double(h.disputed), negativeShare + 0.1)
        // Honouring changes what the bandit learned.
        XCTAssertNotEqual(kept.inner.models.map(\.weights), honoured.inner.models.map(\.weights))
    }

    /// With no dependence on the outcome, the share disputed is the base probability (within 4
    /// binomial standard errors); without disputes configured, nothing is drawn or said.
    func testTheRateIsTheConfiguredProbability() throws {
        let (_, t) = try train(base: 0.1, bad: 0, honour: true)
        let c = try counts(t)
        let p = Double(c.disputed) / Double(c.signals)
        XCTAssertEqual(p, 0.1, accuracy: 4 * (0.1 * 0.9 / Double(c.signals)).squareRoot(), "\(c)")
        let (_, none) = try train(base: 0, bad: 0, honour: true)
        XCTAssertFalse(none.notes.contains { $0.hasPrefix("disputes:") })
    }
}
