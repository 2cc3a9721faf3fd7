import Foundation
import GymRandom

/// Bernoulli Thompson sampling over items with a Beta prior per item and no updates (the
/// ZOZOTOWN prior-only policy): each round it draws theta_i ~ Beta(alpha_i, beta_i) for every item
/// and shows the items with the largest draws at positions 0, 1, 2, ... Its probability of item i
/// at position k is
///   P(i at k) = integral f_i(x) P(exactly k of the other items draw more than x) dx,
/// computed here by the trapezoid rule on a uniform grid of x covering every item's mass
/// (`gridPoints` nodes up to the largest 1 - 1e-12 quantile), with the exact Poisson-binomial
/// recursion for "exactly k of the others" at each node. OBP estimates the same table by
/// simulating the draws (`compute_batch_action_dist`, n_sim rounds); `simulate` does that too,
/// for comparison.
public enum BernoulliTSTable {
    public static func integrate(alpha: [Double], beta: [Double], positions: Int, gridPoints: Int = 40_000) -> [Double] {
        let K = alpha.count
        precondition(beta.count == K && K >= positions && positions >= 1)
        var xmax = 0.0
        for i in 0..<K { xmax = max(xmax, SpecialFunctions.betaUpperQuantile(1e-12, alpha[i], beta[i])) }
        xmax = min(1, xmax)
        let M = max(16, gridPoints)
        let dx = xmax / Double(M - 1)
        var table = [Double](repeating: 0, count: K * positions)
        var s = [Double](repeating: 0, count: K), f = s
        var e = [Double](repeating: 0, count: positions)
        for m in 0..<M {
            let x = Double(m) * dx
            let weight = (m == 0 || m == M - 1) ? 0.5 * dx : dx
            for j in 0..<K {
                s[j] = x <= 0 ? 1 : SpecialFunctions.betaUpperTail(x, alpha[j], beta[j])
                f[j] = x <= 0 || x >= 1 ? 0 : SpecialFunctions.betaDensity(x, alpha[j], beta[j])
            }
            for i in 0..<K where f[i] > 0 {
                // P(exactly k of the others exceed x), k < positions.
                for k in 0..<positions { e[k] = k == 0 ? 1 : 0 }
                for j in 0..<K where j != i {
                    let sj = s[j], tj = 1 - sj
                    for k in stride(from: positions - 1, through: 1, by: -1) { e[k] = e[k] * tj + e[k - 1] * sj }
                    e[0] *= tj
                }
                let w = weight * f[i]
                for k in 0..<positions { table[i * positions + k] += w * e[k] }
            }
        }
        return table
    }

    /// The same table by simulation: `rounds` draws of every item's theta from `stream`.
    public static func simulate(alpha: [Double], beta: [Double], positions: Int, rounds: Int, stream: RandomStream) -> [Double] {
        let K = alpha.count
        var counts = [Double](repeating: 0, count: K * positions)
        var theta = [Double](repeating: 0, count: K)
        var top = [Int](repeating: 0, count: positions)
        for _ in 0..<rounds {
            for i in 0..<K { theta[i] = stream.beta(alpha[i], beta[i]) }
            for k in 0..<positions {
                var best = -1
                for i in 0..<K where !top[0..<k].contains(i) && (best < 0 || theta[i] > theta[best]) { best = i }
                top[k] = best
                counts[best * positions + k] += 1
            }
        }
        return counts.map { $0 / Double(rounds) }
    }
}
