import XCTest
import GymCore
import GymLinalg
import GymRandom
import GymSim
import GymTestSupport
@testable import GymAgents

final class LinalgTests: XCTestCase {
    func testCholeskySolvesKnownSystem() {
        // A = [[4, 2, 0], [2, 5, 1], [0, 1, 3]], x = [1, -2, 3] => b = A x = [0, -5, 7].
        let a = [4.0, 2, 0, 2, 5, 1, 0, 1, 3]
        let x = Cholesky.solve(a, [0, -5, 7], n: 3)!
        for (got, want) in zip(x, [1.0, -2, 3]) { XCTAssertEqual(got, want, accuracy: 1e-12) }
        XCTAssertNil(Cholesky.solve([1, 2, 2, 1], [1, 1], n: 2), "indefinite matrix")
    }

    func testRidgeRecoversLinearModelAndShrinks() {
        let s = RandomStream(seed: 3)
        var r = RidgeRegression(dimension: 3, lambda: 1e-6)
        var heavy = RidgeRegression(dimension: 3, lambda: 1e6)
        for _ in 0..<2000 {
            let x = [1, s.standardNormal(), s.standardNormal()]
            let y = 0.5 + 2 * x[1] - 1 * x[2]
            x.withUnsafeBufferPointer { r.addDesign($0); r.addTarget($0, y); heavy.addDesign($0); heavy.addTarget($0, y) }
        }
        r.refit(); heavy.refit()
        for (got, want) in zip(r.weights, [0.5, 2, -1]) { XCTAssertEqual(got, want, accuracy: 1e-6) }
        XCTAssertLessThan(heavy.weights.map { abs($0) }.max()!, 0.01, "a huge lambda shrinks the weights to ~0")
    }
}

final class EpsilonScheduleTests: XCTestCase {
    func testLinearScheduleFollowsBlueprint() {
        let c = EpsilonGreedyConfig()
        XCTAssertEqual(c.epsilon(at: 0), 0.3, accuracy: 1e-12)
        XCTAssertEqual(c.epsilon(at: 5000), 0.175, accuracy: 1e-12)
        XCTAssertEqual(c.epsilon(at: 10_000), 0.05, accuracy: 1e-12)
        XCTAssertEqual(c.epsilon(at: 50_000), 0.05, accuracy: 1e-12)
    }

    func testExponentialSchedule() {
        var c = EpsilonGreedyConfig()
        c.schedule = .exponential
        XCTAssertEqual(c.epsilon(at: 0), 0.3, accuracy: 1e-12)
        XCTAssertEqual(c.epsilon(at: 10_000), 0.05 + 0.25 * exp(-5), accuracy: 1e-12)
        XCTAssertGreaterThan(c.epsilon(at: 1000), c.epsilon(at: 2000))
    }
}

final class AgentBehaviourTests: XCTestCase {
    func testEpsilonGreedyPropensityMatchesEmpiricalFrequency() {
        let world = JourneyWorld(config: smallSimConfig(users: 50))
        world.reset(seed: SeedTree(root: 1))
        var cfg = EpsilonGreedyConfig()
        cfg.evaluationEpsilon = 0.4
        let agent = EpsilonGreedyAgent(config: cfg, layout: world.observationLayout, actions: world.actionLayout, stream: SeedTree(root: 2).stream())
        agent.learning = false
        let obs = world.observation, mask = world.actionMask
        var counts = [Int](repeating: 0, count: mask.count)
        var propensity = [Double](repeating: 0, count: mask.count)
        let n = 40_000
        for _ in 0..<n {
            let c = agent.act(observation: obs, mask: mask, decision: 0, truth: nil)
            counts[c.action] += 1
            propensity[c.action] = c.propensity
        }
        var total = 0.0
        for a in 0..<mask.count where counts[a] > 0 {
            XCTAssertTrue(mask[a])
            let p = propensity[a]
            total += p
            XCTAssertEqual(Double(counts[a]) / Double(n), p, accuracy: 5 * (p * (1 - p) / Double(n)).squareRoot())
        }
        XCTAssertEqual(total, 1, accuracy: 1e-9, "propensities of the allowed actions sum to 1")
    }

    /// The paced bandit is the bandit with a cost on suggestions: at cost 0 it takes the bandit's
    /// every action; at any cost its greedy choice maximises predicted reward minus the cost; at
    /// a cost above any reward it does nothing whenever doing nothing is allowed.
    func testPacedBanditChargesEverySuggestion() {
        let world = JourneyWorld(config: smallSimConfig(users: 120))
        var ec = EpsilonGreedyConfig()
        ec.decayEpisodes = 1000
        ec.refitEvery = 100
        func agent(_ cost: Double, name: String = "paced_bandit") -> EpsilonGreedyAgent {
            EpsilonGreedyAgent(config: ec, layout: world.observationLayout, actions: world.actionLayout,
                               stream: SeedTree(root: 21).stream(), suggestionCost: cost, name: name)
        }
        let noAction = world.actionLayout.families.first { $0.name == "no_action" }!.range
        let plain = drive(world, agent(0, name: "epsilon_greedy"), seed: SeedTree(root: 22), steps: 3000).episodes.map(\.action)
        let zero = drive(world, agent(0), seed: SeedTree(root: 22), steps: 3000).episodes.map(\.action)
        XCTAssertEqual(plain, zero, "cost 0: the bandit's actions")
        let paced = agent(0.08)
        _ = drive(world, paced, seed: SeedTree(root: 23), steps: 3000)
        paced.learning = false   // evaluation epsilon 0.05: check only the greedy choices
        var checked = 0, pauses = 0
        _ = drive(world, paced, seed: SeedTree(root: 24), steps: 1500) { a, mask in
            let o = world.observation
            let scores = mask.indices.filter { mask[$0] }.map { ($0, paced.predict(o, $0) - (noAction.contains($0) ? 0 : 0.08)) }
            let best = scores.max { $0.1 < $1.1 }!
            if a == best.0 || abs(scores.first { $0.0 == a }!.1 - best.1) < 1e-12 { checked += 1 }
            if noAction.contains(a) { pauses += 1 }
        }
        XCTAssertGreaterThan(checked, 1300, "greedy (95% of 1500, less exploration) maximises predicted reward - cost")
        let plainPauses = zero.filter { noAction.contains($0) }.count
        XCTAssertGreaterThan(Double(pauses) / 1500, Double(plainPauses) / 3000, "a cost makes it pause more than the bandit")
        let huge = agent(100)
        huge.learning = false
        var blocked = 0   // decisions where doing nothing was not allowed
        let hugeRun = drive(world, huge, seed: SeedTree(root: 26), steps: 2000) { _, mask in
            if !mask[noAction.lowerBound] { blocked += 1 }
        }.episodes
        XCTAssertEqual(blocked, 0)
        let suggested = hugeRun.filter { !noAction.contains($0.action) }.count
        XCTAssertLessThan(Double(suggested) / Double(hugeRun.count), 0.06, "at cost 100 it suggests only when exploring")
    }

    func testOracleTakesTheBestTrueAction() {
        let world = JourneyWorld(config: smallSimConfig(users: 80))
        world.reset(seed: SeedTree(root: 4))
        let oracle = OracleAgent()
        var values: [Double] = []
        for _ in 0..<200 {
            world.trueExpectedRewards(into: &values)
            let c = oracle.act(observation: world.observation, mask: world.actionMask, decision: world.decisionIndex, truth: world)
            let best = world.actionMask.indices.filter { world.actionMask[$0] }.map { values[$0] }.max()!
            XCTAssertEqual(values[c.action], best)
            _ = world.step(c)
        }
    }

    /// The bandit learns: after training, frozen, it beats the random agent on a fresh world by
    /// more than the two standard errors of the difference.
    func testEpsilonGreedyLearnsToBeatRandom() {
        let cfg = smallSimConfig(users: 150)
        let world = JourneyWorld(config: cfg)
        var ec = EpsilonGreedyConfig()
        ec.decayEpisodes = 3000
        ec.refitEvery = 100
        let bandit = EpsilonGreedyAgent(config: ec, layout: world.observationLayout, actions: world.actionLayout, stream: SeedTree(root: 6).stream())
        drive(world, bandit, seed: SeedTree(root: 7), steps: 5000)
        bandit.learning = false
        let evalSeed = SeedTree(root: 8)
        let b = drive(world, bandit, seed: evalSeed, steps: 3000).episodes.map { $0.reward }
        let random = RandomAgent(layout: world.observationLayout, actions: world.actionLayout, stream: SeedTree(root: 9).stream())
        let r = drive(world, random, seed: evalSeed, steps: 3000).episodes.map { $0.reward }
        let mb = Stats.mean(b), mr = Stats.mean(r)
        let se = (Stats.variance(b) / Double(b.count) + Stats.variance(r) / Double(r.count)).squareRoot()
        XCTAssertGreaterThan(mb - mr, 4 * se, "bandit \(mb) vs random \(mr)")
    }

    func testResonancePredictorLearnsFromSignals() {
        let world = JourneyWorld(config: smallSimConfig(users: 150))
        let agent = RandomAgent(layout: world.observationLayout, actions: world.actionLayout, stream: SeedTree(root: 10).stream())
        let recs = drive(world, agent, seed: SeedTree(root: 11), steps: 6000)
        let late = recs.episodes.suffix(2000).filter { $0.kind == .suggestPairing && $0.accepted && $0.predictedResonance.isFinite }
        XCTAssertGreaterThan(late.count, 50)
        let rmse = (late.map { ($0.predictedResonance - $0.realizedResonance) * ($0.predictedResonance - $0.realizedResonance) }.reduce(0, +) / Double(late.count)).squareRoot()
        // A constant 0.5 prediction has RMSE = sqrt(mean((r - 0.5)^2)); learning must beat it.
        let constant = (late.map { ($0.realizedResonance - 0.5) * ($0.realizedResonance - 0.5) }.reduce(0, +) / Double(late.count)).squareRoot()
        XCTAssertLessThan(rmse, 0.8 * constant, "learned \(rmse) vs constant \(constant)")
    }
}
