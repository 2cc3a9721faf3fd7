import Foundation
import GymData
import GymRandom

/// Rows of one table in a model's schema: numeric values clipped and scaled to [-1, 1] by the
/// model's bounds, categorical values as the model's level indices (-1: a level the model lacks).
public struct EncodedRows: Sendable {
    public var count: Int
    public var d: Int
    public var c: Int
    /// count x d, row-major.
    public var numeric: [Double]
    /// count x c, row-major.
    public var codes: [Int]

    /// Reads a CSV in a model's schema: the model's columns (every one must be there with the
    /// right kind); other columns are ignored.
    public static func load(path: String, model m: PersonaModel) throws -> EncodedRows {
        let csv = try CSVText.read(path: path)
        var roles: [String: ColumnRole] = [:]
        let numeric = Set(m.numeric.map(\.name)), categorical = Set(m.categorical.map(\.name))
        for h in csv.header { roles[h] = numeric.contains(h) ? .numeric : (categorical.contains(h) ? .categorical : .identifier) }
        return try EncodedRows(table: try DataTable.build(csv, file: path, roles: roles), model: m)
    }

    /// Reads the model's columns from `table` (every one must be there with the right kind).
    public init(table: DataTable, model: PersonaModel) throws {
        count = table.rowCount
        d = model.numeric.count
        c = model.categorical.count
        numeric = [Double](repeating: 0, count: count * d)
        codes = [Int](repeating: -1, count: count * c)
        for (j, col) in model.numeric.enumerated() {
            guard let src = table.numericNames.firstIndex(of: col.name) else {
                throw DataError(file: table.file, column: col.name, message: "the model has this numeric column; the table lacks it (or it is not numeric there)")
            }
            for i in 0..<count {
                let x = min(max(table.numeric[src][i], col.low), col.high)
                numeric[i * d + j] = 2 * (x - col.low) / (col.high - col.low) - 1
            }
        }
        for (q, col) in model.categorical.enumerated() {
            guard let src = table.categoricalNames.firstIndex(of: col.name) else {
                throw DataError(file: table.file, column: col.name, message: "the model has this categorical column; the table lacks it (or it is numeric there)")
            }
            let index = Dictionary(uniqueKeysWithValues: col.levels.enumerated().map { ($1, $0) })
            let lv = table.levels[src]
            for i in 0..<count { codes[i * c + q] = index[lv[table.categorical[src][i]]] ?? -1 }
        }
    }

    /// Rows from latent draws z = [scaled numeric values, one-hot categories] (`PersonaSampler`'s
    /// latent layout, which the simulator keeps for each user of a population from a model).
    public static func fromLatent(_ z: [Double], count: Int, model m: PersonaModel) -> EncodedRows {
        let d = m.numeric.count, c = m.categorical.count, L = m.latentDimension
        var numeric = [Double](repeating: 0, count: count * d), codes = [Int](repeating: -1, count: count * c)
        for i in 0..<count where (i + 1) * L <= z.count {
            for j in 0..<d { numeric[i * d + j] = z[i * L + j] }
            var off = d
            for (q, col) in m.categorical.enumerated() {
                var best = -1, bestValue = 0.0
                for t in 0..<col.levels.count where z[i * L + off + t] > bestValue { best = t; bestValue = z[i * L + off + t] }
                codes[i * c + q] = best
                off += col.levels.count
            }
        }
        return EncodedRows(count: count, d: d, c: c, numeric: numeric, codes: codes)
    }

    init(count: Int, d: Int, c: Int, numeric: [Double], codes: [Int]) {
        self.count = count; self.d = d; self.c = c; self.numeric = numeric; self.codes = codes
    }

    /// Rows `idx` only.
    public func subset(_ idx: [Int]) -> EncodedRows {
        var n = [Double](), k = [Int]()
        n.reserveCapacity(idx.count * d); k.reserveCapacity(idx.count * c)
        for i in idx {
            n.append(contentsOf: numeric[(i * d)..<((i + 1) * d)])
            k.append(contentsOf: codes[(i * c)..<((i + 1) * c)])
        }
        return EncodedRows(count: idx.count, d: d, c: c, numeric: n, codes: k)
    }

    /// Squared distance between row i here and row j of `o`: squared differences of scaled
    /// numeric values plus 2 per categorical mismatch (the squared distance of two one-hot vectors).
    @inline(__always)
    func distance2(_ i: Int, _ o: EncodedRows, _ j: Int) -> Double {
        var s = 0.0
        for t in 0..<d { let x = numeric[i * d + t] - o.numeric[j * d + t]; s += x * x }
        for t in 0..<c where codes[i * c + t] != o.codes[j * c + t] || codes[i * c + t] < 0 { s += 2 }
        return s
    }

    /// A key for exact-copy checks (all modelled values).
    func key(_ i: Int) -> [Int] {
        numeric[(i * d)..<((i + 1) * d)].map { Int(($0 * 1e9).rounded()) } + Array(codes[(i * c)..<((i + 1) * c)])
    }
}

/// Synthetic-data quality measures (blueprint section 5, SyntheticQuality), each stating its method.
public enum Quality {
    /// Bins of numeric columns for KL and TV: equal width over the model's bounds.
    public static let numericBins = 20
    /// Added to every bin or level count before normalising, so that KL stays finite.
    public static let smoothing = 0.5

    /// KL(real || synthetic) in nats over the bins (numeric) or levels (categorical) of one column,
    /// with `smoothing` added to every count.
    public static func kl(_ p: [Double], _ q: [Double]) -> Double {
        let sp = p.reduce(0, +) + smoothing * Double(p.count), sq = q.reduce(0, +) + smoothing * Double(q.count)
        var s = 0.0
        for i in p.indices {
            let a = (p[i] + smoothing) / sp, b = (q[i] + smoothing) / sq
            s += a * log(a / b)
        }
        return s
    }

    /// Total variation distance between two count vectors (no smoothing).
    public static func tv(_ p: [Double], _ q: [Double]) -> Double {
        let sp = p.reduce(0, +), sq = q.reduce(0, +)
        guard sp > 0, sq > 0 else { return 1 }
        var s = 0.0
        for i in p.indices { s += abs(p[i] / sp - q[i] / sq) }
        return s / 2
    }

    /// Two-sample Kolmogorov-Smirnov statistic.
    public static func ks(_ a: [Double], _ b: [Double]) -> Double {
        let x = a.sorted(), y = b.sorted()
        var i = 0, j = 0, d = 0.0
        while i < x.count && j < y.count {
            let v = min(x[i], y[j])
            while i < x.count && x[i] <= v { i += 1 }
            while j < y.count && y[j] <= v { j += 1 }
            d = max(d, abs(Double(i) / Double(x.count) - Double(j) / Double(y.count)))
        }
        return d
    }

    /// Pearson correlation (0 when a column is constant).
    public static func correlation(_ a: [Double], _ b: [Double]) -> Double {
        let n = Double(a.count)
        guard n > 1 else { return 0 }
        let ma = a.reduce(0, +) / n, mb = b.reduce(0, +) / n
        var sab = 0.0, saa = 0.0, sbb = 0.0
        for i in a.indices { let x = a[i] - ma, y = b[i] - mb; sab += x * y; saa += x * x; sbb += y * y }
        return saa > 0 && sbb > 0 ? sab / (saa * sbb).squareRoot() : 0
    }

    static func bin(_ u: Double) -> Int { min(numericBins - 1, max(0, Int((u + 1) / 2 * Double(numericBins)))) }

    /// One column's comparison.
    public struct ColumnScore: Sendable {
        public var name: String
        public var kind: String
        public var kl: Double
        /// 1 - KS statistic (numeric) or 1 - TV distance (categorical), as SDMetrics'
        /// KSComplement and TVComplement.
        public var complement: Double
        public var metric: String
        /// The distributions compared: bin (numeric, in the column's units) or level labels, and
        /// the real and synthetic row counts in each (before smoothing).
        public var bins: [String] = []
        public var real: [Double] = []
        public var synthetic: [Double] = []
    }

    public static func columnScores(real: EncodedRows, synthetic: EncodedRows, model: PersonaModel) -> [ColumnScore] {
        var out: [ColumnScore] = []
        for (j, col) in model.numeric.enumerated() {
            var p = [Double](repeating: 0, count: numericBins), q = p
            let a = (0..<real.count).map { real.numeric[$0 * real.d + j] }, b = (0..<synthetic.count).map { synthetic.numeric[$0 * synthetic.d + j] }
            for x in a { p[bin(x)] += 1 }
            for x in b { q[bin(x)] += 1 }
            let labels = (0..<numericBins).map { k -> String in
                let w = (col.high - col.low) / Double(numericBins)
                return String(format: "%.3g", col.low + w * Double(k)) + "–" + String(format: "%.3g", col.low + w * Double(k + 1))
            }
            out.append(.init(name: col.name, kind: "numeric", kl: kl(p, q), complement: 1 - ks(a, b), metric: "KS complement",
                             bins: labels, real: p, synthetic: q))
        }
        for (t, col) in model.categorical.enumerated() {
            var p = [Double](repeating: 0, count: col.levels.count + 1), q = p   // last: levels the model lacks
            for i in 0..<real.count { let k = real.codes[i * real.c + t]; p[k < 0 ? col.levels.count : k] += 1 }
            for i in 0..<synthetic.count { let k = synthetic.codes[i * synthetic.c + t]; q[k < 0 ? col.levels.count : k] += 1 }
            out.append(.init(name: col.name, kind: "categorical", kl: kl(p, q), complement: 1 - tv(p, q), metric: "TV complement",
                             bins: col.levels + ["(other)"], real: p, synthetic: q))
        }
        return out
    }

    /// Correlation similarity: the mean over column pairs of 1 - |r_real - r_syn| / 2 for numeric
    /// pairs (SDMetrics' CorrelationSimilarity) and 1 - TV of the joint distribution for pairs with
    /// a categorical column (numeric ones binned; SDMetrics' ContingencySimilarity). nil with fewer
    /// than two columns.
    public static func correlationSimilarity(real: EncodedRows, synthetic: EncodedRows, model: PersonaModel) -> (score: Double, pairs: Int)? {
        let d = model.numeric.count, c = model.categorical.count
        let total = d + c
        guard total >= 2 else { return nil }
        func levelsOf(_ k: Int) -> Int { k < d ? numericBins : model.categorical[k - d].levels.count + 1 }
        func value(_ rows: EncodedRows, _ i: Int, _ k: Int) -> Int {
            if k < d { return bin(rows.numeric[i * rows.d + k]) }
            let v = rows.codes[i * rows.c + (k - d)]
            return v < 0 ? model.categorical[k - d].levels.count : v
        }
        var sum = 0.0, pairs = 0
        for a in 0..<total {
            for b in (a + 1)..<total {
                if a < d && b < d {
                    let ra = (0..<real.count).map { real.numeric[$0 * d + a] }, rb = (0..<real.count).map { real.numeric[$0 * d + b] }
                    let sa = (0..<synthetic.count).map { synthetic.numeric[$0 * d + a] }, sb = (0..<synthetic.count).map { synthetic.numeric[$0 * d + b] }
                    sum += 1 - abs(correlation(ra, rb) - correlation(sa, sb)) / 2
                } else {
                    let la = levelsOf(a), lb = levelsOf(b)
                    var p = [Double](repeating: 0, count: la * lb), q = p
                    for i in 0..<real.count { p[value(real, i, a) * lb + value(real, i, b)] += 1 }
                    for i in 0..<synthetic.count { q[value(synthetic, i, a) * lb + value(synthetic, i, b)] += 1 }
                    sum += 1 - tv(p, q)
                }
                pairs += 1
            }
        }
        return (sum / Double(pairs), pairs)
    }

    /// Diversity of a set of rows in the encoded space: the mean pairwise distance over `pairs`
    /// random pairs, and the intra-cluster variance (mean squared distance to the centroid of
    /// each row's cluster, clusters given by `cluster`).
    public static func diversity(_ rows: EncodedRows, cluster: [Int], pairs: Int, stream: RandomStream) -> (meanPairwise: Double, intraClusterVariance: Double) {
        guard rows.count >= 2 else { return (0, 0) }
        var s = 0.0
        for _ in 0..<pairs {
            let i = stream.uniformInt(rows.count)
            var j = stream.uniformInt(rows.count - 1)
            if j >= i { j += 1 }
            s += rows.distance2(i, rows, j).squareRoot()
        }
        // Centroids in the encoded space (one-hot columns as frequencies).
        let K = (cluster.max() ?? 0) + 1
        let widths = rows.c
        var levelCount = [Int](repeating: 0, count: widths)
        for i in 0..<rows.count { for t in 0..<widths { levelCount[t] = max(levelCount[t], rows.codes[i * widths + t] + 1) } }
        var num = [[Double]](repeating: [Double](repeating: 0, count: rows.d), count: K)
        var freq = (0..<K).map { _ in levelCount.map { [Double](repeating: 0, count: max($0, 1)) } }
        var n = [Double](repeating: 0, count: K)
        for i in 0..<rows.count {
            let k = cluster[i]
            n[k] += 1
            for t in 0..<rows.d { num[k][t] += rows.numeric[i * rows.d + t] }
            for t in 0..<widths where rows.codes[i * widths + t] >= 0 { freq[k][t][rows.codes[i * widths + t]] += 1 }
        }
        var v = 0.0
        for i in 0..<rows.count {
            let k = cluster[i]
            for t in 0..<rows.d { let x = rows.numeric[i * rows.d + t] - num[k][t] / n[k]; v += x * x }
            for t in 0..<widths {
                // Squared distance from a one-hot vector to the frequency vector f: 1 - 2 f_l + sum f^2.
                let f = freq[k][t].map { $0 / n[k] }
                let l = rows.codes[i * widths + t]
                v += 1 - 2 * (l >= 0 ? f[l] : 0) + f.reduce(0) { $0 + $1 * $1 }
            }
        }
        return (s / Double(pairs), v / Double(rows.count))
    }

    /// Distance to the closest record: for every row of `from` (at most `limit`, spread evenly),
    /// the distance to the nearest row of `to`. Returns the distances.
    public static func dcr(from: EncodedRows, to: EncodedRows, limit: Int) -> [Double] {
        let step = max(1, from.count / max(1, limit))
        var out: [Double] = []
        var i = 0
        while i < from.count && out.count < limit {
            var best = Double.infinity
            for j in 0..<to.count {
                let d = from.distance2(i, to, j)
                if d < best { best = d; if d == 0 { break } }
            }
            out.append(best.squareRoot())
            i += step
        }
        return out
    }

    /// The component each row most likely came from under `model`.
    public static func assign(_ rows: EncodedRows, model: PersonaModel) -> [Int] {
        (0..<rows.count).map { r in
            var best = 0, bestLP = -Double.infinity
            for (k, comp) in model.components.enumerated() {
                var s = log(max(comp.weight, 1e-300))
                for j in 0..<rows.d { let x = rows.numeric[r * rows.d + j] - comp.mean[j]; s -= 0.5 * (log(comp.variance[j]) + x * x / comp.variance[j]) }
                for q in 0..<rows.c { let l = rows.codes[r * rows.c + q]; s += log(l >= 0 ? max(comp.probabilities[q][l], 1e-300) : 1e-300) }
                if s > bestLP { bestLP = s; best = k }
            }
            return best
        }
    }
}

/// Naive Bayes for a categorical target from the other modelled columns (Gaussian per numeric
/// column, Laplace-smoothed frequencies per categorical column): the "simple classifier" of the
/// train-on-synthetic, test-on-real comparison.
public struct NaiveBayes {
    var prior: [Double]
    var mean: [[Double]], variance: [[Double]]
    var freq: [[[Double]]]
    let target: Int
    let d: Int, c: Int

    public init(train rows: EncodedRows, target: Int, levels: [Int]) {
        self.target = target
        d = rows.d; c = rows.c
        let K = levels[target]
        var n = [Double](repeating: 0, count: K)
        var s = [[Double]](repeating: [Double](repeating: 0, count: d), count: K), ss = s
        var f = (0..<K).map { _ in levels.map { [Double](repeating: 1, count: $0 + 1) } }   // Laplace; last slot: unknown level
        for i in 0..<rows.count {
            let y = rows.codes[i * c + target]
            guard y >= 0 else { continue }
            n[y] += 1
            for j in 0..<d { let x = rows.numeric[i * d + j]; s[y][j] += x; ss[y][j] += x * x }
            for q in 0..<c where q != target { let l = rows.codes[i * c + q]; f[y][q][l < 0 ? levels[q] : l] += 1 }
        }
        let total = n.reduce(0, +)
        prior = n.map { log(($0 + 1) / (total + Double(K))) }
        var mu = [[Double]](repeating: [Double](repeating: 0, count: d), count: K), v = mu
        for k in 0..<K {
            let m = max(n[k], 1)
            for j in 0..<d {
                let a: Double = s[k][j] / m
                let b: Double = ss[k][j] / m - a * a
                mu[k][j] = a
                v[k][j] = max(1e-4, b)
            }
        }
        mean = mu
        variance = v
        freq = f.map { (cols: [[Double]]) -> [[Double]] in
            cols.map { (counts: [Double]) -> [Double] in
                let t = counts.reduce(0, +)
                return counts.map { log($0 / t) }
            }
        }
    }

    public func predict(_ rows: EncodedRows, _ i: Int) -> Int {
        var best = 0, bestLP = -Double.infinity
        for k in prior.indices {
            var s = prior[k]
            for j in 0..<d { let x = rows.numeric[i * d + j] - mean[k][j]; s -= 0.5 * (log(variance[k][j]) + x * x / variance[k][j]) }
            for q in 0..<c where q != target {
                let l = rows.codes[i * c + q]
                s += freq[k][q][l < 0 ? freq[k][q].count - 1 : l]
            }
            if s > bestLP { bestLP = s; best = k }
        }
        return best
    }

    /// Accuracy on the rows with a known target level.
    public func accuracy(_ rows: EncodedRows) -> Double {
        var right = 0, total = 0
        for i in 0..<rows.count {
            let y = rows.codes[i * c + target]
            guard y >= 0 else { continue }
            total += 1
            if predict(rows, i) == y { right += 1 }
        }
        return total > 0 ? Double(right) / Double(total) : .nan
    }
}

/// k-anonymity for the patterns a report shows: a group (a combination of quasi-identifier
/// values) with fewer than k real members is suppressed.
public enum KAnonymity {
    public struct Group: Sendable {
        public var values: [String]
        public var real: Int
        public var synthetic: Int
    }

    /// Groups of the quasi-identifier columns `qi` (indices into the model's categorical
    /// columns), sorted by real count then values; those with fewer than `k` real members are
    /// removed and counted.
    public static func groups(real: EncodedRows, synthetic: EncodedRows, qi: [Int], model: PersonaModel, k: Int)
        -> (shown: [Group], suppressedGroups: Int, suppressedRealRows: Int) {
        func key(_ rows: EncodedRows, _ i: Int) -> [Int] { qi.map { rows.codes[i * rows.c + $0] } }
        var counts: [[Int]: (Int, Int)] = [:]
        for i in 0..<real.count { counts[key(real, i), default: (0, 0)].0 += 1 }
        for i in 0..<synthetic.count { counts[key(synthetic, i), default: (0, 0)].1 += 1 }
        var shown: [Group] = [], suppressed = 0, rows = 0
        for (key, c) in counts.sorted(by: { $0.value.0 != $1.value.0 ? $0.value.0 > $1.value.0 : $0.key.lexicographicallyPrecedes($1.key) }) {
            if c.0 < k {
                if c.0 > 0 || c.1 > 0 { suppressed += 1; rows += c.0 }
                continue
            }
            let values = zip(qi, key).map { q, l in l >= 0 ? model.categorical[q].levels[l] : "(other)" }
            shown.append(Group(values: values, real: c.0, synthetic: c.1))
        }
        return (shown, suppressed, rows)
    }
}
