import XCTest
import GymCore
import GymRandom
import GymTestSupport
@testable import GymSim

/// A user's successive decisions form one journey: the world says where each decision sits in
/// it, when journeys end, and discounts each signal by its latency.
final class JourneyTests: XCTestCase {
    func testContextsEndsAndDiscountedRewards() {
        var c = smallSimConfig(users: 150)
        c.sessions.maxDays = 20
        c.churn.dailyBase = 0.05              // enough churn to see journeys end
        c.discount.perDay = 0.9
        let world = JourneyWorld(config: c)
        world.reset(seed: SeedTree(root: 31))
        let pick = RandomStream(seed: 32)
        var steps: [Int: Int] = [:], last: [Int: Double] = [:]
        var ends: [JourneyEnd] = []
        var checked = 0
        while !world.isDone && checked < 20_000 {
            let ctx = world.decisionContext
            XCTAssertEqual(ctx.user, world.currentUser)
            XCTAssertEqual(ctx.journeyStep, steps[ctx.user, default: 0], "journey step of user \(ctx.user)")
            XCTAssertEqual(ctx.elapsed, last[ctx.user].map { ctx.time - $0 } ?? 0, accuracy: 1e-9)
            XCTAssertFalse(ends.contains { $0.user == ctx.user }, "no decision after a user's journey ended")
            steps[ctx.user, default: 0] += 1
            last[ctx.user] = ctx.time
            let allowed = world.actionMask.indices.filter { world.actionMask[$0] }
            let r = world.step(ActionChoice(action: allowed[pick.uniformInt(allowed.count)], propensity: 1))
            for f in r.feedback { XCTAssertGreaterThanOrEqual(f.latency, 0) }
            ends += r.endedJourneys
            checked += 1
        }
        let records = world.finish(surveySeed: SeedTree(root: 33))
        // Every user who left after a session has exactly one end, at the time and of the kind recorded.
        let left = records.users.enumerated().filter { $0.element.leftAt != nil && $0.element.firstSession != nil }
        XCTAssertGreaterThan(left.count, 10)
        XCTAssertEqual(Set(ends.map(\.user)).count, ends.count)
        for (u, o) in left {
            guard let e = ends.first(where: { $0.user == u }) else { XCTFail("user \(u) left without a journey end"); continue }
            XCTAssertEqual(e.time, o.leftAt!)
            XCTAssertEqual(e.optedOut, o.optedOut)
        }
        XCTAssertEqual(records.discountPerDay, 0.9)
        // The discounted reward of each decision is its signals, each discounted by its latency.
        var worst = 0.0
        for e in records.episodes.prefix(3000) {
            var d = 0.0
            for s in records.signals[e.firstSignal..<(e.firstSignal + e.signalCount)] {
                d += pow(0.9, s.latency / 86_400) * c.rewards.weight(s.kind.rawValue, at: e.time) * s.value
            }
            worst = max(worst, abs(d - e.discountedReward))
            XCTAssertEqual(e.journeyStep >= 0, true)
        }
        XCTAssertLessThan(worst, 1e-12)
        XCTAssertTrue(records.episodes.contains { $0.discountedReward != $0.reward }, "late signals are discounted")
    }

    /// The observation's pace features count the suggestions a user received in the last day and
    /// week and the acceptances in the last week.
    func testPaceFeaturesCountRecentSuggestions() {
        var c = smallSimConfig(users: 40)
        c.population.activityMean = 8
        c.churn.dailyBase = 1e-9; c.churn.fatigue = 0; c.churn.distress = 0; c.churn.ignoredDistress = 0; c.churn.trust = 0
        let world = JourneyWorld(config: c)
        let seg = world.observationLayout.segment("user")!
        let iDay = seg.index(named: "suggestions_day")!, iWeek = seg.index(named: "suggestions_week")!
        world.reset(seed: SeedTree(root: 5))
        var touches: [Int: [Double]] = [:]
        var n = 0
        while !world.isDone && n < 4000 {
            let u = world.currentUser, t = world.currentTime
            let day = Double(touches[u, default: []].filter { t - $0 <= 86_400 }.suffix(JourneyWorld.touchSlots).count)
            let week = Double(touches[u, default: []].filter { t - $0 <= 7 * 86_400 }.suffix(JourneyWorld.touchSlots).count)
            XCTAssertEqual(world.observation[iDay], log1p(min(day, Double(JourneyWorld.touchSlots))), accuracy: 1e-12)
            XCTAssertEqual(world.observation[iWeek], log1p(min(week, Double(JourneyWorld.touchSlots))), accuracy: 1e-12)
            // Always an intervention (a suggestion to the user), never a pairing: touches are this user's own.
            let a = world.actionLayout.families.first { $0.name == "intervention" }!.range.lowerBound
            _ = world.step(ActionChoice(action: a, propensity: 1))
            touches[u, default: []].append(t)
            n += 1
        }
        XCTAssertGreaterThan(touches.values.map(\.count).max()!, 10)
    }
}
