import Foundation
import XCTest
@testable import GymEval
import GymRandom

/// The online anomaly detectors against known values: the chi-squared tail and test by hand,
/// the CUSUM's in-control run length against Siegmund's approximation, the delay to an injected
/// shift against its expected delay, and silence on long stationary streams.
final class DetectorTests: XCTestCase {
    func testChiSquaredAgainstClosedForms() throws {
        // Two degrees of freedom: P(X > x) = exp(-x / 2); one: erfc(sqrt(x / 2)).
        XCTAssertEqual(SpecialFunctions.chiSquaredUpperTail(3, nu: 2), exp(-1.5), accuracy: 1e-14)
        XCTAssertEqual(SpecialFunctions.chiSquaredUpperTail(3.841458820694124, nu: 1), 0.05, accuracy: 1e-12)
        // [[30, 70], [50, 50]]: expected [[40, 60], [40, 60]], X = 2 (100/40 + 100/60) = 8.3333 on 1 df.
        let t = try XCTUnwrap(chiSquaredHomogeneity([30, 70], [50, 50]))
        XCTAssertEqual(t.statistic, 2 * (100.0 / 40 + 100.0 / 60), accuracy: 1e-12)
        XCTAssertEqual(t.df, 1)
        XCTAssertEqual(t.p, erfc((t.statistic / 2).squareRoot()), accuracy: 1e-12)
        // Columns expected below 5 are pooled: [[100, 1, 1], [100, 2, 0]] -> [[100, 2], [100, 2]], X = 0.
        let pooled = try XCTUnwrap(chiSquaredHomogeneity([100, 1, 1], [100, 2, 0]))
        XCTAssertEqual(pooled.df, 1); XCTAssertEqual(pooled.statistic, 0, accuracy: 1e-12)
        XCTAssertNil(chiSquaredHomogeneity([0, 0], [5, 5]))
    }

    /// In control, the two-sided CUSUM (k 0.5, h 4) alarms on average every 1 / (2 / ARL) batches,
    /// ARL = Siegmund's one-sided 338 (tables give 336): 169. Self-starting, its standardised
    /// values are exactly normal, so the run length does not depend on how long the reference
    /// has been learnt. 300 run lengths of N(0, 1) values (batch of 1; after each alarm 10 values
    /// start the reference, which then grows with every value) estimate it within about 6%.
    func testInControlRunLengthMatchesSiegmund() {
        var c = MeanShiftCUSUM.Config()
        c.batch = 1; c.warmupBatches = 10; c.k = 0.5; c.h = 4
        var d = MeanShiftCUSUM(config: c)
        let s = SeedTree(root: 11).stream(.mt19937)
        var lengths: [Double] = []
        var i = 0, start = c.warmupBatches
        while lengths.count < 300 {
            if d.add(s.standardNormal(), decision: i) != nil { lengths.append(Double(i - start + 1)); start = i + 1 + c.warmupBatches }
            i += 1
        }
        let arl = MeanShiftCUSUM.averageRunLength(shift: 0, k: 0.5, h: 4) / 2
        XCTAssertEqual(arl, 169, accuracy: 2)
        let mean = lengths.reduce(0, +) / 300
        XCTAssertEqual(mean, arl, accuracy: 0.2 * arl, "mean run length \(mean) against Siegmund's \(arl)")
    }

    /// Defaults (batches of 100, k 0.5, h 12): no alarm on 10 stationary streams of 100,000
    /// values, and a shift of 0.3 standard deviations of a value (3 of a batch mean) at decision
    /// 50,000 is found within twice its expected delay of (12 + 1.166) / (3 - 0.5) = 5.3 batches.
    func testRewardShiftFoundAndSilentWhenStationary() {
        var falseAlarms = 0
        for seed in 0..<10 {
            var d = MeanShiftCUSUM()
            let s = SeedTree(root: UInt64(seed)).stream(.mt19937)
            for i in 0..<100_000 where d.add(0.2 + 0.3 * s.standardNormal(), decision: i) != nil { falseAlarms += 1 }
        }
        XCTAssertEqual(falseAlarms, 0)
        var d = MeanShiftCUSUM()
        let s = SeedTree(root: 99).stream(.mt19937)
        var alarms: [DetectorAlarm] = []
        for i in 0..<60_000 {
            let x = 0.2 + (i >= 50_000 ? 0.09 : 0) + 0.3 * s.standardNormal()
            if let a = d.add(x, decision: i) { alarms.append(a) }
        }
        let first = alarms.first?.decision ?? -1
        XCTAssertGreaterThanOrEqual(first, 50_000, "no alarm before the change: \(alarms)")
        XCTAssertLessThanOrEqual(first, 50_000 + 100 * 11, "found within 11 batches: \(alarms)")
        XCTAssertTrue(alarms.first?.reason.contains("moved up") ?? false)
    }

    /// Action shares: silent on 100,000 draws of fixed shares; a change at decision 50,000 is
    /// raised at the end of the first window after it, naming the action that moved most.
    func testActionDrift() {
        func draw(_ p: [Double], _ u: Double) -> Int { var c = 0.0; for (a, x) in p.enumerated() { c += x; if u < c { return a } }; return p.count - 1 }
        var d = ActionShareDrift(actions: 3)
        let s = SeedTree(root: 5).stream(.mt19937)
        var alarms: [DetectorAlarm] = []
        for i in 0..<100_000 { if let a = d.add(action: draw([0.5, 0.3, 0.2], s.uniform()), decision: i) { alarms.append(a) } }
        XCTAssertEqual(alarms, [])
        var e = ActionShareDrift(actions: 3)
        for i in 0..<60_000 {
            let p = i < 50_000 ? [0.5, 0.3, 0.2] : [0.35, 0.35, 0.3]
            if let a = e.add(action: draw(p, s.uniform()), decision: i, label: { ["no_action", "pair", "hive"][$0] }) { alarms.append(a) }
        }
        XCTAssertEqual(alarms.map { $0.decision }, [54_999])
        XCTAssertTrue(alarms.first?.reason.contains("no_action went from") ?? false, "\(alarms)")
    }

    /// Group outcome rates: only the group whose rate dropped is flagged, at the end of the first
    /// window after the drop; nothing on a stationary stream.
    func testGroupDrift() {
        var d = GroupOutcomeDrift(groups: ["A", "B"])
        let s = SeedTree(root: 8).stream(.mt19937)
        var alarms: [DetectorAlarm] = []
        for i in 0..<100_000 {
            let g = s.uniformInt(2)
            alarms += d.add(group: g, success: s.uniform() < 0.6, decision: i)
        }
        XCTAssertEqual(alarms, [])
        var e = GroupOutcomeDrift(groups: ["A", "B"])
        for i in 0..<70_000 {
            let g = s.uniformInt(2)
            let rate = g == 1 && i >= 50_000 ? 0.5 : 0.6
            alarms += e.add(group: g, success: s.uniform() < rate, decision: i)
        }
        XCTAssertEqual(alarms.map { $0.decision }, [59_999])
        XCTAssertTrue(alarms.first?.reason.hasPrefix("group B") ?? false, "\(alarms)")
    }

    /// Robust z-scores by hand: median 3, MAD 1, so 100 scores 0.6745 x 97; with MAD 0 the mean
    /// absolute deviation stands in; identical values flag nothing.
    func testRobustZ() {
        let z = RobustZ.scores([1, 2, 3, 4, 100])
        XCTAssertEqual(z[4], 0.6745 * 97, accuracy: 1e-12); XCTAssertEqual(z[0], -0.6745 * 2, accuracy: 1e-12)
        XCTAssertEqual(RobustZ.outliers([1, 2, 3, 4, 100]), [4])
        XCTAssertEqual(RobustZ.scores([5, 5, 5, 5, 9])[4], 4 / (1.2533 * 0.8), accuracy: 1e-12)
        XCTAssertEqual(RobustZ.outliers([5, 5, 5, 5, 9]), [4])
        XCTAssertEqual(RobustZ.outliers([2, 2, 2]), [])
    }
}
