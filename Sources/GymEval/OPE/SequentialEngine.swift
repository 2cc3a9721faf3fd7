import Dispatch
import Foundation
import GymData
import GymLinalg
import GymRandom

/// A target policy over a trajectory log's rows: pi(a | row) = `table[key * actions + a]`, where
/// the key is the row (`byState` false: one distribution per logged row) or the row's discrete
/// state (`byState` true: one distribution per state, `probs:FILE.csv`).
public struct TrajectoryTarget: Sendable {
    public let actions: Int
    public let table: [Double]
    public let byState: Bool
    public let name: String
    public init(actions: Int, table: [Double], byState: Bool, name: String) {
        self.actions = actions; self.table = table; self.byState = byState; self.name = name
    }
    @inline(__always) public func key(_ log: TrajectoryLog, row: Int) -> Int { byState ? Int(log.state[row]) : row }
}

/// A Q-function evaluated on the log: per row, Q(s_t, a_t) of the logged action and
/// V(s_t) = sum_a pi(a | s_t) Q(s_t, a), with its provenance and what it could not see.
public struct StepQ: Sendable {
    public var logged: [Double]
    public var value: [Double]
    public var model: String
    /// Tabular: (step, state, action) cells without a logged transition. Their Q is 0.
    public var emptyCells = 0
    /// Rows where the target puts mass on an empty cell, and the mean mass there.
    public var extrapolatedRows = 0
    public var extrapolatedMass = 0.0
    /// Linear FQE: the regularisation and the largest change of the weights at the last step.
    public var notes: [String] = []
    public init(logged: [Double], value: [Double], model: String) { self.logged = logged; self.value = value; self.model = model }
}

/// How rewards are discounted along a trajectory.
public enum Discounting: Sendable, Equatable {
    /// gamma^t at step t.
    case perStep(Double)
    /// gamma^(days since the trajectory's start) (the journey world's semi-Markov discount;
    /// Bradtke & Duff 1995): needs `elapsed_seconds`.
    case perDay(Double)

    /// Per row: the discount from that row to the trajectory's next one (0 at its last row).
    public func nextFactors(_ log: TrajectoryLog) -> [Double] {
        var f = [Double](repeating: 0, count: log.rows.count)
        for i in 0..<log.count where log.offsets[i + 1] > log.offsets[i] {
            for j in log.offsets[i]..<(log.offsets[i + 1] - 1) {
                switch self {
                case .perStep(let g): f[j] = g
                case .perDay(let g): f[j] = pow(g, (log.elapsed[j + 1] - log.elapsed[j]) / 86_400)
                }
            }
        }
        return f
    }

    public var description: String {
        switch self {
        case .perStep(let g): return "gamma \(g) per step"
        case .perDay(let g): return "gamma \(g) per day of elapsed time (semi-Markov)"
        }
    }

    /// d at every row: the discount of that row's reward back to its trajectory's start.
    public func factors(_ log: TrajectoryLog) -> [Double] {
        var d = [Double](repeating: 1, count: log.rows.count)
        for i in 0..<log.count {
            for j in log.offsets[i]..<log.offsets[i + 1] {
                switch self {
                case .perStep(let g): d[j] = pow(g, Double(j - log.offsets[i]))
                case .perDay(let g): d[j] = pow(g, log.elapsed[j] / 86_400)
                }
            }
        }
        return d
    }
}

public struct SequentialEstimate: Sendable {
    public var estimator: SequentialOPE.Estimator
    public var value: Double, ciLow: Double, ciHigh: Double
}

/// Importance-weight diagnostics of a trajectory log under a target.
public struct SequentialDiagnostics: Sendable {
    /// Per step t: trajectories that reach it, the effective sample size of their cumulative
    /// weights W_{0:t} ((sum W)^2 / sum W^2) and the largest W_{0:t}.
    public var reached: [Int] = []
    public var ess: [Double] = []
    public var maxWeight: [Double] = []
    /// The whole trajectories' weights W: ESS, largest, share equal to 0.
    public var trajectoryESS = 0.0
    public var trajectoryMaxWeight = 0.0
    public var zeroWeightShare = 0.0
    /// The cap on cumulative weights, if any, and the rows where it bound.
    public var clip: Double?
    public var clippedRows = 0
    public init() {}
}

extension SequentialOPE {
    /// The options of `run`.
    public struct Options: Sendable {
        public var resamples = 1000
        public var confidence = 0.95
        /// Cap on every cumulative weight W_{0:t} (nil: none). Clipping trades bias for variance;
        /// the report states it.
        public var clip: Double?
        public var threads = 1
        public var seed: SeedTree
        public init(seed: SeedTree) { self.seed = seed }
    }

    /// Resamples per block (every block has this shape, padded, and the same chunks, so that
    /// results do not depend on which thread computes a block).
    static let block = 100
    /// Trajectories per chunk of the bootstrap's matrix products (a multiple of 4).
    static let chunkSize = 2048

    /// Every estimator on a trajectory log, with percentile bootstrap intervals over whole
    /// trajectories and weight diagnostics.
    ///
    /// Each trajectory i gives one row of per-trajectory quantities: 1, W_i G_i, W_i, its PDIS
    /// and DR terms, V_0(s_{i,0}), and per step t, d_t W_{i,0:t} r_{i,t} and W_{i,0:t} (0 after
    /// the trajectory ends). Every estimator is a ratio of sums of these columns, so a bootstrap
    /// resample is a vector of counts c_i, and its sums are one matrix product over a block of
    /// resamples. Resample b uses stream `ope.sequential.bootstrap/b`: each trajectory enters it
    /// c_i ~ Poisson(1) times (the Poisson bootstrap, as the bandit estimators do), so the unit
    /// is the trajectory and the results do not depend on the thread count. The product runs in
    /// single precision on the columns centred at their full-sample means (the means times the
    /// resample's size are added back in double): the error is about 1e-7 of the columns'
    /// spread, far below the bootstrap's own Monte Carlo error. The self-normalising
    /// denominators are recomputed in every resample (SCOPE-RL computes them once, on the full
    /// sample).
    public static func run(_ log: TrajectoryLog, target: TrajectoryTarget, q: StepQ?, discount d: [Double],
                           options o: Options) -> (estimates: [SequentialEstimate], diagnostics: SequentialDiagnostics) {
        let n = log.count, H = log.horizon, A = target.actions, K = 6 + 2 * H
        var V = [Double](repeating: 0, count: n * K)
        var clipped = [Int](repeating: 0, count: n)
        let chunk = 1024
        let chunks = (n + chunk - 1) / chunk
        let T = max(1, min(o.threads, chunks))
        let clip = o.clip ?? .infinity
        log.rows.action.withUnsafeBufferPointer { act in log.rows.reward.withUnsafeBufferPointer { rew in
        log.rows.pscore.withUnsafeBufferPointer { ps in target.table.withUnsafeBufferPointer { pi in
        V.withUnsafeMutableBufferPointer { vp in clipped.withUnsafeMutableBufferPointer { cp in
            let vBase = vp.baseAddress!, cBase = cp.baseAddress!
            DispatchQueue.concurrentPerform(iterations: T) { w in
                var c = w
                while c < chunks {
                    for i in (c * chunk)..<min(n, (c + 1) * chunk) {
                        let row = vBase + i * K
                        row[0] = 1
                        var W = 1.0, g = 0.0, pdis = 0.0, dr = 0.0
                        let start = log.offsets[i]
                        for j in start..<log.offsets[i + 1] {
                            let t = j - start
                            let k = target.byState ? Int(log.state[j]) : j
                            let previous = W
                            W *= pi[k * A + Int(act[j])] / ps[j]
                            if W > clip { W = clip; cBase[i] += 1 }
                            let dj = d[j], r = rew[j]
                            g += dj * r
                            pdis += dj * W * r
                            if let q {
                                dr += dj * (W * (r - q.logged[j]) + previous * q.value[j])
                                if t == 0 { row[5] = q.value[j] }
                            }
                            row[6 + t] = dj * W * r
                            row[6 + H + t] = W
                        }
                        // A trajectory that has ended stays in an absorbing state with reward 0:
                        // its final weight keeps counting in the later steps' denominators.
                        for t in (log.offsets[i + 1] - start)..<H { row[6 + H + t] = W }
                        row[1] = W * g; row[2] = W; row[3] = pdis; row[4] = dr
                    }
                    c += T
                }
            }
        } } } } } }
        // Full-sample sums, in row order.
        var full = [Double](repeating: 0, count: K)
        for i in 0..<n { for k in 0..<K { full[k] += V[i * K + k] } }
        let estimators: [Estimator] = q == nil ? [.tis, .sntis, .pdis, .snpdis] : Estimator.allCases
        func values(_ s: UnsafePointer<Double>) -> [Double] {
            var snpdis = 0.0
            for t in 0..<H where s[6 + H + t] > 0 { snpdis += s[6 + t] / s[6 + H + t] }
            return estimators.map { e in
                switch e {
                case .tis: return s[1] / s[0]
                case .sntis: return s[2] > 0 ? s[1] / s[2] : .nan
                case .pdis: return s[3] / s[0]
                case .snpdis: return snpdis
                case .dr: return s[4] / s[0]
                case .fqe: return s[5] / s[0]
                }
            }
        }
        let point = full.withUnsafeBufferPointer { values($0.baseAddress!) }
        // Bootstrap: blocks of `block` resamples; per chunk of trajectories, counts (block x chunk)
        // times the centred columns (chunk x K) in single precision, accumulated in double; each
        // resample's sums are then mean_k * n_b + that product (n_b = sum of the counts, exact).
        let B = o.resamples, E = estimators.count
        let blocks = (B + block - 1) / block
        var boot = [Double](repeating: .nan, count: B * E)
        if n > 0 && B > 0 {
            let mean = full.map { $0 / Double(n) }
            var centred = [Float](repeating: 0, count: n * K)
            for i in 0..<n { for k in 0..<K { centred[i * K + k] = Float(V[i * K + k] - mean[k]) } }
            let gemm = Gemm.preferred
            let TB = max(1, min(o.threads, blocks))
            centred.withUnsafeBufferPointer { vp in boot.withUnsafeMutableBufferPointer { out in
                let outBase = out.baseAddress!
                DispatchQueue.concurrentPerform(iterations: TB) { w in
                    // Per thread: one block of resamples at a time, over chunks of trajectories
                    // small enough for the counts and the columns to stay in cache.
                    let counts = UnsafeMutablePointer<Float>.allocate(capacity: block * chunkSize)
                    let product = UnsafeMutablePointer<Float>.allocate(capacity: block * K)
                    let raw = UnsafeMutableBufferPointer<UInt32>.allocate(capacity: chunkSize / 4)
                    defer { counts.deallocate(); product.deallocate(); raw.deallocate() }
                    var acc = [Double](repeating: 0, count: block * K)
                    var total = [Int](repeating: 0, count: block)
                    var sums = [Double](repeating: 0, count: K)
                    var j = w
                    while j < blocks {
                        let streams = (0..<block).map { r in j * block + r < B ? o.seed.child("ope.sequential.bootstrap", j * block + r).stream(.taus2) : nil }
                        for k in 0..<(block * K) { acc[k] = 0 }
                        for r in 0..<block { total[r] = 0 }
                        var c0 = 0
                        while c0 < n {
                            let m = min(chunkSize, n - c0)
                            for r in 0..<block {
                                let row = counts + r * chunkSize
                                if let s = streams[r] { total[r] += poissonCounts(row, n: m, stream: s, raw: raw) } else { row.update(repeating: 0, count: m) }
                            }
                            gemm.sgemm(.none, .none, m: block, n: K, k: m, alpha: 1, counts, lda: chunkSize, vp.baseAddress! + c0 * K, ldb: K,
                                       beta: 0, product, ldc: K)
                            for k in 0..<(block * K) { acc[k] += Double(product[k]) }
                            c0 += m
                        }
                        for r in 0..<block where j * block + r < B {
                            for k in 0..<K { sums[k] = mean[k] * Double(total[r]) + acc[r * K + k] }
                            let v = sums.withUnsafeBufferPointer { values($0.baseAddress!) }
                            for e in 0..<E { outBase[(j * block + r) * E + e] = v[e] }
                        }
                        j += TB
                    }
                }
            } }
        }
        let alpha = (1 - o.confidence) / 2
        let estimates = estimators.enumerated().map { e, est in
            let v = (0..<B).map { boot[$0 * E + e] }.filter { $0.isFinite }.sorted()
            return SequentialEstimate(estimator: est, value: point[e], ciLow: percentile(v, alpha), ciHigh: percentile(v, 1 - alpha))
        }
        return (estimates, diagnostics(V, n: n, H: H, log: log, clip: o.clip, clipped: clipped.reduce(0, +)))
    }

    /// Poisson(1) counts by the top 8 bits of a 32-bit draw: K when every u in the bucket gives
    /// the same K, 255 where a threshold of `OPE.poissonOne` falls inside the bucket.
    static let poissonTopTable: [UInt8] = {
        let c = OPE.poissonOne
        func k(_ u: UInt32) -> Int { var k = 0; while k < c.count && u >= c[k] { k += 1 }; return k }
        return (0..<256).map { b in
            let lo = k(UInt32(b) << 24), hi = k(UInt32(b) << 24 | 0xFF_FFFF)
            return lo == hi ? UInt8(lo) : 255
        }
    }()
    static var poissonTop: UnsafePointer<UInt8> { poissonTopPointer }
    nonisolated(unsafe) static let poissonTopPointer: UnsafePointer<UInt8> = {
        let p = UnsafeMutablePointer<UInt8>.allocate(capacity: 256)
        for (i, v) in poissonTopTable.enumerated() { p[i] = v }
        return UnsafePointer(p)
    }()

    /// Fills `row[0..<n]` with independent Poisson(1) counts from `stream` and returns their sum.
    /// Each count is the inversion of a 32-bit uniform u against `OPE.poissonOne`. Its top 8 bits
    /// come from a quarter of one raw draw (four counts per draw) and settle the count except in
    /// the 8 of 256 buckets that a threshold cuts; there the low 24 bits are drawn (the top 24
    /// bits of the next raw draw). The counts are exactly Poisson(1) to 32-bit resolution.
    static func poissonCounts(_ row: UnsafeMutablePointer<Float>, n: Int, stream s: RandomStream, raw: UnsafeMutableBufferPointer<UInt32>) -> Int {
        let words = (n + 3) / 4
        s.fill(UnsafeMutableBufferPointer(rebasing: raw[0..<words]))
        let top = poissonTop, thresholds = OPE.poissonOne
        var total = 0
        for i in 0..<n {
            let bits = (raw[i >> 2] >> UInt32(24 - 8 * (i & 3))) & 0xFF
            var k = Int(top[Int(bits)])
            if k == 255 {
                let u = bits << 24 | UInt32(truncatingIfNeeded: s.next()) >> 8
                k = 0
                while k < thresholds.count && u >= thresholds[k] { k += 1 }
            }
            row[i] = Float(k)
            total &+= k
        }
        return total
    }

    /// Linear interpolation between order statistics (numpy's default).
    static func percentile(_ sorted: [Double], _ p: Double) -> Double {
        guard !sorted.isEmpty else { return .nan }
        let h = p * Double(sorted.count - 1)
        let lo = Int(h.rounded(.down)), hi = min(sorted.count - 1, lo + 1)
        return sorted[lo] + (h - Double(lo)) * (sorted[hi] - sorted[lo])
    }

    static func diagnostics(_ V: [Double], n: Int, H: Int, log: TrajectoryLog, clip: Double?, clipped: Int) -> SequentialDiagnostics {
        let K = 6 + 2 * H
        var d = SequentialDiagnostics()
        d.reached = [Int](repeating: 0, count: H)
        var s1 = [Double](repeating: 0, count: H), s2 = s1, mx = s1
        var t1 = 0.0, t2 = 0.0, zeros = 0
        for i in 0..<n {
            let len = log.offsets[i + 1] - log.offsets[i]
            for t in 0..<len {
                let w = V[i * K + 6 + H + t]
                d.reached[t] += 1; s1[t] += w; s2[t] += w * w; mx[t] = max(mx[t], w)
            }
            let w = V[i * K + 2]
            t1 += w; t2 += w * w
            if w == 0 { zeros += 1 }
            d.trajectoryMaxWeight = max(d.trajectoryMaxWeight, w)
        }
        d.ess = (0..<H).map { s2[$0] > 0 ? s1[$0] * s1[$0] / s2[$0] : 0 }
        d.maxWeight = mx
        d.trajectoryESS = t2 > 0 ? t1 * t1 / t2 : 0
        d.zeroWeightShare = n > 0 ? Double(zeros) / Double(n) : 0
        d.clip = clip; d.clippedRows = clipped
        return d
    }
}
