import Foundation
import GymData

extension TabularFQE {
    /// Time-indexed tabular FQE on a trajectory log with discrete states (the certainty-equivalence
    /// estimate; Le, Voloshin & Yue 2019 with a table as the function class). Backwards from the
    /// last step t = H-1 to 0, Q_t(s, a) is the mean over the log's rows at step t in state s with
    /// action a of  r + f V_{t+1}(row's next row), where f is the discount to the next row (gamma,
    /// or gamma^(days between them)) and V_{t+1}(next) = sum_a' pi(a' | next row) Q_{t+1}(s', a')
    /// (0 after a trajectory's last row). Using the target's distribution at the logged next row
    /// makes this the same estimate for a per-state table and valid for a per-row policy.
    /// Cells without a logged row keep Q = 0 and are counted; rows where the target puts mass on
    /// such a cell are counted as extrapolation.
    public static func fit(_ log: TrajectoryLog, target: TrajectoryTarget, nextFactor f: [Double]) -> StepQ {
        let H = log.horizon, S = max(1, log.states), A = target.actions, n = log.rows.count
        precondition(!log.state.isEmpty, "tabular FQE needs the log's discrete states")
        // Rows by step.
        var byStep = [[Int]](repeating: [], count: H)
        for i in 0..<log.count { for j in log.offsets[i]..<log.offsets[i + 1] { byStep[j - log.offsets[i]].append(j) } }
        var isLast = [Bool](repeating: false, count: n)
        for i in 0..<log.count where log.offsets[i + 1] > log.offsets[i] { isLast[log.offsets[i + 1] - 1] = true }
        var out = StepQ(logged: [Double](repeating: 0, count: n), value: [Double](repeating: 0, count: n), model: "tabular, time-indexed")
        var qNext = [Double](repeating: 0, count: S * A), seenNext = [Bool](repeating: false, count: S * A)
        var extrapolated = 0.0
        for t in stride(from: H - 1, through: 0, by: -1) {
            var sum = [Double](repeating: 0, count: S * A), count = sum
            for j in byStep[t] {
                var y = log.rows.reward[j]
                if !isLast[j] {
                    let k = target.key(log, row: j + 1), s2 = Int(log.state[j + 1])
                    var v = 0.0
                    for a in 0..<A { v += target.table[k * A + a] * qNext[s2 * A + a] }
                    y += f[j] * v
                }
                let c = Int(log.state[j]) * A + Int(log.rows.action[j])
                sum[c] += y; count[c] += 1
            }
            var q = [Double](repeating: 0, count: S * A), seen = [Bool](repeating: false, count: S * A)
            for c in 0..<(S * A) {
                if count[c] > 0 { q[c] = sum[c] / count[c]; seen[c] = true } else { out.emptyCells += 1 }
            }
            for j in byStep[t] {
                let k = target.key(log, row: j), s = Int(log.state[j])
                var v = 0.0, missing = 0.0
                for a in 0..<A {
                    let p = target.table[k * A + a]
                    v += p * q[s * A + a]
                    if !seen[s * A + a] { missing += p }
                }
                out.logged[j] = q[s * A + Int(log.rows.action[j])]
                out.value[j] = v
                if missing > 0 { out.extrapolatedRows += 1; extrapolated += missing }
            }
            qNext = q; seenNext = seen
        }
        _ = seenNext
        out.extrapolatedMass = out.extrapolatedRows > 0 ? extrapolated / Double(out.extrapolatedRows) : 0
        return out
    }
}
