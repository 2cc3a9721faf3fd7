import XCTest
@testable import GymEval

/// The circuit breakers' state machine on hand-made decision streams.
final class CircuitBreakerTests: XCTestCase {
    func obs(group: Int = 0, distressed: Bool = false, intervention: Bool = false, success: Bool = false, optOuts: Int = 0) -> BreakerObservation {
        BreakerObservation(group: group, distressed: distressed, isIntervention: intervention, success: success, optOuts: optOuts)
    }

    func config(_ kind: BreakerConfig.Kind, threshold: Double, window: Int, min: Int = 1, cooldown: Int = 5) -> BreakerConfig {
        var c = BreakerConfig()
        c.kind = kind; c.threshold = threshold; c.window = window; c.minDecisions = min; c.cooldown = cooldown
        return c
    }

    /// FPR over a window of 10 with at least 4 users not distressed: distressed decisions do not
    /// count; the 2nd false positive among 4 not distressed (0.5 > 0.4) trips it.
    func testFalsePositiveRateTripsAtTheExactDecision() {
        var b = CircuitBreaker(config: config(.interventionFPR, threshold: 0.4, window: 10, min: 4), groups: 1)
        let stream = [obs(distressed: true, intervention: true), obs(intervention: true), obs(), obs(distressed: true), obs(), obs(intervention: true)]
        var tripped: Int?
        for (k, o) in stream.enumerated() {
            XCTAssertFalse(b.beforeDecision(k))
            b.afterDecision(k, o, alarms: [])
            if b.isOpen && tripped == nil { tripped = k }
        }
        // After decision 4: 1 of 3 not distressed (too few). After 5: 2 of 4 = 0.5 > 0.4.
        XCTAssertEqual(tripped, 5)
        XCTAssertEqual(b.trips.first?.statistic ?? -1, 0.5, accuracy: 1e-12)
    }

    /// The window slides: old false positives leave it.
    func testTheWindowSlides() {
        var b = CircuitBreaker(config: config(.interventionFPR, threshold: 0.5, window: 4, min: 4), groups: 1)
        let stream = [obs(intervention: true), obs(intervention: true), obs(), obs(), obs(), obs(intervention: true), obs(intervention: true)]
        var opened: [Int] = []
        for (k, o) in stream.enumerated() {
            _ = b.beforeDecision(k)
            b.afterDecision(k, o, alarms: [])
            if b.isOpen { opened.append(k) }
        }
        // Windows of 4: [FP FP . .] 0.5, [FP . . .] 0.25, [. . . FP] 0.25, [. . FP FP] 0.5: never above 0.5.
        XCTAssertEqual(opened, [])
    }

    /// Cooldown: open for exactly `cooldown` decisions after the trip, then closed with an empty window.
    func testCooldownAndReset() {
        var b = CircuitBreaker(config: config(.interventionFPR, threshold: 0.1, window: 5, min: 1, cooldown: 3), groups: 1)
        XCTAssertFalse(b.beforeDecision(0))
        b.afterDecision(0, obs(intervention: true), alarms: [])
        XCTAssertTrue(b.isOpen)
        XCTAssertEqual((1...3).map { b.beforeDecision($0) }, [true, true, true])
        for k in 1...3 { b.afterDecision(k, obs(intervention: true), alarms: []) }   // ignored while open
        XCTAssertEqual(b.trips.count, 1)
        XCTAssertFalse(b.beforeDecision(4))
        XCTAssertEqual(b.trips[0].closedAt, 4)
        b.afterDecision(4, obs(), alarms: [])
        XCTAssertFalse(b.isOpen, "the window restarted empty: one clean decision")
        XCTAssertFalse(b.beforeDecision(5))
        b.afterDecision(5, obs(intervention: true), alarms: [])
        XCTAssertTrue(b.isOpen)
        XCTAssertEqual(b.trips[1].statistic, 0.5, accuracy: 1e-12)
    }

    /// Parity: lowest group success rate over the highest, among groups with enough decisions.
    func testGroupParity() {
        var b = CircuitBreaker(config: config(.groupParity, threshold: 0.9, window: 100, min: 4), groups: 3)
        // Group 0: 3 of 4 succeed; group 1: 2 of 4 (parity 2/3 once both have 4); group 2: 1 decision (ignored).
        let stream = [obs(group: 0, success: true), obs(group: 1, success: true), obs(group: 0, success: true), obs(group: 1),
                      obs(group: 2), obs(group: 0, success: true), obs(group: 1, success: true), obs(group: 0), obs(group: 1)]
        var at: Int?
        for (k, o) in stream.enumerated() {
            _ = b.beforeDecision(k)
            b.afterDecision(k, o, alarms: [])
            if b.isOpen && at == nil { at = k }
        }
        XCTAssertEqual(at, 8)
        XCTAssertEqual(b.trips[0].statistic, (2.0 / 4) / (3.0 / 4), accuracy: 1e-12)
    }

    /// Opt-out rate waits for a full window.
    func testOptOutRateNeedsAFullWindow() {
        var b = CircuitBreaker(config: config(.optOutRate, threshold: 0.2, window: 5), groups: 1)
        let stream = [obs(optOuts: 2), obs(), obs(), obs(), obs(), obs(optOuts: 1)]
        var at: Int?
        for (k, o) in stream.enumerated() {
            _ = b.beforeDecision(k)
            b.afterDecision(k, o, alarms: [])
            if b.isOpen && at == nil { at = k }
        }
        // After decision 4: 2 of 5 = 0.4 > 0.2 (the first full window).
        XCTAssertEqual(at, 4)
        XCTAssertEqual(b.trips[0].statistic, 0.4, accuracy: 1e-12)
    }

    /// A detector breaker trips on its detector's alarm; `any` ignores the outlier screen.
    func testDetectorBreaker() {
        var c = config(.detector, threshold: 0, window: 1)
        var any = CircuitBreaker(config: c, groups: 1)
        any.afterDecision(0, obs(), alarms: ["outlier_user"])
        XCTAssertFalse(any.isOpen)
        any.afterDecision(1, obs(), alarms: ["group_drift"])
        XCTAssertTrue(any.isOpen)
        c.detector = "reward_shift"
        var one = CircuitBreaker(config: c, groups: 1)
        one.afterDecision(0, obs(), alarms: ["action_drift"])
        XCTAssertFalse(one.isOpen)
        one.afterDecision(1, nil, alarms: ["reward_shift"])
        XCTAssertTrue(one.isOpen, "heard during another breaker's fallback too")
    }

    /// The suite: while one breaker holds the fallback, the decisions do not enter the other
    /// breakers' windows; fallback decisions and open shares are counted.
    func testSuiteCountsAndExcludesFallbackDecisions() {
        var safety = SafetyConfig()
        safety.chartEvery = 4
        safety.breakers = [config(.interventionFPR, threshold: 0.1, window: 3, min: 1, cooldown: 2),
                           config(.optOutRate, threshold: 0.5, window: 2)]
        safety.breakers[1].name = "optout"
        var s = BreakerSuite(config: safety, groups: 1)
        var fallback: [Bool] = []
        for k in 0..<8 {
            fallback.append(s.fallbackDecides(k))
            // Decision 0 is a false positive; decisions 1-2 (under the fallback) are opt-out storms
            // the opt-out breaker must not see; 3-7 are clean.
            s.afterDecision(k, k == 0 ? obs(intervention: true) : obs(optOuts: (1...2).contains(k) ? 5 : 0), alarms: [])
        }
        XCTAssertEqual(fallback, [false, true, true, false, false, false, false, false])
        XCTAssertEqual(s.fallbackDecisions, 2)
        XCTAssertEqual(s.trips.map(\.breaker), ["intervention_fpr"])
        XCTAssertEqual(s.openDecisions, [2, 0])
        XCTAssertEqual(s.openShares[0].shares, [0.5, 0])
    }

    func testFallbackMasks() {
        let mask = [true, true, false, true, true]
        let isIntervention: (Int) -> Bool = { $0 >= 3 }
        XCTAssertEqual(FallbackPolicy.noAction.restrict(mask, isIntervention: isIntervention), [true, false, false, false, false])
        XCTAssertEqual(FallbackPolicy.noIntervention.restrict(mask, isIntervention: isIntervention), [true, true, false, false, false])
    }
}
