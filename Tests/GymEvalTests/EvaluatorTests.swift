import XCTest
import GymCore
import GymRandom
@testable import GymEval
import GymGate

final class EvaluatorTests: XCTestCase {
    func episode(_ i: Int, kind: ActionKind, group: Int = 0, reward: Double = 0, distressed: Bool = false,
                 rho: Double = .nan, accepted: Bool = false, realized: Double = .nan, predicted: Double = .nan,
                 outcome: Outcome = .neutral) -> EpisodeRecord {
        var e = EpisodeRecord(index: i, user: i, group: group, time: Double(i), action: 0, kind: kind, propensity: 1)
        e.reward = reward; e.distressed = distressed; e.trueResonance = rho; e.accepted = accepted
        e.realizedResonance = realized; e.predictedResonance = predicted; e.outcome = outcome
        return e
    }

    func testMetricsOnHandMadeRecords() {
        var r = RunRecords()
        r.groupNames = ["A", "B"]
        // 4 pairings: rho 0.9, 0.6, 0.4, 0.7 (3 of 4 >= 0.5); two accepted with errors 0.1 and 0.3.
        r.episodes = [
            episode(0, kind: .suggestPairing, group: 0, reward: 0.5, rho: 0.9, accepted: true, realized: 0.8, predicted: 0.9, outcome: .success),
            episode(1, kind: .suggestPairing, group: 1, reward: 0.2, rho: 0.6, accepted: true, realized: 0.5, predicted: 0.2, outcome: .success),
            episode(2, kind: .suggestPairing, group: 0, reward: -0.1, rho: 0.4, outcome: .failure),
            episode(3, kind: .suggestPairing, group: 1, reward: 0.0, rho: 0.7),
            // Interventions: 1 accepted of 3 delivered; 2 to non-distressed sessions.
            episode(4, kind: .intervention, group: 0, reward: 0.4, distressed: true, accepted: true, outcome: .success),
            episode(5, kind: .intervention, group: 0, reward: -0.2, outcome: .failure),
            episode(6, kind: .intervention, group: 1, reward: -0.2, outcome: .failure),
            episode(7, kind: .noAction, group: 1, reward: 0),
        ]
        r.users = [
            UserOutcome(group: 0, firstSession: 0, leftAt: nil, optedOut: false, trustSurvey: 5),
            UserOutcome(group: 0, firstSession: 0, leftAt: 3 * 86_400, optedOut: true, trustSurvey: 2),
            UserOutcome(group: 1, firstSession: 0, leftAt: 8 * 86_400, optedOut: false, trustSurvey: 4),
            UserOutcome(group: 1, firstSession: 5 * 86_400, leftAt: nil, optedOut: false, trustSurvey: 3), // not eligible for 7d
            UserOutcome(group: 1, firstSession: nil, leftAt: nil, optedOut: false, trustSurvey: 1),       // never came
        ]
        r.duration = 10 * 86_400
        var c = EvalConfig()
        c.bootstrapSamples = 200
        let m = Evaluator(config: c, matchThreshold: 0.5).evaluate(r, stream: RandomStream(seed: 1))
        func v(_ n: String) -> Double { m.first { $0.name == n }!.value }
        XCTAssertEqual(v("pairing_accuracy"), 0.75, accuracy: 1e-12)
        XCTAssertEqual(v("resonance_rmse"), ((0.01 + 0.09) / 2).squareRoot(), accuracy: 1e-12)
        XCTAssertEqual(v("intervention_acceptance"), 1.0 / 3.0, accuracy: 1e-12)
        // Non-distressed sessions: all but episode 4 = 7; interventions among them: 2.
        XCTAssertEqual(v("intervention_fpr"), 2.0 / 7.0, accuracy: 1e-12)
        // Success rates: group A 2/4, group B 1/4 -> parity 0.5.
        XCTAssertEqual(v("bias_parity"), 0.5, accuracy: 1e-12)
        XCTAssertEqual(v("mean_reward"), 0.6 / 8, accuracy: 1e-12)
        // Retention: eligible users 0, 1, 2 (user 3's window runs past the end); none has a second
        // session here, so none returned (testRetentionCountsReturnsBetweenDayOneAndSeven has returns).
        XCTAssertEqual(v("retention_7d"), 0, accuracy: 1e-12)
        XCTAssertTrue(m.first { $0.name == "retention_7d" }!.note?.contains("1 of 4 users with a session are excluded") ?? false)
        XCTAssertEqual(v("opt_out_rate"), 0.25, accuracy: 1e-12)
        XCTAssertEqual(v("trust_score"), 3.5, accuracy: 1e-12)
        for x in m where x.value.isFinite {
            XCTAssertLessThanOrEqual(x.ciLow, x.value + 1e-12, x.name)
            XCTAssertGreaterThanOrEqual(x.ciHigh, x.value - 1e-12, x.name)
        }
    }

    /// retention_7d: a user is retained when they have a session at least one day and at most seven
    /// days after their first; users whose seven days run past the end are excluded and counted.
    func testRetentionCountsReturnsBetweenDayOneAndSeven() {
        let day = 86_400.0
        var r = RunRecords()
        r.groupNames = ["A"]
        func at(_ user: Int, _ t: Double) -> EpisodeRecord {
            var e = episode(r.episodes.count, kind: .noAction)
            e.user = user; e.time = t
            return e
        }
        // User 0: back on day 2 (retained). User 1: a second session 6 hours in, then gone (not
        // retained: the same day). User 2: back on day 8 only (not retained: too late). User 3:
        // never back, still active (not retained: being active is not a return). User 4: first
        // session on day 5 of a 10-day run (excluded). User 5: back at exactly 7 days (retained).
        r.episodes = [at(0, 0), at(0, 2 * day), at(1, 0), at(1, 0.25 * day), at(2, 0), at(2, 8 * day), at(3, 0), at(4, 5 * day),
                      at(5, 0.5 * day), at(5, 7.5 * day)]
        r.users = [
            UserOutcome(group: 0, firstSession: 0, leftAt: nil, optedOut: false, trustSurvey: 5),
            UserOutcome(group: 0, firstSession: 0, leftAt: day, optedOut: false, trustSurvey: 5),
            UserOutcome(group: 0, firstSession: 0, leftAt: nil, optedOut: false, trustSurvey: 5),
            UserOutcome(group: 0, firstSession: 0, leftAt: nil, optedOut: false, trustSurvey: 5),
            UserOutcome(group: 0, firstSession: 5 * day, leftAt: nil, optedOut: false, trustSurvey: 5),
            UserOutcome(group: 0, firstSession: 0.5 * day, leftAt: nil, optedOut: false, trustSurvey: 5),
        ]
        r.duration = 10 * day
        var c = EvalConfig()
        c.bootstrapSamples = 100
        let m = Evaluator(config: c, matchThreshold: 0.5).evaluate(r, stream: RandomStream(seed: 1)).first { $0.name == "retention_7d" }!
        XCTAssertEqual(m.value, 2.0 / 5.0, accuracy: 1e-12)
        XCTAssertEqual(m.count, 5)
        XCTAssertEqual(m.note, "1 of 6 users with a session are excluded: their 7-day window runs past the end of the evaluation (10.0 simulated days)")
    }

    /// The paired difference of two agents' mean rewards on the same users: the point value is the
    /// difference of the means, and a difference that is constant per user has a degenerate interval
    /// at that value, while an unpaired comparison of the two intervals could not tell them apart.
    func testPairedDifferenceKeepsThePairing() {
        var a = RunRecords(), b = RunRecords()
        let s = RandomStream(seed: 9)
        for u in 0..<400 {
            let base = s.gaussian(sd: 1)   // large between-user spread, shared by both agents
            for k in 0..<5 {
                var x = episode(u * 5 + k, kind: .noAction); x.user = u; x.reward = base
                var y = x; y.reward = base + 0.01
                a.episodes.append(x); b.episodes.append(y)
            }
        }
        var c = EvalConfig()
        c.bootstrapSamples = 400
        let e = Evaluator(config: c, matchThreshold: 0.5)
        let d = e.pairedDifference("b", b, "a", a, stream: RandomStream(seed: 4))
        XCTAssertEqual(d.value, 0.01, accuracy: 1e-12)
        XCTAssertEqual(d.ciLow, 0.01, accuracy: 1e-9)
        XCTAssertEqual(d.ciHigh, 0.01, accuracy: 1e-9)
        XCTAssertTrue(d.significant)
        XCTAssertEqual(d.users, 400)
        // The two agents' own intervals overlap almost entirely: an overlap test would call it a tie.
        let ma = e.evaluate(a, stream: RandomStream(seed: 5)).first { $0.name == "mean_reward" }!
        let mb = e.evaluate(b, stream: RandomStream(seed: 6)).first { $0.name == "mean_reward" }!
        XCTAssertGreaterThan(ma.ciHigh, mb.ciLow)
        // With no difference the interval covers 0 and it is not significant.
        let same = e.pairedDifference("a", a, "a2", a, stream: RandomStream(seed: 7))
        XCTAssertFalse(same.significant)
    }

    /// The percentile bootstrap of a proportion agrees with the normal interval p +- 1.96 sqrt(p(1-p)/n).
    func testBootstrapIntervalMatchesNormalTheory() {
        var r = RunRecords()
        r.groupNames = ["A"]
        let s = RandomStream(seed: 2)
        let n = 2000
        for i in 0..<n { r.episodes.append(episode(i, kind: .noAction, reward: s.bernoulli(0.3) ? 1 : 0)) }
        var c = EvalConfig()
        c.bootstrapSamples = 2000
        let m = Evaluator(config: c, matchThreshold: 0.5).evaluate(r, stream: RandomStream(seed: 3)).first { $0.name == "mean_reward" }!
        let p = m.value
        let half = 1.959964 * (p * (1 - p) / Double(n)).squareRoot()
        XCTAssertEqual(m.ciLow, p - half, accuracy: 0.12 * half)
        XCTAssertEqual(m.ciHigh, p + half, accuracy: 0.12 * half)
    }

    func testBootstrapIsSeeded() {
        var r = RunRecords()
        for i in 0..<300 { r.episodes.append(episode(i, kind: .noAction, reward: Double(i % 7) / 7)) }
        let e = Evaluator(config: EvalConfig(), matchThreshold: 0.5)
        func interval(_ seed: UInt64) -> [Double] {
            let m = e.evaluate(r, stream: RandomStream(seed: seed)).first { $0.name == "mean_reward" }!
            return [m.value, m.ciLow, m.ciHigh]
        }
        XCTAssertEqual(interval(9), interval(9))
        XCTAssertNotEqual(interval(9), interval(10))
    }

    func testSampleEfficiencyFindsFirstCrossing() {
        // Windows of 100 with means 0.0, 0.1, 0.5, 0.9 against an oracle at 0.5: 80% of it (0.4)
        // is first reached after 300 episodes.
        var rewards: [Double] = []
        for m in [0.0, 0.1, 0.5, 0.9] { rewards += [Double](repeating: m, count: 100) }
        let oracle = [Double](repeating: 0.5, count: 400)
        let e = Evaluator(config: EvalConfig(), matchThreshold: 0.5)
        let m = e.sampleEfficiency(trainingRewards: rewards, targetRewards: oracle, window: 100, fraction: 0.8, stream: RandomStream(seed: 1))
        XCTAssertEqual(m.value, 300)
        XCTAssertEqual(m.ciLow, 300); XCTAssertEqual(m.ciHigh, 300)
        let never = e.sampleEfficiency(trainingRewards: rewards, targetRewards: oracle.map { $0 * 4 }, window: 100, fraction: 0.8,
                                       stream: RandomStream(seed: 1))
        XCTAssertTrue(never.value.isNaN)
        XCTAssertTrue(never.note!.contains("not reached"))
    }

    func testSampleEfficiencyIntervalIsInfiniteWhenResamplesMiss() {
        // Three windows at 0.3, then one at exactly 0.41 (41 ones in 100) against a threshold of
        // 0.4: the point estimate reaches it at 400, but many resamples of that window fall below,
        // so the upper end of the interval is "not reached" (+infinity), never NaN.
        var rewards = [Double](repeating: 0.3, count: 300)
        rewards += [Double](repeating: 1, count: 41) + [Double](repeating: 0, count: 59)
        let oracle = [Double](repeating: 0.5, count: 400)
        let e = Evaluator(config: EvalConfig(), matchThreshold: 0.5)
        let m = e.sampleEfficiency(trainingRewards: rewards, targetRewards: oracle, window: 100, fraction: 0.8, stream: RandomStream(seed: 2))
        XCTAssertEqual(m.value, 400)
        XCTAssertEqual(m.ciLow, 400)
        XCTAssertEqual(m.ciHigh, .infinity)
        XCTAssertEqual(percentileIntervalAllowingInfinity([1, 2, .infinity, .infinity], confidence: 0.5).1, .infinity)
        XCTAssertEqual(percentileIntervalAllowingInfinity([1, 2, 3, 4, 5], confidence: 0.5).0, 2, accuracy: 1e-12)
    }

    /// Decisions of one user are correlated; the cluster bootstrap over users must give an interval
    /// as wide as the between-user spread, far wider than treating decisions as independent.
    func testClusterBootstrapAccountsForUserCorrelation() {
        var r = RunRecords()
        r.groupNames = ["A"]
        let s = RandomStream(seed: 4)
        let users = 20, per = 100
        var userMeans: [Double] = []
        var i = 0
        for u in 0..<users {
            let level = s.gaussian(mean: 0, sd: 0.3)
            userMeans.append(level)
            for _ in 0..<per {
                var e = episode(i, kind: .noAction, reward: level + s.gaussian(mean: 0, sd: 0.05))
                e.user = u
                r.episodes.append(e); i += 1
            }
        }
        var c = EvalConfig()
        c.bootstrapSamples = 2000
        let m = Evaluator(config: c, matchThreshold: 0.5).evaluate(r, stream: RandomStream(seed: 5)).first { $0.name == "mean_reward" }!
        let clusterHalf = 1.959964 * (Stats.variance(userMeans) / Double(users)).squareRoot()
        let naiveHalf = 1.959964 * (Stats.variance(r.episodes.map { $0.reward }) / Double(users * per)).squareRoot()
        let half = (m.ciHigh - m.ciLow) / 2
        XCTAssertGreaterThan(half, 3 * naiveHalf)
        // The bootstrap of a mean of n clusters is slightly narrower than the t interval: within 20%.
        XCTAssertEqual(half, clusterHalf, accuracy: 0.2 * clusterHalf)
    }

    func testLearningCurveBands() {
        let rewards = (0..<1000).map { Double($0 % 2) }
        let c = learningCurve(rewards: rewards, pairingGood: [Bool?](repeating: nil, count: 1000), epsilons: nil, window: 250)
        XCTAssertEqual(c.count, 4)
        XCTAssertEqual(c[0].episodes, 250)
        XCTAssertEqual(c[0].meanReward, 0.5, accuracy: 1e-12)
        let half = 1.959964 * (0.25 * 250 / 249).squareRoot() / 250.0.squareRoot()
        XCTAssertEqual(c[0].ciHigh - c[0].meanReward, half, accuracy: 1e-9)
    }
}

final class GateTests: XCTestCase {
    let sets = [
        AgentMetricSet(agent: "bandit", metrics: [
            MetricValue(name: "mean_reward", value: 0.2, ciLow: 0.15, ciHigh: 0.25, count: 100),
            MetricValue(name: "intervention_fpr", value: 0.04, ciLow: 0.03, ciHigh: 0.06, count: 100),
            MetricValue(name: "bias_parity", value: .nan, ciLow: .nan, ciHigh: .nan, count: 0, note: "no second group"),
        ]),
    ]

    func testRulesPassAndFailOnTheRightNumber() {
        let v = Gate.evaluate([
            GateRule(metric: "mean_reward", agent: "bandit", min: 0.1),
            GateRule(metric: "mean_reward", agent: "bandit", min: 0.18, on: .ciLow),
            GateRule(metric: "intervention_fpr", agent: "bandit", max: 0.05),
            GateRule(metric: "intervention_fpr", agent: "bandit", max: 0.05, on: .ciHigh),
        ], on: sets)
        XCTAssertEqual(v.results.map { $0.passed }, [true, false, true, false])
        XCTAssertFalse(v.passed)
        XCTAssertEqual(v.results[1].measured, 0.15)
        XCTAssertTrue(v.results[1].reason.contains("0.15 < min 0.18"), v.results[1].reason)
    }

    func testMissingMetricAgentOrValueFails() {
        let v = Gate.evaluate([
            GateRule(metric: "trust_score", agent: "bandit", min: 4),
            GateRule(metric: "mean_reward", agent: "ppo", min: 0),
            GateRule(metric: "bias_parity", agent: "bandit", min: 0.9),
        ], on: sets)
        XCTAssertEqual(v.results.map { $0.passed }, [false, false, false])
        XCTAssertTrue(v.results[0].reason.contains("no metric 'trust_score'"))
        XCTAssertTrue(v.results[1].reason.contains("no agent 'ppo'"))
        XCTAssertTrue(v.results[2].reason.contains("not measurable"))
    }

    func testEmptyRuleListPasses() {
        XCTAssertTrue(Gate.evaluate([], on: sets).passed)
    }
}

final class LearningEfficiencyTests: XCTestCase {
    /// Before the shift (t < 10 h) the reward is 0.5; after it the reward is 0 until hour 28 and
    /// 0.4 from then on. With 6-hour windows from the shift, the first window whose mean is within
    /// 5% of the plateau (0.4) ends at 10 + 24 = 34 h... the window [28, 34) is the first all at 0.4:
    /// 24 hours after the shift.
    func testAdaptationHoursOnAConstructedRun() {
        var times: [Double] = [], rewards: [Double] = []
        var t = 0.0
        while t < 100 * 3600 {
            times.append(t)
            rewards.append(t < 10 * 3600 ? 0.5 : (t < 28 * 3600 ? 0 : 0.4))
            t += 600
        }
        var c = EvalConfig()
        c.bootstrapSamples = 100
        let m = Evaluator(config: c, matchThreshold: 0.5).adaptationHours(times: times, rewards: rewards, shiftTime: 10 * 3600,
                                                                          stream: RandomStream(seed: 1))
        XCTAssertEqual(m.value, 24, accuracy: 1e-9)
        XCTAssertEqual(m.ciLow, 24, accuracy: 1e-9)
        XCTAssertEqual(m.ciHigh, 24, accuracy: 1e-9)
        // Never recovering: -1 until the last quarter of the post-shift decisions (the plateau, 0.4).
        var late = rewards
        let post = times.indices.filter { times[$0] >= 10 * 3600 }
        let plateauStart = post.count - post.count / 4
        for (k, i) in post.enumerated() { late[i] = k < plateauStart ? -1 : 0.4 }
        let never = Evaluator(config: c, matchThreshold: 0.5).adaptationHours(times: times, rewards: late, shiftTime: 10 * 3600,
                                                                              stream: RandomStream(seed: 1))
        XCTAssertTrue(never.value.isNaN)
        XCTAssertTrue(never.note!.contains("did not recover"))
    }

    func testTransferRatio() {
        func records(_ perUser: [Double], episodes: Int) -> RunRecords {
            var r = RunRecords()
            var i = 0
            for (u, level) in perUser.enumerated() {
                for _ in 0..<episodes {
                    var e = EpisodeRecord(index: i, user: u, group: 0, time: 0, action: 0, kind: .noAction, propensity: 1)
                    e.reward = level
                    r.episodes.append(e); i += 1
                }
            }
            return r
        }
        let a = records([0.1, 0.2, 0.3, 0.2], episodes: 10)   // mean 0.2
        let b = records([0.2, 0.3, 0.3, 0.4], episodes: 10)   // mean 0.3
        var c = EvalConfig()
        c.bootstrapSamples = 400
        let m = Evaluator(config: c, matchThreshold: 0.5).transferRatio(transferred: a, targetOnly: b, fineTune: 1000, stream: RandomStream(seed: 2))
        XCTAssertEqual(m.value, 2.0 / 3.0, accuracy: 1e-12)
        XCTAssertLessThan(m.ciLow, m.value)
        XCTAssertGreaterThan(m.ciHigh, m.value)
        let bad = Evaluator(config: c, matchThreshold: 0.5).transferRatio(transferred: a, targetOnly: records([-0.1], episodes: 5),
                                                                          fineTune: 1000, stream: RandomStream(seed: 2))
        XCTAssertTrue(bad.value.isNaN)
    }
}

import GymReports

/// Chart text fits: long titles wrap into lines no wider than the chart (measured conservatively),
/// legends wrap into rows, long category labels are shortened.
final class ChartLayoutTests: XCTestCase {
    func testLongTitlesAndLegendsWrapWithinTheWidth() {
        let title = String(repeating: "Mean reward of epsilon_greedy against pairing.daily_exposure_budget ", count: 3)
        let series = (0..<8).map { ChartSeries(label: "a rather long agent name number \($0)", x: [0, 1], y: [0, Double($0)]) }
        let svg = SVGChart.lineChart(title: title, xLabel: "x", yLabel: "y", series: series, width: 600)
        let lines = svg.split(separator: "\n").filter { $0.contains("font-size=\"15\" font-weight=\"bold\"") }
        XCTAssertGreaterThan(lines.count, 2, "the title wraps")
        for l in lines {
            let text = l.split(separator: ">")[1].split(separator: "<")[0]
            XCTAssertLessThanOrEqual(Double(text.count) * 15 * 0.68, 600 - 40 + 1e-9, String(text))
        }
        // Legend entries never start past the right edge, and rows below the plot add height.
        let legendX = svg.split(separator: "\n").filter { $0.contains("a rather long agent name") }.compactMap { line -> Double? in
            guard let r = line.range(of: "x=\"") else { return nil }
            return Double(line[r.upperBound...].prefix { $0 != "\"" })
        }
        XCTAssertEqual(legendX.count, 8)
        XCTAssertTrue(legendX.allSatisfy { $0 < 600 }, "\(legendX)")
        let h = svg.range(of: " height=\"")!
        let height = Double(svg[h.upperBound...].prefix { $0 != "\"" })!
        XCTAssertGreaterThan(height, 420, "taller than the default to hold the wrapped title and legend rows")
        // A category label too long for its slot is shortened with an ellipsis.
        let bars = SVGChart.groupedBars(title: "t", xLabel: "x", yLabel: "y", categories: ["0123456789abcdef0123456789abcdef", "b"],
                                        seriesLabels: ["s"], values: [[0.5, 0.2]], low: [[.nan, .nan]], high: [[.nan, .nan]], width: 300)
        XCTAssertTrue(bars.contains("…"), "long level names are shortened")
    }
}

/// The long-term metrics on hand-made journeys: the discounted return with its penalties, 30-day
/// retention, churn, active days and the Kaplan-Meier survival curve.
final class LongTermMetricTests: XCTestCase {
    func testUserReturnRetentionChurnActiveDaysAndSurvival() {
        let day = 86_400.0
        var r = RunRecords()
        r.groupNames = ["A"]
        r.discountPerDay = 0.5
        r.churnPenalty = -1
        r.optOutPenalty = -2
        func ep(_ user: Int, _ t: Double, _ reward: Double, discounted: Double) -> EpisodeRecord {
            var e = EpisodeRecord(index: r.episodes.count, user: user, group: 0, time: t, action: 0, kind: .noAction, propensity: 1)
            e.reward = reward; e.discountedReward = discounted
            return e
        }
        // User 0: decisions at day 0, 1, 2 and 31 (discounted rewards 1, 1, 1, 1), still active.
        // User 1: decisions at day 0 and 2 (0.5 and 0.25), churns at day 3: penalty -1 x 0.5^3.
        // User 2: one decision at day 40 (first session late), opts out at day 41: penalty -2 x 0.5.
        r.episodes.append(ep(0, 0, 1, discounted: 1))
        r.episodes.append(ep(1, 0, 0.5, discounted: 0.5))
        r.episodes.append(ep(0, day, 1, discounted: 1))
        r.episodes.append(ep(0, 2 * day, 1, discounted: 1))
        r.episodes.append(ep(1, 2 * day, 0.25, discounted: 0.25))
        r.episodes.append(ep(0, 31 * day, 1, discounted: 1))
        r.episodes.append(ep(2, 40 * day, 0.3, discounted: 0.2))
        var u0 = UserOutcome(group: 0, firstSession: 0, leftAt: nil, optedOut: false, trustSurvey: 4); u0.lastSession = 31 * day
        var u1 = UserOutcome(group: 0, firstSession: 0, leftAt: 3 * day, optedOut: false, trustSurvey: 4); u1.lastSession = 2 * day
        var u2 = UserOutcome(group: 0, firstSession: 40 * day, leftAt: 41 * day, optedOut: true, trustSurvey: 4); u2.lastSession = 40 * day
        r.users = [u0, u1, u2, UserOutcome(group: 0, firstSession: nil, leftAt: nil, optedOut: false, trustSurvey: 1)]
        r.duration = 50 * day
        var c = EvalConfig()
        c.bootstrapSamples = 100
        let m = Evaluator(config: c, matchThreshold: 0.5).evaluate(r, stream: RandomStream(seed: 1))
        func v(_ n: String) -> Double { m.first { $0.name == n }!.value }
        let g0 = 1 + 0.5 * 1 + 0.25 * 1 + pow(0.5, 31)
        let g1 = 0.5 + 0.25 * 0.25 + 0.125 * -1
        let g2 = 0.2 + 0.5 * -2
        XCTAssertEqual(v("user_return"), (g0 + g1 + g2) / 3, accuracy: 1e-12)
        // 30-day retention: users 0 and 1 are eligible (user 2's 30 days pass the end); only user 0
        // has a session 30 or more days after the first (user 1 returned within the week, then left).
        XCTAssertEqual(v("retention_30d"), 0.5, accuracy: 1e-12)
        XCTAssertEqual(m.first { $0.name == "retention_30d" }!.count, 2)
        XCTAssertEqual(v("churn_rate"), 1.0 / 3.0, accuracy: 1e-12)
        XCTAssertEqual(v("opt_out_rate"), 1.0 / 3.0, accuracy: 1e-12)
        XCTAssertEqual(v("active_days"), (31.0 + 2.0 + 0.0) / 3, accuracy: 1e-12)
        // Kaplan-Meier: user 2 leaves at day 1 of its journey, user 1 at day 3, user 0 is censored at 50.
        let s = survivalCurve(r, days: 5)
        let expected: [Double] = [1, 2.0 / 3, 2.0 / 3, 1.0 / 3, 1.0 / 3, 1.0 / 3]
        XCTAssertEqual(s.count, expected.count)
        for (a, b) in zip(s, expected) { XCTAssertEqual(a, b, accuracy: 1e-12, "survival") }
    }
}
