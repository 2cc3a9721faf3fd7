import Foundation

/// Reward signals of a log, one entry per signal (see `LogImport.rewardSignals`).
public struct RewardSignals: Sendable {
    public let path: String
    /// Rows of the log.
    public let rows: Int
    public var row: [Int] = [], kind: [String] = [], value: [Double] = [], latency: [Double] = [], line: [Int] = []

    init(path: String, rows: Int) { self.path = path; self.rows = rows }

    /// Delayed rewards at cut-off times: each row's reward as the weighted sum of the signals that
    /// had arrived by the cut-off (decision time `times[row]` + latency <= cut-off); signals not yet
    /// arrived count as missing (contribute nothing). `weights` maps signal_type to its weight; a
    /// type without one is an error naming its first line. Returns one reward vector per cut-off,
    /// the share of signals arrived at each, and the rewards with every signal.
    public func rewards(times: [Double], weights: [String: Double], cutoffs: [Double]) throws -> (rewards: [[Double]], arrived: [Double], all: [Double]) {
        var out = [[Double]](repeating: [Double](repeating: 0, count: rows), count: cutoffs.count)
        var all = [Double](repeating: 0, count: rows)
        var arrived = [Int](repeating: 0, count: cutoffs.count)
        for j in row.indices {
            guard let w = weights[kind[j]] else {
                throw DataError(file: path, line: line[j], column: "signal_type",
                                message: "'\(kind[j])' has no reward weight (known: \(weights.keys.sorted().joined(separator: ", ")))")
            }
            let i = row[j], c = w * value[j]
            all[i] += c
            let at = times[i] + latency[j]
            for (k, cut) in cutoffs.enumerated() where at <= cut { out[k][i] += c; arrived[k] += 1 }
        }
        return (out, arrived.map { row.isEmpty ? 1 : Double($0) / Double(row.count) }, all)
    }
}
