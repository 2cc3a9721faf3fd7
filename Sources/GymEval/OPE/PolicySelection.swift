import Foundation

/// Off-policy selection: ranking candidate policies by their estimates, and the assessment of a
/// ranking against the true values (SCOPE-RL's policy-selection metrics; Kiyohara et al. 2023,
/// "Towards Assessing and Benchmarking Risk-Return Tradeoff of Off-Policy Evaluation",
/// arXiv:2311.18207).
public enum PolicySelection {
    /// Indices ordered by value, highest first; ties keep the lower index first.
    public static func ranking(_ values: [Double]) -> [Int] {
        values.indices.sorted { values[$0] != values[$1] ? values[$0] > values[$1] : $0 < $1 }
    }

    /// Ranks from 1 (the highest value), ties sharing their average rank.
    public static func averageRanks(_ values: [Double]) -> [Double] {
        let order = ranking(values)
        var ranks = [Double](repeating: 0, count: values.count)
        var i = 0
        while i < order.count {
            var j = i
            while j + 1 < order.count && values[order[j + 1]] == values[order[i]] { j += 1 }
            for k in i...j { ranks[order[k]] = Double(i + j) / 2 + 1 }
            i = j + 1
        }
        return ranks
    }

    /// Spearman's rank correlation: Pearson's correlation of the average ranks (NaN when either
    /// side is constant).
    public static func spearman(_ x: [Double], _ y: [Double]) -> Double {
        let rx = averageRanks(x), ry = averageRanks(y), n = Double(x.count)
        let mx = rx.reduce(0, +) / n, my = ry.reduce(0, +) / n
        var sxy = 0.0, sxx = 0.0, syy = 0.0
        for i in 0..<x.count { sxy += (rx[i] - mx) * (ry[i] - my); sxx += (rx[i] - mx) * (rx[i] - mx); syy += (ry[i] - my) * (ry[i] - my) }
        return sxx > 0 && syy > 0 ? sxy / (sxx * syy).squareRoot() : .nan
    }

    /// Normalised mean squared error: mean of (estimate - truth)^2 over the candidates, divided by
    /// the squared spread of the true values (max - min)^2, so that it reads on the scale of the
    /// differences being selected among (NaN when every truth is equal).
    public static func nmse(estimates e: [Double], truths t: [Double]) -> Double {
        let spread = (t.max() ?? 0) - (t.min() ?? 0)
        let mse = zip(e, t).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) } / Double(max(1, t.count))
        return spread > 0 ? mse / (spread * spread) : .nan
    }

    /// The true values of the k candidates ranked highest by `scores`.
    public static func topK(_ k: Int, scores: [Double], truths: [Double]) -> [Double] {
        ranking(scores).prefix(k).map { truths[$0] }
    }

    /// regret@k: the best true value among all candidates minus the best true value among the top
    /// k by the scores (0 when the true best is among them).
    public static func regret(at k: Int, scores: [Double], truths: [Double]) -> Double {
        (truths.max() ?? .nan) - (topK(k, scores: scores, truths: truths).max() ?? .nan)
    }

    /// SharpeRatio@k (Kiyohara et al. 2023): (best@k - J(pi_b)) / std@k, where best@k is the best
    /// true value among the top k by the scores, std@k the standard deviation of their true values
    /// (ddof 1, as SCOPE-RL computes it), J(pi_b) the behaviour policy's true value, and the
    /// numerator is clipped at 0 (SCOPE-RL's `np.clip(best - baseline, 0, None)`). The behaviour
    /// must be among the candidates. NaN for k < 2 (one value has no standard deviation); +inf
    /// when the top k have equal true values and best@k beats the behaviour.
    public static func sharpeRatio(at k: Int, scores: [Double], truths: [Double], behaviourTruth: Double) -> Double {
        guard k >= 2 else { return .nan }
        let top = topK(k, scores: scores, truths: truths)
        guard top.count >= 2 else { return .nan }
        let m = top.reduce(0, +) / Double(top.count)
        let sd = (top.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(top.count - 1)).squareRoot()
        let gain = max(0, (top.max() ?? .nan) - behaviourTruth)
        if sd == 0 { return gain > 0 ? .infinity : .nan }
        return gain / sd
    }
}
