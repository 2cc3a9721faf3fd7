import Foundation
import GymData
import GymRandom

/// FQE with a linear Q over numeric context, cross-fitted over trajectories: for logs without a
/// discrete state (the simulator's journeys, whose context is the agent's observation).
///
/// Q(x, a) = theta_a . phi(x), phi(x) = [1, standardised context, step / longest trajectory].
/// Fitted Q evaluation (Le, Voloshin & Yue 2019) with this class: starting from theta = 0, each
/// iteration regresses, per action, the targets r_j + f_j V_theta(next row) on phi_j by ridge
/// (penalty lambda x rows), with V_theta(row) = sum_a pi(a | row) theta_a . phi(row) and f_j the
/// discount to the next row (0 after a trajectory's last), until theta moves by less than 1e-9
/// of its size. The normal matrices are factored once (Cholesky). Cross-fitting: trajectories are split into `folds` by a seeded permutation
/// (stream `ope.fqe.folds`); Q at a
/// row comes from the fit on the other folds, so `dr` stays unbiased whatever the fit.
public enum LinearFQE {
    public static func fit(_ log: TrajectoryLog, target: TrajectoryTarget, nextFactor f: [Double], folds: Int = 2, lambda: Double = 1e-2,
                           maxIterations: Int = 2000, seed: SeedTree) -> StepQ {
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
                        model: "linear FQE (ridge \(lambda) per row, \(k)-fold cross-fitted over trajectories)")
        // Features of every row, once.
        var phi = [Double](repeating: 0, count: n * P)
        var row = [Double](repeating: 0, count: P)
        for j in 0..<n { features(j, &row); for u in 0..<P { phi[j * P + u] = row[u] } }
        var worst = 0.0, iterationsUsed: [Int] = [], converged = true
        for held in 0..<k {
            // Per action: the Cholesky factor of sum phi phi^T + lambda rows I over its rows.
            var factors: [[Double]] = []
            var rowsOf = [[Int]](repeating: [], count: A)
            for i in 0..<log.count where fold[i] != held { for j in log.offsets[i]..<log.offsets[i + 1] { rowsOf[Int(log.rows.action[j])].append(j) } }
            let rows = rowsOf.reduce(0) { $0 + $1.count }
            for a in 0..<A {
                var m = [Double](repeating: 0, count: P * P)
                for j in rowsOf[a] { for u in 0..<P { let x = phi[j * P + u]; for v in 0...u { m[u * P + v] += x * phi[j * P + v] } } }
                for u in 0..<P { m[u * P + u] += lambda * Double(max(1, rows)) }
                factors.append(choleskyFactor(m, P))
            }
            // Fitted Q iteration: theta_a <- argmin sum (phi.theta_a - r - f V_theta(next))^2 + ridge.
            var theta = [Double](repeating: 0, count: A * P)
            var iteration = 0
            while true {
                iteration += 1
                var next = [Double](repeating: 0, count: A * P)
                var change = 0.0, scale = 0.0
                for a in 0..<A {
                    var rhs = [Double](repeating: 0, count: P)
                    for j in rowsOf[a] {
                        var y = log.rows.reward[j]
                        if !isLast[j] && f[j] > 0 { y += f[j] * value(j + 1, theta) }
                        for u in 0..<P { rhs[u] += phi[j * P + u] * y }
                    }
                    let t = choleskySolve(factors[a], rhs, P)
                    for u in 0..<P { next[a * P + u] = t[u]; change = max(change, abs(t[u] - theta[a * P + u])); scale = max(scale, abs(t[u])) }
                }
                theta = next
                if change <= 1e-9 * max(1, scale) { break }
                if iteration >= maxIterations { converged = false; break }
            }
            iterationsUsed.append(iteration)
            for i in 0..<log.count where fold[i] == held {
                for j in log.offsets[i]..<log.offsets[i + 1] {
                    let a = Int(log.rows.action[j])
                    var q = 0.0
                    for u in 0..<P { q += theta[a * P + u] * phi[j * P + u] }
                    out.logged[j] = q
                    out.value[j] = value(j, theta)
                    worst = max(worst, abs(out.value[j]))
                }
            }
        }
        /// V(row) = sum_a pi(a | row) theta_a . phi(row).
        func value(_ j: Int, _ theta: [Double]) -> Double {
            let key = target.key(log, row: j)
            var v = 0.0
            for a in 0..<A {
                let p = target.table[key * A + a]
                guard p != 0 else { continue }
                var q = 0.0
                for u in 0..<P { q += theta[a * P + u] * phi[j * P + u] }
                v += p * q
            }
            return v
        }
        out.notes.append("fitted Q iteration: \(iterationsUsed.map(String.init).joined(separator: " and ")) iterations\(converged ? "" : " (stopped at \(maxIterations) without converging)")")
        out.notes.append(String(format: "largest |V| predicted %.4g", worst))
        return out
    }

    /// Lower-triangular L with L L^T = m (the lower triangle of m is read).
    static func choleskyFactor(_ m: [Double], _ n: Int) -> [Double] {
        var l = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
            for j in 0...i {
                var s = m[i * n + j]
                for k in 0..<j { s -= l[i * n + k] * l[j * n + k] }
                l[i * n + j] = i == j ? max(s, 1e-300).squareRoot() : s / l[j * n + j]
            }
        }
        return l
    }

    static func choleskySolve(_ l: [Double], _ b: [Double], _ n: Int) -> [Double] {
        var y = b
        for i in 0..<n { var s = y[i]; for k in 0..<i { s -= l[i * n + k] * y[k] }; y[i] = s / l[i * n + i] }
        for i in stride(from: n - 1, through: 0, by: -1) { var s = y[i]; for k in (i + 1)..<max(i + 1, n) { s -= l[k * n + i] * y[k] }; y[i] = s / l[i * n + i] }
        return y
    }
}
