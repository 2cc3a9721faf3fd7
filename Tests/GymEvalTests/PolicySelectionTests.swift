import Foundation
import XCTest
@testable import GymEval

/// The policy-selection metrics against hand-computed values and SciPy's documented example.
final class PolicySelectionTests: XCTestCase {
    /// scipy.stats.spearmanr([1, 2, 3, 4, 5], [5, 6, 7, 8, 7]) = 0.8207826816681233 (SciPy's
    /// documentation example; the two 7s share rank 3.5).
    func testSpearmanMatchesSciPyWithTies() {
        XCTAssertEqual(PolicySelection.spearman([1, 2, 3, 4, 5], [5, 6, 7, 8, 7]), 0.8207826816681233, accuracy: 1e-15)
        XCTAssertEqual(PolicySelection.spearman([1, 2, 3], [30, 20, 10]), -1, accuracy: 1e-15)
        XCTAssertTrue(PolicySelection.spearman([1, 1, 1], [1, 2, 3]).isNaN)
        XCTAssertEqual(PolicySelection.averageRanks([5, 6, 7, 8, 7]), [5, 4, 2.5, 1, 2.5])
    }

    /// Truths [1, 3, 2, 5, 4] (candidate 0 is the behaviour), estimates [0.5, 2.9, 2.5, 4, 5]:
    /// the estimator's order is 4, 3, 1, 2, 0.
    func testRegretSharpeAndNMSEByHand() {
        let truth = [1.0, 3, 2, 5, 4], est = [0.5, 2.9, 2.5, 4, 5]
        XCTAssertEqual(PolicySelection.ranking(est), [4, 3, 1, 2, 0])
        // errors -0.5, -0.1, 0.5, -1, 1: mean square 2.51 / 5, over the range 4 squared.
        XCTAssertEqual(PolicySelection.nmse(estimates: est, truths: truth), 2.51 / 5 / 16, accuracy: 1e-15)
        // regret@1: the true best (5) minus the truth of the top-1 (4); the top-2 holds the best.
        XCTAssertEqual(PolicySelection.regret(at: 1, scores: est, truths: truth), 1)
        XCTAssertEqual(PolicySelection.regret(at: 2, scores: est, truths: truth), 0)
        // SharpeRatio@2: top-2 truths {4, 5}: (5 - 1) / std(4, 5; ddof 1) = 4 / sqrt(0.5).
        XCTAssertEqual(PolicySelection.sharpeRatio(at: 2, scores: est, truths: truth, behaviourTruth: 1), 4 / 0.5.squareRoot(), accuracy: 1e-12)
        // @3: truths {4, 5, 3}: std 1, (5 - 1) / 1.
        XCTAssertEqual(PolicySelection.sharpeRatio(at: 3, scores: est, truths: truth, behaviourTruth: 1), 4, accuracy: 1e-12)
        // The numerator is clipped at 0 when the behaviour beats the whole top k.
        XCTAssertEqual(PolicySelection.sharpeRatio(at: 3, scores: est, truths: truth, behaviourTruth: 6), 0)
        XCTAssertTrue(PolicySelection.sharpeRatio(at: 1, scores: est, truths: truth, behaviourTruth: 1).isNaN)
        // A perfect estimator: no regret, rank correlation 1, nMSE 0.
        XCTAssertEqual(PolicySelection.regret(at: 1, scores: truth, truths: truth), 0)
        XCTAssertEqual(PolicySelection.spearman(truth, truth), 1, accuracy: 1e-15)
        XCTAssertEqual(PolicySelection.nmse(estimates: truth, truths: truth), 0)
    }

    /// SCOPE-RL's example 1 in spirit: an estimator that overestimates a poor policy into its
    /// top 2 has the same regret@2 as one that underestimates the near-best, but a lower
    /// SharpeRatio@2 (a larger spread among the policies it sends to A/B tests).
    func testSharpeRatioSeesTheRiskThatRegretMisses() {
        let truth = [1.0, 0.0, 4.0, 5.0]
        let under = [1.0, 0.0, 4.5, 4.6]   // top 2: {5, 4}
        let over = [1.0, 6.0, 2.0, 5.5]    // top 2: {0, 5}
        XCTAssertEqual(PolicySelection.regret(at: 2, scores: under, truths: truth), PolicySelection.regret(at: 2, scores: over, truths: truth))
        XCTAssertGreaterThan(PolicySelection.sharpeRatio(at: 2, scores: under, truths: truth, behaviourTruth: 1),
                             PolicySelection.sharpeRatio(at: 2, scores: over, truths: truth, behaviourTruth: 1))
    }
}
