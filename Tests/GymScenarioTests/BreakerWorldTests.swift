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

/// Every circuit breaker on a world that trips it and on one that does not
/// (`scenarios/breakers.yaml`, `scenarios/stationary.yaml`), with the fallback's decisions
/// counted and checked against the evaluation's records.
final class BreakerWorldTests: XCTestCase {
    func load(_ file: String) throws -> Scenario {
        try ScenarioBinding.bind(try ScenarioBinding.load(path: repositoryRoot().appendingPathComponent("scenarios/\(file)").path))
    }

    /// The shipped breakers scenario with only the breakers of `kind` (nil: none).
    func breakers(only kind: BreakerConfig.Kind?) throws -> Scenario {
        var sc = try load("breakers.yaml")
        sc.safety.breakers = sc.safety.breakers.filter { $0.kind == kind }
        return sc
    }

    func evaluate(_ sc: Scenario, oracle: Bool = false) throws -> AgentRun {
        let world = JourneyWorld(config: sc.sim)
        world.generator = .mt19937
        let seeds = SeedTree(root: sc.seed ?? 1)
        let policy: Policy = oracle ? OracleAgent()
            : RandomAgent(layout: world.observationLayout, actions: world.actionLayout, stream: seeds.child("agent").stream(.mt19937))
        policy.learning = false
        return try Runner.evaluate(policy, spec: oracle ? .oracle : .random, scenario: sc, seeds: seeds, generator: .mt19937, world: world,
                                   captureContexts: false, progress: nil, trainingDate: "", training: ([], [], nil, []))
    }

    /// A metric of the run, the breakers' among them (`Runner.run` adds them after the catalogue's).
    func metric(_ run: AgentRun, _ name: String) throws -> Double {
        let all = run.metrics + Runner.safetyMetrics(run)
        return try XCTUnwrap(all.first { $0.name == name }?.value, name)
    }

    /// The decisions the fallback made, from the trips (each open for `cooldown` decisions, the
    /// last possibly cut by the end) must equal the count, and none of them may be an action the
    /// fallback masks out.
    func checkFallback(_ run: AgentRun, _ sc: Scenario, file: StaticString = #filePath, line: UInt = #line) throws {
        let log = try XCTUnwrap(run.breakers, file: file, line: line)
        let n = run.evaluation.episodes.count
        XCTAssertEqual(log.decisions, n, file: file, line: line)
        var under = [Bool](repeating: false, count: n)
        for t in log.trips {
            let end = t.closedAt ?? n
            if let c = t.closedAt { XCTAssertEqual(c - t.openedAfter - 1, sc.safety.breakers.first { $0.label == t.breaker }!.cooldown, file: file, line: line) }
            for k in (t.openedAfter + 1)..<max(t.openedAfter + 1, end) { under[k] = true }
        }
        XCTAssertEqual(log.fallbackDecisions, under.filter { $0 }.count, "fallback decisions counted", file: file, line: line)
        for (k, e) in run.evaluation.episodes.enumerated() where under[k] {
            switch sc.safety.fallback {
            case .noAction: XCTAssertEqual(e.kind, .noAction, "decision \(k) under the fallback", file: file, line: line)
            case .noIntervention: XCTAssertNotEqual(e.kind, .intervention, "decision \(k) under the fallback", file: file, line: line)
            }
        }
    }

    /// intervention_fpr (at most 0.1 over 500 decisions): the random agent intervenes on a user
    /// who is not distressed in a third of its decisions; the breaker trips, the fallback masks
    /// interventions for 2,000 decisions at a time, and the evaluation's intervention_fpr falls
    /// below 0.1. The oracle never trips it.
    func testInterventionFPRBreaker() throws {
        let unguarded = try evaluate(try breakers(only: nil))
        XCTAssertNil(unguarded.breakers)
        XCTAssertGreaterThan(try metric(unguarded, "intervention_fpr"), 0.3)
        let sc = try breakers(only: .interventionFPR)
        let guarded = try evaluate(sc)
        XCTAssertGreaterThanOrEqual(guarded.breakers!.trips.count, 5)
        XCTAssertLessThan(try metric(guarded, "intervention_fpr"), sc.safety.breakers[0].threshold)
        XCTAssertEqual(try metric(guarded, "breakers.trips"), Double(guarded.breakers!.trips.count))
        try checkFallback(guarded, sc)
        let oracle = try evaluate(sc, oracle: true)
        XCTAssertEqual(oracle.breakers!.trips, [])
        XCTAssertEqual(oracle.breakers!.fallbackDecisions, 0)
        XCTAssertEqual(try metric(oracle, "breakers.fallback_share"), 0)
        // The same with nothing suggested under the fallback.
        var quiet = sc
        quiet.safety.fallback = .noAction
        let q = try evaluate(quiet)
        XCTAssertGreaterThan(q.breakers!.trips.count, 0)
        try checkFallback(q, quiet)
    }

    /// group_parity (at least 0.9 over 10,000 decisions): the random agent's group success rates
    /// differ (parity about 0.7) and trip it; the oracle on a world of three groups alike in size
    /// and traits does not (with baseline's shares 0.5/0.3/0.2 the smallest group finds fewer
    /// good pairings, and parity in a window falls to 0.83 even when the traits are equal).
    func testGroupParityBreaker() throws {
        let sc = try breakers(only: .groupParity)
        let random = try evaluate(sc)
        XCTAssertGreaterThan(random.breakers!.trips.count, 0)
        XCTAssertTrue(random.breakers!.trips.allSatisfy { $0.statistic < 0.9 })
        try checkFallback(random, sc)
        var fair = sc
        let a = fair.sim.population.groups[0]
        fair.sim.population.groups = fair.sim.population.groups.map {
            var g = $0; g.share = 1.0 / 3; g.traitAlpha = a.traitAlpha; g.traitBeta = a.traitBeta; return g
        }
        let oracle = try evaluate(fair, oracle: true)
        XCTAssertEqual(oracle.breakers!.trips, [])
        XCTAssertEqual(oracle.breakers!.fallbackDecisions, 0)
    }

    /// opt_out_rate (at most 0.001 a decision over 5,000): the random agent's false positives
    /// drive users to opt out and trip it; on the stationary world (no one leaves) it stays closed.
    func testOptOutRateBreaker() throws {
        let sc = try breakers(only: .optOutRate)
        let random = try evaluate(sc)
        XCTAssertGreaterThan(random.breakers!.trips.count, 0)
        try checkFallback(random, sc)
        var calm = try load("stationary.yaml")
        calm.safety = sc.safety
        calm.evaluation.episodes = 30_000
        let quiet = try evaluate(calm)
        XCTAssertEqual(quiet.breakers!.trips, [])
        XCTAssertEqual(quiet.breakers!.fallbackDecisions, 0)
    }

    /// detector (action_drift): the baseline world is not stationary (hive events come and go)
    /// and the detector trips it; on the stationary world over 100,000 decisions after the
    /// burn-in it stays closed.
    func testDetectorBreaker() throws {
        let sc = try breakers(only: .detector)
        let random = try evaluate(sc)
        XCTAssertGreaterThan(random.breakers!.trips.count, 0)
        XCTAssertTrue(random.breakers!.trips.allSatisfy { $0.reason.contains("action_drift") })
        XCTAssertNotNil(random.anomalies, "a detector breaker runs the detectors")
        try checkFallback(random, sc)
        var calm = try load("stationary.yaml")
        calm.safety = sc.safety
        let quiet = try evaluate(calm)
        XCTAssertEqual(quiet.evaluation.episodes.count, 130_000)
        XCTAssertEqual(quiet.breakers!.trips, [])
        XCTAssertEqual(quiet.breakers!.fallbackDecisions, 0)
    }
}
