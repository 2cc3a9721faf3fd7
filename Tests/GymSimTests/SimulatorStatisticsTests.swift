import XCTest
import GymCore
import GymRandom
import GymTestSupport
@testable import GymSim

/// The simulator's statistics against their configured values.
final class SimulatorStatisticsTests: XCTestCase {
    /// A world where nobody leaves, so arrival counts measure the arrival process alone.
    func quietConfig(users: Int) -> SimConfig {
        var c = smallSimConfig(users: users)
        c.churn.dailyBase = 1e-9
        c.churn.fatigue = 0; c.churn.distress = 0; c.churn.ignoredDistress = 0; c.churn.trust = 0
        c.churn.optOutDailyBase = 1e-9
        return c
    }

    func testArrivalCountsMatchPoissonRates() {
        var c = quietConfig(users: 300)
        c.population.chronotypeAmplitude = 0
        c.population.activityMean = 2
        // Two busy hours: hour 9 weighs 4, hour 20 weighs 8, the rest 1.
        var hw = [Double](repeating: 1, count: 24)
        hw[9] = 4; hw[20] = 8
        c.sessions.hourWeights = hw
        c.sessions.weekdayWeights = [1, 1, 1, 1, 1, 1, 1]
        let days = 14.0
        c.sessions.maxDays = days
        let world = JourneyWorld(config: c)
        let records = drive(world, FixedPolicy { _ in 0 }, seed: SeedTree(root: 3), steps: 1_000_000)
        // Total: sum over users of lambda_u * days (each user's rate is normalised to mean lambda_u).
        let expected = world.population.activity.reduce(0, +) * days
        let total = Double(records.episodes.count)
        XCTAssertEqual(total, expected, accuracy: 4 * expected.squareRoot(), "total arrivals vs Poisson mean")
        // By hour: expected share hw[h] / sum(hw).
        var byHour = [Double](repeating: 0, count: 24)
        for e in records.episodes { byHour[Int(e.time / 3600) % 24] += 1 }
        let sum = hw.reduce(0, +)
        var chi2 = 0.0
        for h in 0..<24 {
            let exp = total * hw[h] / sum
            chi2 += (byHour[h] - exp) * (byHour[h] - exp) / exp
        }
        // Chi-square with 23 degrees of freedom: the 99.9% quantile is 49.7.
        XCTAssertLessThan(chi2, 49.7, "hour-of-day counts vs configured weights, chi2 = \(chi2)")
        // Per user: counts are Poisson given the rate, so the dispersion index over users with
        // their own rate is ~1: sum (n_u - m_u)^2 / m_u ~ chi2 with N df.
        var counts = [Double](repeating: 0, count: c.population.size)
        for e in records.episodes { counts[e.user] += 1 }
        var d = 0.0
        for u in 0..<counts.count {
            let m = world.population.activity[u] * days
            d += (counts[u] - m) * (counts[u] - m) / m
        }
        let N = Double(counts.count)
        XCTAssertEqual(d / N, 1, accuracy: 4 * (2 / N).squareRoot(), "dispersion index")
    }

    /// With a strong chronotype and peaked hour weights, each user's expected daily sessions stay
    /// exactly their activity rate (the intensity is normalised by its exact daily integral).
    func testChronotypeKeepsEachUsersRate() {
        var c = quietConfig(users: 300)
        c.population.chronotypeAmplitude = 1
        c.population.chronotypeSDHours = 6
        var hw = [Double](repeating: 0.05, count: 24)
        hw[3] = 10; hw[15] = 6
        c.sessions.hourWeights = hw
        let days = 14.0
        c.sessions.maxDays = days
        let world = JourneyWorld(config: c)
        let records = drive(world, FixedPolicy { _ in 0 }, seed: SeedTree(root: 31), steps: 1_000_000)
        let expected = world.population.activity.reduce(0, +) * days
        XCTAssertEqual(Double(records.episodes.count), expected, accuracy: 4 * expected.squareRoot())
        var counts = [Double](repeating: 0, count: c.population.size)
        for e in records.episodes { counts[e.user] += 1 }
        var d = 0.0
        for u in 0..<counts.count {
            let m = world.population.activity[u] * days
            d += (counts[u] - m) * (counts[u] - m) / m
        }
        let N = Double(counts.count)
        XCTAssertEqual(d / N, 1, accuracy: 4 * (2 / N).squareRoot(), "per-user counts are Poisson with the configured rate")
    }

    func testGeneratorChoiceReachesTheWorld() throws {
        let c = smallSimConfig(users: 60)
        func trajectory(_ g: GeneratorKind) -> [Double] {
            let w = JourneyWorld(config: c)
            w.generator = g
            return drive(w, FixedPolicy { _ in 0 }, seed: SeedTree(root: 1), steps: 300).episodes.map { $0.time }
        }
        XCTAssertEqual(trajectory(.mt19937), trajectory(.mt19937))
        XCTAssertNotEqual(trajectory(.mt19937), trajectory(try GeneratorKind.named("taus2")))
        XCTAssertThrowsError(try GeneratorKind.named("uni")) { XCTAssertTrue("\($0)".contains("distinct values"), "\($0)") }
        XCTAssertFalse(GeneratorKind.available.contains("uni"))
    }

    func testWeekdayWeightsShapeArrivals() {
        var c = quietConfig(users: 300)
        c.population.chronotypeAmplitude = 0
        c.sessions.weekdayWeights = [1, 1, 1, 1, 1, 3, 3]
        c.sessions.maxDays = 14
        let world = JourneyWorld(config: c)
        let records = drive(world, FixedPolicy { _ in 0 }, seed: SeedTree(root: 4), steps: 1_000_000)
        var weekend = 0.0, weekday = 0.0
        for e in records.episodes { if Int(e.time / 86_400) % 7 >= 5 { weekend += 1 } else { weekday += 1 } }
        // Expected ratio: 2 days x 3 / 5 days x 1 = 1.2.
        let ratio = weekend / weekday
        let se = ratio * (1 / weekend + 1 / weekday).squareRoot()
        XCTAssertEqual(ratio, 1.2, accuracy: 4 * se)
    }

    func testTraitMeansMatchBetaParameters() throws {
        var c = PopulationConfig()
        c.size = 20_000
        c.personaDimension = 8
        c.candidatePool = 2
        c.groups = [GroupConfig(name: "only", share: 1, traitAlpha: [2, 5, 3, 8, 1.5], traitBeta: [6, 5, 3, 2, 4.5])]
        let p = Population.generate(c, seed: SeedTree(root: 5))
        for k in 0..<5 {
            let b = try Beta(alpha: c.groups[0].traitAlpha[k], beta: c.groups[0].traitBeta[k])
            var m = RunningMoments()
            for u in 0..<c.size { m.add(p.traits[u * 5 + k]) }
            XCTAssertEqual(m.mean, b.mean, accuracy: 5 * (b.variance / Double(c.size)).squareRoot(), "trait \(k) mean")
            XCTAssertEqual(m.variance, b.variance, accuracy: 0.05 * b.variance, "trait \(k) variance")
        }
    }

    func testGroupSharesAndPersonaVectors() {
        var c = PopulationConfig()
        c.size = 10_000
        c.candidatePool = 4
        c.personaDimension = 32
        let p = Population.generate(c, seed: SeedTree(root: 6))
        for (g, gc) in c.groups.enumerated() {
            let share = Double(p.group.filter { $0 == g }.count) / Double(c.size)
            XCTAssertEqual(share, gc.share, accuracy: 5 * (gc.share * (1 - gc.share) / Double(c.size)).squareRoot())
        }
        for u in stride(from: 0, to: c.size, by: 997) {
            var norm: Float = 0
            for i in 0..<32 { norm += p.persona[u * 32 + i] * p.persona[u * 32 + i] }
            XCTAssertEqual(norm, 1, accuracy: 1e-4)
        }
        // Pools: distinct, never the user themself.
        for u in 0..<50 {
            let pool = (0..<p.poolSize).map { p.pool[u * p.poolSize + $0] }
            XCTAssertFalse(pool.contains(Int32(u)))
            XCTAssertEqual(Set(pool).count, pool.count)
        }
    }

    func testEmotionHasOUStationaryVariance() {
        var c = quietConfig(users: 60)
        c.emotion.observationNoise = 0
        c.sessions.maxDays = 60
        let world = JourneyWorld(config: c)
        world.reset(seed: SeedTree(root: 7))
        // Sample each user's emotion minus its set point at every arrival (no interventions).
        var m = RunningMoments()
        let D = c.emotion.dimension
        var k = 0
        while !world.isDone && k < 6000 {
            let u = world.currentUser
            for i in 0..<D { m.add(world.observation[i] - world.emotionMean[u * D + i]) }
            _ = world.step(ActionChoice(action: 0, propensity: 1))
            k += 1
        }
        let target = c.emotion.stationarySD * c.emotion.stationarySD
        XCTAssertEqual(m.mean, 0, accuracy: 0.01)
        XCTAssertEqual(m.variance, target, accuracy: 0.03 * target, "stationary variance sigma^2 / (2 theta)")
    }

    func testEmotionTransitionIsExact() {
        // From x0 = mu + 1 in every coordinate, one step of 2 days: mean e^{-2 theta},
        // variance s^2 (1 - e^{-4 theta}).
        var c = quietConfig(users: 4)
        c.emotion.dimension = 128
        let world = JourneyWorld(config: c)
        world.reset(seed: SeedTree(root: 8))
        let D = c.emotion.dimension, theta = c.emotion.reversionPerDay, s = c.emotion.stationarySD
        var m = RunningMoments()
        for _ in 0..<400 {
            for i in 0..<D { world.emotion[i] = world.emotionMean[i] + 1 }
            world.users[0].lastEmotionTime = 0
            world.advanceEmotion(0, to: 2 * 86_400)
            for i in 0..<D { m.add(world.emotion[i] - world.emotionMean[i]) }
        }
        let a = exp(-2 * theta)
        let v = s * s * (1 - a * a)
        XCTAssertEqual(m.mean, a, accuracy: 5 * (v / Double(m.count)).squareRoot())
        XCTAssertEqual(m.variance, v, accuracy: 0.03 * v)
    }

    /// Acceptance of pairings falls as fatigue rises when `fatigue_effect` is positive, and rises
    /// when it is negative: measured on simulated outcomes, not on the formula.
    func testPairingAcceptanceRespondsToFatigueInConfiguredDirection() {
        func acceptance(fatiguePerAction: Double, effect: Double) -> Double {
            var c = quietConfig(users: 200)
            c.pairing.fatigueEffect = effect
            c.pairing.dailyExposureBudget = 50
            c.churn.fatiguePerAction = fatiguePerAction
            c.churn.fatigueHalfLifeDays = 5
            let world = JourneyWorld(config: c)
            let recs = drive(world, FixedPolicy { mask in mask[1] ? 1 : 0 }, seed: SeedTree(root: 9), steps: 6000)
            let pairs = recs.episodes.filter { $0.kind == .suggestPairing }
            return Double(pairs.filter { $0.accepted }.count) / Double(pairs.count)
        }
        let rested = acceptance(fatiguePerAction: 0, effect: 2.5)
        let tired = acceptance(fatiguePerAction: 0.3, effect: 2.5)
        XCTAssertLessThan(tired, rested - 0.05, "positive fatigue effect: tired users accept less (\(tired) vs \(rested))")
        let restedNeg = acceptance(fatiguePerAction: 0, effect: -2.5)
        let tiredNeg = acceptance(fatiguePerAction: 0.3, effect: -2.5)
        XCTAssertGreaterThan(tiredNeg, restedNeg + 0.05, "negative fatigue effect: tired users accept more (\(tiredNeg) vs \(restedNeg))")
    }

    func testDailyExposureBudgetIsRespected() {
        var c = smallSimConfig(users: 60)
        c.pairing.dailyExposureBudget = 2
        let world = JourneyWorld(config: c)
        let recs = drive(world, FixedPolicy { mask in mask[1] ? 1 : 0 }, seed: SeedTree(root: 10), steps: 4000)
        var perDay: [Int: Int] = [:]
        for e in recs.episodes where e.kind == .suggestPairing {
            perDay[Int(e.time / 86_400) * 1_000_000 + e.target, default: 0] += 1
        }
        XCTAssertFalse(perDay.isEmpty)
        XCTAssertLessThanOrEqual(perDay.values.max() ?? 0, 2)
    }

    func testSignalsHaveLatenciesAndRewardIsWeightedSum() {
        let c = smallSimConfig(users: 100)
        let world = JourneyWorld(config: c)
        let recs = drive(world, FixedPolicy { mask in mask[1] ? 1 : (mask.count - 1) }, seed: SeedTree(root: 11), steps: 3000)
        var byKind: [SignalKind: RunningMoments] = [:]
        for s in recs.signals {
            XCTAssertTrue((-1...1).contains(s.value))
            XCTAssertGreaterThanOrEqual(s.latency, 0)
            byKind[s.kind, default: RunningMoments()].add(s.latency)
        }
        // Engagement fast (minutes), resonance in hours, explicit feedback in days.
        XCTAssertLessThan(byKind[.engagement]!.mean, 600)
        XCTAssertGreaterThan(byKind[.resonance]!.mean, 3600)
        XCTAssertGreaterThan(byKind[.explicitFeedback]!.mean, 86_400)
        for e in recs.episodes.prefix(500) {
            var r = 0.0
            for s in recs.signals[e.firstSignal..<(e.firstSignal + e.signalCount)] {
                XCTAssertEqual(s.episode, e.index)
                r += c.rewards.weight(s.kind.rawValue) * s.value
            }
            XCTAssertEqual(e.reward, r, accuracy: 1e-12)
            let expected: Outcome = r >= c.rewards.successThreshold ? .success : (r <= c.rewards.failureThreshold ? .failure : .neutral)
            XCTAssertEqual(e.outcome, expected)
        }
    }
}
