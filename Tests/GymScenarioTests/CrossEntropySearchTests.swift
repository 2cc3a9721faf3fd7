import XCTest
import GymRandom
@testable import GymRunner

/// The cross-entropy method on closed-form objectives.
final class CrossEntropySearchTests: XCTestCase {
    /// A quadratic bowl with its minimum at c: the search ends near c, and each round's mean
    /// value falls below the first round's (uniform) mean.
    func testFindsTheMinimumOfABowl() {
        let c = [0.2, 0.75, 0.5]
        let points = CrossEntropySearch.minimise(dimensions: 3, rounds: 6, population: 30, eliteFraction: 0.2, stream: RandomStream(seed: 9)) { batch in
            batch.map { u in zip(u, c).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) } }
        }
        XCTAssertEqual(points.count, 180)
        let best = points.min { $0.value < $1.value }!
        for i in 0..<3 { XCTAssertEqual(best.u[i], c[i], accuracy: 0.06, "coordinate \(i)") }
        func roundMean(_ r: Int) -> Double { let v = points.filter { $0.round == r }.map(\.value); return v.reduce(0, +) / Double(v.count) }
        // Uniform points have E|u - c|^2 = sum (1/12 + (c - 1/2)^2) = 0.4; late rounds sit near c.
        XCTAssertEqual(roundMean(0), 0.25 + 0.0625 + 0.09, accuracy: 0.1)
        XCTAssertLessThan(roundMean(5), roundMean(0) / 10)
        for p in points { XCTAssertTrue(p.u.allSatisfy { $0 >= 0 && $0 <= 1 }) }
    }

    /// NaN values (a metric that could not be measured) never enter the elite.
    func testNaNIsWorst() {
        let points = CrossEntropySearch.minimise(dimensions: 1, rounds: 3, population: 20, eliteFraction: 0.25, stream: RandomStream(seed: 2)) { batch in
            batch.map { $0[0] < 0.5 ? .nan : $0[0] }
        }
        let late = points.filter { $0.round == 2 }
        XCTAssertGreaterThan(late.filter { !$0.value.isNaN }.count, 15, "the search moved to where the metric exists")
        let best = points.filter { !$0.value.isNaN }.min { $0.value < $1.value }!
        XCTAssertEqual(best.u[0], 0.5, accuracy: 0.05)
    }
}
