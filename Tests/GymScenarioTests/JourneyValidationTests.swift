import Foundation
import XCTest
import GymData
import GymEval
import GymRandom
import GymScenario
import GymSim
import GymTestSupport
@testable import GymRunner

/// The journey view of a simulator run that `ope validate --journeys` and `ope select` use.
final class JourneyValidationTests: XCTestCase {
    func smallScenario() throws -> Scenario {
        var sc = try ScenarioBinding.load(path: repositoryRoot().appendingPathComponent("scenarios/ope_journeys.yaml").path)
        sc.sim.population.size = 300
        sc.sim.sessions.maxDays = 7
        sc.training.episodes = 3000
        return sc
    }

    /// The behaviour's journeys, read back from its own log with the log's discount, give exactly
    /// the `user_return` metric of the same run (the truth's definition), and pdis/dr of the
    /// behaviour on its own log (weights 1) equal the logged value.
    func testJourneyLogReproducesUserReturn() throws {
        let sc = try ScenarioBinding.bind(try smallScenario())
        let world = JourneyWorld(config: sc.sim)
        let agent = try OPECandidates.trainedAgent("epsilon_greedy", scenario: sc, seed: 7)
        let seeds = SeedTree(root: 7)
        let run = try OPEValidation.logRun(world: world, behaviour: (agent, 0.3), targets: [(agent, 0.3), (agent, 0.1)], decisions: .max,
                                           seed: seeds.child("log"), survey: seeds.child("survey"), generator: .mt19937, scenario: sc)
        XCTAssertGreaterThan(run.log.count, 1000)
        let returns = OPEValidation.journeyReturns(run.records, decisions: run.log.count)
        let metrics = Evaluator(config: EvalConfig(), matchThreshold: sc.sim.pairing.matchThreshold)
            .evaluate(run.records, stream: seeds.child("boot").stream(.mt19937))
        let userReturn = try XCTUnwrap(metrics.first { $0.name == "user_return" })
        XCTAssertEqual(returns.count, userReturn.count)
        XCTAssertEqual(returns.reduce(0, +) / Double(returns.count), userReturn.value, accuracy: 1e-12)

        let (log, probs) = OPEValidation.journeyLog(run.log, records: run.records, probs: run.policies[0].probs)
        XCTAssertEqual(log.count, returns.count)
        XCTAssertEqual(log.rows.count, run.log.count)
        let discounting = Discounting.perDay(run.records.discountPerDay)
        let d = discounting.factors(log)
        XCTAssertEqual(log.loggedValue(discount: d), userReturn.value, accuracy: 1e-12)
        // Steps in time order within each journey, times from the journey's start.
        for i in 0..<log.count {
            XCTAssertEqual(log.elapsed[log.offsets[i]], 0)
            for j in (log.offsets[i] + 1)..<max(log.offsets[i] + 1, log.offsets[i + 1]) { XCTAssertGreaterThanOrEqual(log.elapsed[j], log.elapsed[j - 1]) }
        }
        let target = TrajectoryTarget(actions: log.rows.actions, table: probs, byState: false, name: "behaviour")
        var o = SequentialOPE.Options(seed: seeds.child("b"))
        o.resamples = 50
        let (est, diag) = SequentialOPE.run(log, target: target, q: nil, discount: d, options: o)
        let pdis = try XCTUnwrap(est.first { $0.estimator == .pdis })
        XCTAssertEqual(pdis.value, userReturn.value, accuracy: 1e-9)
        XCTAssertEqual(diag.trajectoryESS, Double(log.count), accuracy: 1e-6)
        // A greedier target has weights != 1 on the same rows.
        let (_, probs1) = OPEValidation.journeyLog(run.log, records: run.records, probs: run.policies[1].probs)
        let (_, diag1) = SequentialOPE.run(log, target: TrajectoryTarget(actions: log.rows.actions, table: probs1, byState: false, name: "t"),
                                           q: nil, discount: d, options: o)
        XCTAssertLessThan(diag1.trajectoryESS, 0.95 * Double(log.count))
    }

    /// The offline-RL transitions of a run: one per decision, consecutive decisions of a user
    /// linked with discount gamma^(days between them), a journey ended by churn or opt-out
    /// terminal, one still open truncated (no bootstrap). Discounting the rewards along each
    /// journey with those factors gives back every journey's user_return.
    func testOfflineTransitionsDiscountBackToUserReturn() throws {
        let sc = try ScenarioBinding.bind(try smallScenario())
        let world = JourneyWorld(config: sc.sim)
        let agent = try OPECandidates.trainedAgent("epsilon_greedy", scenario: sc, seed: 7)
        let seeds = SeedTree(root: 8)
        let run = try OPEValidation.logRun(world: world, behaviour: (agent, 0.3), targets: [], decisions: .max,
                                           seed: seeds.child("log"), survey: seeds.child("survey"), generator: .mt19937, scenario: sc)
        let (t, journeys, terminals, truncated) = OfflineRL.transitions(run.log, records: run.records)
        XCTAssertEqual(t.count, run.log.count)
        XCTAssertEqual(terminals + truncated, journeys)
        XCTAssertGreaterThan(terminals, 0); XCTAssertGreaterThan(truncated, 0)
        XCTAssertEqual(t.mask.count, t.count * t.actions); XCTAssertEqual(t.nextMask.count, t.count * t.actions)
        let returns = OPEValidation.journeyReturns(run.records, decisions: run.log.count)
        XCTAssertEqual(returns.count, journeys)
        var k = 0, g = 0.0, factor = 1.0, ended = 0, open = 0
        let D = t.dimension
        for i in 0..<t.count {
            g += factor * Double(t.reward[i])
            let last = !t.bootstrap[i] || t.discount[i] == 0
            if last {
                XCTAssertEqual(g, returns[k], accuracy: 1e-4 * max(1, abs(returns[k])), "journey \(k)")
                if t.bootstrap[i] { ended += 1 } else { open += 1 }
                k += 1; g = 0; factor = 1
            } else {
                XCTAssertGreaterThan(t.discount[i], 0); XCTAssertLessThanOrEqual(t.discount[i], 1)
                XCTAssertEqual(Array(t.nextObservation[(i * D)..<((i + 1) * D)]), Array(t.observation[((i + 1) * D)..<((i + 2) * D)]))
                factor *= Double(t.discount[i])
            }
        }
        XCTAssertEqual(k, journeys); XCTAssertEqual(ended, terminals); XCTAssertEqual(open, truncated)
    }
}
