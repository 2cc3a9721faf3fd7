import Foundation
import GymData
import GymRandom

/// FQE with a linear Q over numeric context, cross-fitted over trajectories: for logs without a
/// discrete state (the simulator's journeys, whose context is the agent's observation).
///
/// Q(x, a) = theta_a . phi(x), phi(x) = [1, standardised context, step / longest trajectory].
/// Fitted Q evaluation with a linear function class and a ridge penalty converges to the fixed
/// point theta = (sum_j phi_j (phi_j - f_j phibar'_j)^T + lambda n I)^-1 sum_j phi_j r_j (LSTDQ,
/// Lagoudakis & Parr 2003; the FQE fixed point of Le, Voloshin & Yue 2019 for this class), where
/// phi_j is the row's features in its action's block, phibar'_j = sum_a' pi(a' | next row)
/// phi(next row, a') and f_j the discount to the next row (0 after the last). It is solved
/// directly. Cross-fitting: trajectories are split into `folds` by a seeded permutation
/// (stream `ope.fqe.folds`); Q at a
/// row comes from the fit on the other folds, so `dr` stays unbiased whatever the fit.
public enum LinearFQE {
    public static func fit(_ log: TrajectoryLog, target: TrajectoryTarget, nextFactor f: [Double], folds: Int = 2, lambda: Double = 1e-3,
                           seed: SeedTree) -> StepQ {
        let n = log.rows.count, D = log.rows.contextDimension, A = target.actions, P = D + 2, H = Double(max(1, log.horizon))
        // Standardisation over the whole log (no outcome enters it).
        var mean = [Double](repeating: 0, count: D), sd = mean
        for j in 0..<n { for d in 0..<D { mean[d] += log.rows.context[j * D + d] } }
        for d in 0..<D { mean[d] /= Double(max(1, n)) }
        for j in 0..<n { for d in 0..<D { let z = log.rows.context[j * D + d] - mean[d]; sd[d] += z * z } }
        for d in 0..<D { sd[d] = (sd[d] / Double(max(1, n))).squareRoot(); if sd[d] < 1e-12 { sd[d] = 1 } }
        var step = [Int](repeating: 0, count: n)
        var isLast = [Bool](repeating: false, count: n)
        for i in 0..<log.count {
            for j in log.offsets[i]..<log.offsets[i + 1] { step[j] = j - log.offsets[i] }
            if log.offsets[i + 1] > log.offsets[i] { isLast[log.offsets[i + 1] - 1] = true }
        }
        func features(_ j: Int, _ out: inout [Double]) {
            out[0] = 1
            for d in 0..<D { out[1 + d] = (log.rows.context[j * D + d] - mean[d]) / sd[d] }
            out[D + 1] = Double(step[j]) / H
        }
        // Folds by trajectory.
        let k = max(2, min(folds, log.count))
        var order = Array(0..<log.count)
        let shuffle = seed.child("ope.fqe.folds").stream(.taus2)
        for i in stride(from: log.count - 1, to: 0, by: -1) { order.swapAt(i, shuffle.uniformInt(i + 1)) }
        var fold = [Int](repeating: 0, count: log.count)
        for (r, i) in order.enumerated() { fold[i] = r % k }
        var out = StepQ(logged: [Double](repeating: 0, count: n), value: [Double](repeating: 0, count: n),
                        model: "linear FQE (LSTDQ fixed point, ridge \(lambda), \(k)-fold cross-fitted over trajectories)")
        var phi = [Double](repeating: 0, count: P), next = phi
        let dim = A * P
        var worst = 0.0
        for held in 0..<k {
            var M = [Double](repeating: 0, count: dim * dim), b = [Double](repeating: 0, count: dim)
            var rows = 0
            for i in 0..<log.count where fold[i] != held {
                for j in log.offsets[i]..<log.offsets[i + 1] {
                    rows += 1
                    features(j, &phi)
                    let a = Int(log.rows.action[j])
                    // phi_j phi_j^T in block (a, a).
                    for u in 0..<P { for v in 0..<P { M[(a * P + u) * dim + a * P + v] += phi[u] * phi[v] } ; b[a * P + u] += phi[u] * log.rows.reward[j] }
                    if !isLast[j] && f[j] > 0 {
                        features(j + 1, &next)
                        let key = target.key(log, row: j + 1)
                        for a2 in 0..<A {
                            let w = f[j] * target.table[key * A + a2]
                            guard w != 0 else { continue }
                            for u in 0..<P { let x = phi[u] * w; for v in 0..<P { M[(a * P + u) * dim + a2 * P + v] -= x * next[v] } }
                        }
                    }
                }
            }
            for d in 0..<dim { M[d * dim + d] += lambda * Double(max(1, rows)) }
            let theta = solve(M, b, n: dim) ?? [Double](repeating: 0, count: dim)
            for i in 0..<log.count where fold[i] == held {
                for j in log.offsets[i]..<log.offsets[i + 1] {
                    features(j, &phi)
                    let key = target.key(log, row: j)
                    var v = 0.0
                    for a in 0..<A {
                        var q = 0.0
                        for u in 0..<P { q += theta[a * P + u] * phi[u] }
                        v += target.table[key * A + a] * q
                        if a == Int(log.rows.action[j]) { out.logged[j] = q }
                    }
                    out.value[j] = v
                    worst = max(worst, abs(v))
                }
            }
        }
        out.notes.append(String(format: "largest |V| predicted %.4g", worst))
        return out
    }

    /// Gaussian elimination with partial pivoting (nil if singular).
    static func solve(_ a: [Double], _ b: [Double], n: Int) -> [Double]? {
        var m = a, x = b
        for c in 0..<n {
            var p = c
            for r in (c + 1)..<max(c + 1, n) where abs(m[r * n + c]) > abs(m[p * n + c]) { p = r }
            guard abs(m[p * n + c]) > 1e-300 else { return nil }
            if p != c {
                for k in 0..<n { m.swapAt(c * n + k, p * n + k) }
                x.swapAt(c, p)
            }
            let inv = 1 / m[c * n + c]
            for r in (c + 1)..<max(c + 1, n) {
                let factor = m[r * n + c] * inv
                guard factor != 0 else { continue }
                for k in c..<n { m[r * n + k] -= factor * m[c * n + k] }
                x[r] -= factor * x[c]
            }
        }
        for c in stride(from: n - 1, through: 0, by: -1) {
            var s = x[c]
            for k in (c + 1)..<max(c + 1, n) { s -= m[c * n + k] * x[k] }
            x[c] = s / m[c * n + c]
        }
        return x
    }
}
