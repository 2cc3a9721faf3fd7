import XCTest
import GymCore
import GymRandom
import GymTestSupport
@testable import GymSim

/// The oracle's expected rewards come from the same response model as the sampled responses:
/// at every decision, E[reward | state, action] is what the oracle computes, so the mean of
/// (sampled reward - oracle's expectation) over many decisions is 0 within its standard error,
/// per action family, before and after the reward weights shift.
final class ResponseModelTests: XCTestCase {
    struct Tally {
        var n = 0.0, sum = 0.0, sumSq = 0.0
        mutating func add(_ x: Double) { n += 1; sum += x; sumSq += x * x }
        var mean: Double { sum / n }
        var standardError: Double { ((sumSq / n - mean * mean) / (n - 1)).squareRoot() }
    }

    func testOracleExpectationEqualsTheMeanOfSampledRewards() {
        var c = smallSimConfig(users: 400)
        c.sessions.maxDays = 14
        c.population.activityMean = 6
        c.rewards.shiftAtDay = 7
        // Nobody leaves, so both halves of the run have many decisions.
        c.churn.dailyBase = 1e-9; c.churn.optOutDailyBase = 1e-9
        c.churn.fatigue = 0; c.churn.distress = 0; c.churn.ignoredDistress = 0; c.churn.trust = 0
        // Distress common enough that interventions to distressed users are frequent.
        c.emotion.distressBias += 0.6
        let world = JourneyWorld(config: c)
        world.reset(seed: SeedTree(root: 11))
        let pick = RandomStream(seed: 12)
        var expected: [Double] = [], unshifted: [Double] = []
        // Per (family, after the shift): the sampled minus the expected reward.
        var diff: [String: Tally] = [:], stale = Tally()
        var decisions = 0
        while !world.isDone && decisions < 400_000 {
            let allowed = world.actionMask.indices.filter { world.actionMask[$0] && $0 > 0 }
            let a = allowed[pick.uniformInt(allowed.count)]
            world.trueExpectedRewards(into: &expected)
            world.expectedRewards(into: &unshifted, weightsAt: 0)
            let after = world.currentTime >= 7 * 86_400
            let name = world.actionLayout.families[world.actionLayout.family(of: a)].name
            let family = name + (name == "intervention" ? (world.currentDistressed ? "/distressed" : "/not distressed") : "")
            _ = world.step(ActionChoice(action: a, propensity: 1))
            let r = world.lastEpisode.reward
            diff[family + (after ? " after" : " before"), default: Tally()].add(r - expected[a])
            if after { stale.add(r - unshifted[a]) }
            decisions += 1
        }
        for key in diff.keys.sorted() {
            let t = diff[key]!
            XCTAssertGreaterThan(t.n, 500, "\(key): too few decisions to test")
            XCTAssertLessThan(abs(t.mean), 4 * t.standardError + 1e-4,
                              "\(key): sampled - expected reward = \(t.mean) ± \(t.standardError) over \(Int(t.n)) decisions")
        }
        XCTAssertEqual(Set(diff.keys.map { $0.split(separator: " ").last! }), ["before", "after"])
        // The check has power: the expectation with the pre-shift weights is off after the shift.
        XCTAssertGreaterThan(abs(stale.mean), 6 * stale.standardError,
                             "pre-shift weights after the shift: \(stale.mean) ± \(stale.standardError)")
    }

    /// E[clamp(X, lo, hi)] in closed form against a Monte Carlo mean, and the quadrature's normal
    /// expectation against moments known in closed form.
    func testQuadratureAgainstClosedForms() {
        XCTAssertEqual(Quadrature.normalExpectation { $0 * $0 }, 1, accuracy: 1e-12)
        XCTAssertEqual(Quadrature.normalExpectation { exp(0.5 * $0) }, exp(0.125), accuracy: 1e-12)
        let s = RandomStream(seed: 4)
        for (mu, sd) in [(0.2, 0.3), (0.95, 0.1), (-0.2, 0.5)] {
            var acc = 0.0
            let n = 400_000
            for _ in 0..<n { acc += min(1, max(0, mu + sd * s.standardNormal())) }
            XCTAssertEqual(Quadrature.clampedNormalMean(mu: mu, sd: sd, lo: 0, hi: 1), acc / Double(n), accuracy: 4 * sd / Double(n).squareRoot())
            let v = Quadrature.clampedExpectation(mean: mu, sd: sd, lo: 0, hi: 1, count: 1) { [$0] }
            XCTAssertEqual(v[0], Quadrature.clampedNormalMean(mu: mu, sd: sd, lo: 0, hi: 1), accuracy: 1e-9)
        }
    }
}
