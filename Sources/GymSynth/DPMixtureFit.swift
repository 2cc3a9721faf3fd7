import Foundation
import GymData
import GymEval
import GymRandom

/// Settings of a differentially private mixture fit (`synth fit`).
public struct SynthFitConfig: Sendable, Equatable {
    /// The (epsilon, delta) the whole fit may spend (the blueprint's 1.0 and 1e-5).
    public var epsilon = 1.0
    public var delta = 1e-5
    /// Components; nil: chosen by BIC among 1...maxComponents (each candidate is paid for).
    public var components: Int? = nil
    public var maxComponents = 4
    /// EM iterations per candidate; each is one release of noisy sufficient statistics.
    public var iterations = 8
    /// Rows kept per user (the first ones in file order); the rest are dropped.
    public var maxRowsPerUser = 1
    /// Bounds of numeric columns by name; columns without configured bounds use the data's
    /// minimum and maximum, which is recorded in the model as not private.
    public var bounds: [String: (Double, Double)] = [:]
    /// Variance floor in scaled units.
    public var varianceFloor = 1e-3
    /// Per-row log-likelihood clip for the noisy model selection.
    public var logLikelihoodClip = 50.0
    public init() {}

    public static func == (a: SynthFitConfig, b: SynthFitConfig) -> Bool {
        a.epsilon == b.epsilon && a.delta == b.delta && a.components == b.components && a.maxComponents == b.maxComponents
            && a.iterations == b.iterations && a.maxRowsPerUser == b.maxRowsPerUser && a.varianceFloor == b.varianceFloor
            && a.logLikelihoodClip == b.logLikelihoodClip && a.bounds.mapValues { [$0.0, $0.1] } == b.bounds.mapValues { [$0.0, $0.1] }
    }
}

/// Differentially private EM for a mixture of diagonal Gaussians (numeric columns) and
/// categorical frequencies (Park, Foulds, Chaudhuri and Welling 2017, "DP-EM", with the Gaussian
/// mechanism and RDP accounting).
///
/// Privacy unit: a user, whose rows are capped at `maxRowsPerUser`. Numeric values are clipped to
/// their bounds and scaled to [-1, 1]. Each EM iteration releases, per component k, the noisy
/// sums over rows of r_k, r_k u, r_k u^2 and r_k onehot(category) (r_k the responsibilities). One
/// row's vector of all those sums has L2 norm at most sqrt(1 + 2d + c) (sum_k r_k^2 <= 1,
/// |u| <= 1, c categorical columns), so one user's at most m sqrt(1 + 2d + c): that times the
/// noise multiplier is the noise standard deviation. The initial parameters are drawn from the
/// seed alone (no data). Choosing k by BIC releases one noisy log-likelihood per candidate, per-row
/// values clipped to [-clip, clip] (sensitivity m clip). Every release uses the same noise
/// multiplier, calibrated so that all of them together spend (epsilon, delta).
public enum DPMixtureFit {
    public struct Result: Sendable {
        public var model: PersonaModel
        /// The mechanisms applied (for the ledger).
        public var events: [PrivacyEvent]
    }

    public static func fit(_ table: DataTable, config: SynthFitConfig, seed: UInt64, source: String) throws -> Result {
        guard config.epsilon > 0, config.delta > 0, config.delta < 1 else {
            throw DataError(file: source, message: "epsilon must be > 0 and delta in (0, 1)")
        }
        let root = SeedTree(root: seed)
        // Per-user cap, in file order.
        var perUser = [Int](repeating: 0, count: table.userCount)
        var rows: [Int] = []
        for i in 0..<table.rowCount {
            let u = table.user[i]
            if perUser[u] < config.maxRowsPerUser { perUser[u] += 1; rows.append(i) }
        }
        let n = rows.count
        // Bounds and scaling.
        var numeric: [PersonaModel.NumericColumn] = []
        for (j, name) in table.numericNames.enumerated() {
            if let b = config.bounds[name] {
                guard b.0 < b.1, b.0.isFinite, b.1.isFinite else {
                    throw DataError(file: source, column: name, message: "bounds must be finite with low < high, got [\(b.0), \(b.1)]")
                }
                numeric.append(.init(name: name, low: b.0, high: b.1, boundsSource: "configured"))
            } else {
                var lo = Double.infinity, hi = -Double.infinity
                for i in rows { lo = min(lo, table.numeric[j][i]); hi = max(hi, table.numeric[j][i]) }
                if !(hi > lo) { hi = lo + 1 }
                numeric.append(.init(name: name, low: lo, high: hi, boundsSource: "data"))
            }
        }
        let d = numeric.count, C = table.categoricalNames.count
        var u = [Double](repeating: 0, count: n * d)
        for (r, i) in rows.enumerated() {
            for j in 0..<d {
                let c = numeric[j]
                let x = min(max(table.numeric[j][i], c.low), c.high)
                u[r * d + j] = 2 * (x - c.low) / (c.high - c.low) - 1
            }
        }
        var cat = [Int](repeating: 0, count: n * C)
        for (r, i) in rows.enumerated() { for c in 0..<C { cat[r * C + c] = table.categorical[c][i] } }
        let levels = table.levels.map(\.count)
        let categorical = (0..<C).map { PersonaModel.CategoricalColumn(name: table.categoricalNames[$0], levels: table.levels[$0],
                                                                        quasiIdentifier: table.quasiIdentifiers.contains(table.categoricalNames[$0])) }
        // The releases and their noise.
        let candidates = config.components.map { [$0] } ?? Array(1...max(1, config.maxComponents))
        let choosing = candidates.count > 1
        let releases = candidates.count * config.iterations + (choosing ? candidates.count : 0)
        let z = RDPAccountant.calibrateSigma(epsilon: config.epsilon, delta: config.delta, steps: releases)
        let m = Double(config.maxRowsPerUser)
        let sensitivity = m * (1 + 2 * Double(d) + Double(C)).squareRoot()
        let noise = root.child("privacy.noise").stream(.taus2)

        var fits: [(components: [PersonaModel.Component], candidate: PersonaModel.Candidate)] = []
        for k in candidates {
            var comps = initial(k: k, d: d, levels: levels, stream: root.child("synth.init", k).stream())
            for _ in 0..<config.iterations {
                comps = emStep(comps, u: u, cat: cat, n: n, d: d, levels: levels, noiseSD: z * sensitivity, noise: noise,
                               floor: config.varianceFloor)
            }
            var ll = 0.0
            let clip = config.logLikelihoodClip
            for r in 0..<n { ll += min(clip, max(-clip, logDensity(comps, u: u, cat: cat, row: r, d: d).total)) }
            let params = (k - 1) + k * 2 * d + k * levels.reduce(0) { $0 + $1 - 1 }
            if choosing { ll += noise.gaussian(sd: z * m * clip) }
            let bic = -2 * ll + Double(params) * log(Double(max(n, 2)))
            fits.append((comps, .init(components: k, logLikelihood: ll, parameters: params, bic: bic)))
        }
        let best = fits.min { $0.candidate.bic < $1.candidate.bic }!
        var notes: [String] = []
        let dataBounds = numeric.filter { $0.boundsSource == "data" }.map(\.name)
        if !dataBounds.isEmpty {
            notes.append("bounds of \(dataBounds.count) numeric column\(dataBounds.count == 1 ? "" : "s") were read from the data (not private): configure them to keep the whole fit private")
        }
        if C > 0 { notes.append("category levels are taken from the data: their names are published, their frequencies are noisy") }
        let model = PersonaModel(
            format: PersonaModel.format, version: PersonaModel.currentVersion, source: source, numeric: numeric,
            categorical: categorical, components: best.components, selection: fits.map(\.candidate),
            privacy: .init(epsilon: config.epsilon, delta: config.delta, noiseMultiplier: z, releases: releases,
                           maxRowsPerUser: config.maxRowsPerUser, statisticsSensitivity: sensitivity,
                           logLikelihoodClip: config.logLikelihoodClip, users: table.userCount, rowsUsed: n,
                           rowsDropped: table.rowCount - n, notes: notes),
            seed: seed)
        return Result(model: model, events: [.composed(.gaussian(sigma: z), times: releases)])
    }

    /// Data-independent start: equal weights, means uniform in [-0.5, 0.5], variance 1/3 (a
    /// uniform on [-1, 1]), uniform frequencies.
    static func initial(k: Int, d: Int, levels: [Int], stream: RandomStream) -> [PersonaModel.Component] {
        (0..<k).map { _ in
            PersonaModel.Component(weight: 1 / Double(k), mean: (0..<d).map { _ in stream.uniform() - 0.5 },
                                   variance: [Double](repeating: 1.0 / 3, count: d),
                                   probabilities: levels.map { [Double](repeating: 1 / Double($0), count: $0) })
        }
    }

    /// log p(row | component k) + log weight_k for every k, and their log-sum.
    static func logDensity(_ comps: [PersonaModel.Component], u: [Double], cat: [Int], row r: Int, d: Int)
        -> (perComponent: [Double], total: Double) {
        let C = comps.first?.probabilities.count ?? 0
        var lp = [Double](repeating: 0, count: comps.count)
        for (k, c) in comps.enumerated() {
            var s = log(max(c.weight, 1e-300))
            for j in 0..<d {
                let diff = u[r * d + j] - c.mean[j]
                s += -0.5 * (log(2 * Double.pi * c.variance[j]) + diff * diff / c.variance[j])
            }
            for q in 0..<C { s += log(max(c.probabilities[q][cat[r * C + q]], 1e-300)) }
            lp[k] = s
        }
        let mx = lp.max() ?? 0
        let total = mx + log(lp.reduce(0) { $0 + exp($1 - mx) })
        return (lp, total)
    }

    /// One DP-EM iteration: responsibilities, noisy sufficient statistics, M-step.
    static func emStep(_ comps: [PersonaModel.Component], u: [Double], cat: [Int], n: Int, d: Int, levels: [Int],
                       noiseSD: Double, noise: RandomStream, floor: Double) -> [PersonaModel.Component] {
        let K = comps.count, C = levels.count
        var N = [Double](repeating: 0, count: K)
        var S = [Double](repeating: 0, count: K * d), Q = S
        var counts = (0..<K).map { _ in levels.map { [Double](repeating: 0, count: $0) } }
        for r in 0..<n {
            let (lp, total) = logDensity(comps, u: u, cat: cat, row: r, d: d)
            for k in 0..<K {
                let w = exp(lp[k] - total)
                N[k] += w
                for j in 0..<d { let x = u[r * d + j]; S[k * d + j] += w * x; Q[k * d + j] += w * x * x }
                for q in 0..<C { counts[k][q][cat[r * C + q]] += w }
            }
        }
        // The Gaussian mechanism on every released coordinate, in a fixed order.
        for k in 0..<K {
            N[k] += noise.gaussian(sd: noiseSD)
            for j in 0..<d { S[k * d + j] += noise.gaussian(sd: noiseSD) }
            for j in 0..<d { Q[k * d + j] += noise.gaussian(sd: noiseSD) }
            for q in 0..<C { for l in 0..<levels[q] { counts[k][q][l] += noise.gaussian(sd: noiseSD) } }
        }
        // M-step, with the noise kept in range.
        let minCount = 1.0
        let totalN = N.reduce(0) { $0 + max($1, 0) }
        var out: [PersonaModel.Component] = []
        for k in 0..<K {
            let nk = N[k]
            if nk < minCount || !(totalN > 0) {
                var keep = comps[k]
                keep.weight = 0
                out.append(keep)
                continue
            }
            var mean = [Double](repeating: 0, count: d), variance = mean
            for j in 0..<d {
                let mu = min(1, max(-1, S[k * d + j] / nk))
                mean[j] = mu
                variance[j] = min(1, max(floor, Q[k * d + j] / nk - mu * mu))
            }
            let probs = (0..<C).map { q -> [Double] in
                let raw = counts[k][q].map { max($0, 0) + 0.5 }
                let s = raw.reduce(0, +)
                return raw.map { $0 / s }
            }
            out.append(.init(weight: nk / totalN, mean: mean, variance: variance, probabilities: probs))
        }
        // Renormalise the weights (dropped components have 0).
        let w = out.reduce(0) { $0 + $1.weight }
        if w > 0 { for k in 0..<K { out[k].weight /= w } } else { for k in 0..<K { out[k].weight = 1 / Double(K) } }
        return out
    }
}
