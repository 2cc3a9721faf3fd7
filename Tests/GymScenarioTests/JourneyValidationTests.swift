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

    /// A collected dataset written as JSONL and read back: the same journeys, actions,
    /// propensities, rewards, masks and terminals (observations to single precision); its
    /// transitions link consecutive decisions of a user with discount gamma^(days between them),
    /// the last decision of every journey without bootstrap; discounting the rewards along each
    /// journey gives back every journey's user_return in the simulator.
    func testDatasetRoundTripAndTransitionsDiscountBackToUserReturn() throws {
        let sc = try ScenarioBinding.bind(try smallScenario())
        let d = try OfflineDataset.collect(scenario: sc, scenarioFile: "small.yaml", scenarioSHA256: "x", behaviour: "epsilon_greedy", mix: 0.3,
                                           worlds: 2, seed: 7)
        let p = try XCTUnwrap(d.provenance)
        XCTAssertEqual(p.transitions, d.log.rows.count); XCTAssertEqual(p.journeys, d.log.count)
        XCTAssertGreaterThan(p.terminals, 0); XCTAssertGreaterThan(p.truncated, 0)
        // World 0's journeys are those of the simulator's own log of offline.log/0.
        let world = JourneyWorld(config: sc.sim)
        world.generator = try GeneratorKind.named(sc.generator)
        let agent = try OPECandidates.trainedAgent("epsilon_greedy", scenario: sc, seed: 7)
        let seeds = SeedTree(root: 7)
        let run = try OPEValidation.logRun(world: world, behaviour: (agent, 0.3), targets: [], decisions: .max, seed: seeds.child("offline.log", 0),
                                           survey: seeds.child("sim.survey"), generator: world.generator, scenario: sc)
        let returns = OPEValidation.journeyReturns(run.records, decisions: run.log.count)
        let left = Set(run.records.episodes.map { $0.user }).filter { run.records.users[$0].leftAt != nil }.count
        let w0 = d.log.ids.filter { $0.hasPrefix("w0-") }.count
        XCTAssertEqual(w0, returns.count)
        XCTAssertEqual((0..<w0).filter { d.log.terminal[d.log.offsets[$0 + 1] - 1] }.count, left)
        let computed = OfflineDataset.journeyReturns(d.log, gammaPerDay: p.gammaPerDay)
        for k in 0..<w0 { XCTAssertEqual(computed[k], returns[k], accuracy: 1e-9 * max(1, abs(returns[k])), "journey \(k)") }
        // Round trip through the file.
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("ds-\(getpid()).jsonl")
        defer { try? FileManager.default.removeItem(at: file) }
        try Data(OfflineDataset.jsonl(d.log, behaviour: "epsilon_greedy")).write(to: file)
        let back = try OfflineDataset.load(path: file.path, actions: d.log.rows.actions).log
        XCTAssertEqual(back.ids, d.log.ids); XCTAssertEqual(back.offsets, d.log.offsets)
        XCTAssertEqual(back.rows.action, d.log.rows.action); XCTAssertEqual(back.rows.masks, d.log.rows.masks); XCTAssertEqual(back.terminal, d.log.terminal)
        // Numbers are written in their shortest round-trip form; Foundation's JSON parser reads
        // them back to within an ulp or so.
        for j in 0..<back.rows.count {
            XCTAssertEqual(back.rows.pscore[j], d.log.rows.pscore[j], accuracy: 1e-14)
            XCTAssertEqual(back.rows.reward[j], d.log.rows.reward[j], accuracy: 1e-13)
        }
        let mismatched = zip(back.rows.context, d.log.rows.context).filter { Float($0.0) != Float($0.1) }.count
        XCTAssertLessThanOrEqual(mismatched, back.rows.context.count / 100_000, "observations differ from their single-precision values \(mismatched) times")
        for j in 0..<back.elapsed.count { XCTAssertEqual(back.elapsed[j], d.log.elapsed[j], accuracy: 1e-6) }
        // Transitions: the rewards discounted along each journey give its user_return.
        let t = OfflineDataset.transitions(back, gammaPerDay: p.gammaPerDay)
        XCTAssertEqual(t.count, back.rows.count)
        XCTAssertEqual(t.mask.count, t.count * t.actions); XCTAssertEqual(t.nextMask.count, t.count * t.actions)
        var k = 0, g = 0.0, factor = 1.0
        let D = t.dimension
        for i in 0..<t.count {
            g += factor * Double(t.reward[i])
            if !t.bootstrap[i] {
                XCTAssertEqual(i, back.offsets[k + 1] - 1, "only a journey's last decision has no bootstrap")
                if k < w0 { XCTAssertEqual(g, returns[k], accuracy: 1e-4 * max(1, abs(returns[k])), "journey \(k)") }
                k += 1; g = 0; factor = 1
            } else {
                XCTAssertGreaterThan(t.discount[i], 0); XCTAssertLessThanOrEqual(t.discount[i], 1)
                XCTAssertEqual(Array(t.nextObservation[(i * D)..<((i + 1) * D)]), Array(t.observation[((i + 1) * D)..<((i + 2) * D)]))
                factor *= Double(t.discount[i])
            }
        }
        XCTAssertEqual(k, back.count)
    }
}
