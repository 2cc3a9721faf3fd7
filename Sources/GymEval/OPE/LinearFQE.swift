import Foundation
import GymData
import GymLinalg
import GymRandom

/// FQE with a linear Q over numeric context, cross-fitted over trajectories: for logs without a
/// discrete state (the simulator's journeys, whose context is the agent's observation).
///
/// Q(x, a) = theta_a . phi(x), phi(x) = [1, standardised context, step / longest trajectory].
/// Fitted Q evaluation (Le, Voloshin & Yue 2019) with this class regresses, per action, the
/// targets r_j + f_j V_theta(next row) on phi_j by ridge (penalty lambda x rows), with
/// V_theta(row) = sum_a pi(a | row) theta_a . phi(row) and f_j the discount to the next row (0
/// after a trajectory's last), until theta stops moving. Its fixed point is solved directly as
/// one linear system (LSTD-Q, `fixedPoint`); when that system is singular, the iteration runs from
/// theta = 0 until theta moves by less than 1e-9 of its size (normal matrices factored once, Cholesky). Cross-fitting: trajectories are split into `folds` by a seeded permutation
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
            var rowsOf = [[Int]](repeating: [], count: A)
            for i in 0..<log.count where fold[i] != held { for j in log.offsets[i]..<log.offsets[i + 1] { rowsOf[Int(log.rows.action[j])].append(j) } }
            let rows = rowsOf.reduce(0) { $0 + $1.count }
            // The fixed point of fitted Q iteration, solved directly (LSTD-Q); iterating is the
            // fallback when that system is singular.
            var theta = [Double](repeating: 0, count: A * P)
            var iteration = 0
            if let t = fixedPoint(phi: phi, P: P, rowsOf: rowsOf, isLast: isLast, f: f, log: log, target: target, ridge: lambda * Double(max(1, rows))) {
                theta = t
            } else {
                // Per action: the Cholesky factor of sum phi phi^T + lambda rows I over its rows.
                var factors: [[Double]] = []
                for a in 0..<A {
                    var m = [Double](repeating: 0, count: P * P)
                    for j in rowsOf[a] { for u in 0..<P { let x = phi[j * P + u]; for v in 0...u { m[u * P + v] += x * phi[j * P + v] } } }
                    for u in 0..<P { m[u * P + u] += lambda * Double(max(1, rows)) }
                    factors.append(choleskyFactor(m, P))
                }
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
        out.notes.append(iterationsUsed.allSatisfy { $0 == 0 } ? "the fixed point of fitted Q iteration, solved directly (LSTD-Q) in every fold"
                         : "fitted Q iteration: \(iterationsUsed.map { $0 == 0 ? "solved directly" : "\($0) iterations" }.joined(separator: " and "))\(converged ? "" : " (stopped at \(maxIterations) without converging)")")
        out.notes.append(String(format: "largest |V| predicted %.4g", worst))
        return out
    }

    /// The fixed point of fitted Q iteration with per-action ridge regressions: theta solving, for
    /// every action a, (sum_{j in a} phi_j phi_j^T + ridge I) theta_a
    ///   - sum_{j in a} f_j phi_j sum_a' pi(a' | j+1) phi_{j+1}^T theta_a' = sum_{j in a} phi_j r_j
    /// (LSTD-Q, Lagoudakis & Parr 2003), one (A P) x (A P) linear system built with matrix products
    /// over chunks of rows and solved by LU with partial pivoting. Nil when it is singular.
    static func fixedPoint(phi: [Double], P: Int, rowsOf: [[Int]], isLast: [Bool], f: [Double], log: TrajectoryLog,
                           target: TrajectoryTarget, ridge: Double) -> [Double]? {
        let A = target.actions, AP = A * P, chunk = 512
        var M = [Double](repeating: 0, count: AP * AP), b = [Double](repeating: 0, count: AP)
        var X = [Double](repeating: 0, count: chunk * P), Y = [Double](repeating: 0, count: chunk * AP)
        var G = [Double](repeating: 0, count: P * P), C = [Double](repeating: 0, count: P * AP)
        let gemm = Gemm.preferred
        for a in 0..<A {
            for i in 0..<(P * P) { G[i] = 0 }
            for i in 0..<(P * AP) { C[i] = 0 }
            var start = 0
            while start < rowsOf[a].count {
                let m = min(chunk, rowsOf[a].count - start)
                for r in 0..<m {
                    let j = rowsOf[a][start + r]
                    for u in 0..<P { X[r * P + u] = phi[j * P + u]; b[a * P + u] += phi[j * P + u] * log.rows.reward[j] }
                    for k in 0..<AP { Y[r * AP + k] = 0 }
                    if !isLast[j] && f[j] > 0 {
                        let key = target.key(log, row: j + 1)
                        for a2 in 0..<A {
                            let w = f[j] * target.table[key * A + a2]
                            guard w != 0 else { continue }
                            for u in 0..<P { Y[r * AP + a2 * P + u] = w * phi[(j + 1) * P + u] }
                        }
                    }
                }
                X.withUnsafeBufferPointer { x in
                    Y.withUnsafeBufferPointer { y in
                        G.withUnsafeMutableBufferPointer { g in
                            gemm.dgemm(.transpose, .none, m: P, n: P, k: m, alpha: 1, x.baseAddress!, lda: P, x.baseAddress!, ldb: P, beta: 1, g.baseAddress!, ldc: P)
                        }
                        C.withUnsafeMutableBufferPointer { c in
                            gemm.dgemm(.transpose, .none, m: P, n: AP, k: m, alpha: 1, x.baseAddress!, lda: P, y.baseAddress!, ldb: AP, beta: 1, c.baseAddress!, ldc: AP)
                        }
                    }
                }
                start += m
            }
            for u in 0..<P {
                for v in 0..<P { M[(a * P + u) * AP + a * P + v] += G[u * P + v] }
                M[(a * P + u) * AP + a * P + u] += ridge
                for k in 0..<AP { M[(a * P + u) * AP + k] -= C[u * AP + k] }
            }
        }
        return luSolve(&M, b, AP)
    }

    /// Solves m x = b (n x n, row-major, overwritten) by LU with partial pivoting, blocked: each
    /// panel of 64 columns is factored row by row and the trailing matrix is updated by one matrix
    /// product. Nil when a pivot is negligible against the matrix's scale or the result is not finite.
    static func luSolve(_ m: inout [Double], _ b: [Double], _ n: Int) -> [Double]? {
        var x = b
        let scale = m.reduce(0) { max($0, abs($1)) }
        guard scale > 0, scale.isFinite else { return nil }
        let nb = 64, gemm = Gemm.preferred
        let ok = m.withUnsafeMutableBufferPointer { buf -> Bool in
            let a = buf.baseAddress!
            var k0 = 0
            while k0 < n {
                let kb = min(nb, n - k0), end = k0 + kb
                // The panel: columns k0 ..< end of rows k0 ..< n.
                for k in k0..<end {
                    var p = k
                    for i in (k + 1)..<max(k + 1, n) where abs(a[i * n + k]) > abs(a[p * n + k]) { p = i }
                    guard abs(a[p * n + k]) > 1e-12 * scale else { return false }
                    if p != k {
                        for j in 0..<n { let t = a[k * n + j]; a[k * n + j] = a[p * n + j]; a[p * n + j] = t }
                        x.swapAt(k, p)
                    }
                    let pivot = a[k * n + k]
                    for i in (k + 1)..<max(k + 1, n) {
                        let l = a[i * n + k] / pivot
                        a[i * n + k] = l
                        if l != 0 { for j in (k + 1)..<end { a[i * n + j] -= l * a[k * n + j] } }
                    }
                }
                if end < n {
                    // U12 = L11^-1 A12, then A22 -= L21 U12.
                    for k in k0..<end {
                        for i in (k + 1)..<end {
                            let l = a[i * n + k]
                            if l != 0 { for j in end..<n { a[i * n + j] -= l * a[k * n + j] } }
                        }
                    }
                    gemm.dgemm(.none, .none, m: n - end, n: n - end, k: kb, alpha: -1, a + end * n + k0, lda: n, a + k0 * n + end, ldb: n,
                               beta: 1, a + end * n + end, ldc: n)
                }
                k0 = end
            }
            // L y = P b (unit lower), then U x = y.
            for i in 0..<n { var s = x[i]; for j in 0..<i { s -= a[i * n + j] * x[j] }; x[i] = s }
            for i in stride(from: n - 1, through: 0, by: -1) {
                var s = x[i]
                for j in (i + 1)..<max(i + 1, n) { s -= a[i * n + j] * x[j] }
                x[i] = s / a[i * n + i]
            }
            return true
        }
        return ok && x.allSatisfy { $0.isFinite } ? x : nil
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
