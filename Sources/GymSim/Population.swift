import Foundation
import GymRandom

@inline(__always) func logistic(_ x: Double) -> Double { 1 / (1 + exp(-x)) }
@inline(__always) func logit(_ p: Double) -> Double { log(p / (1 - p)) }

/// The static part of a synthetic population: who the users are. Built once per run from the
/// `sim.population` stream; nothing in it changes during a run.
public final class Population: Sendable {
    public let size: Int
    public let topics: Int
    public let group: [Int32]
    /// size x 5, OCEAN in (0, 1).
    public let traits: [Double]
    /// size x 5, the system's noisy estimates of the traits.
    public let traitEstimates: [Double]
    /// size x topics, Dirichlet.
    public let interests: [Double]
    /// Dominant topic (block of the social graph).
    public let block: [Int32]
    /// size x personaDimension, unit vectors, Float to halve memory.
    public let persona: [Float]
    public let personaDimension: Int
    /// Sessions per day.
    public let activity: [Double]
    /// Preferred hour of day in [0, 24).
    public let chronotype: [Double]
    public let initialTrust: [Double]
    /// Existing connections (adjacency lists, CSR): neighbours of u are `edges[edgeStart[u]..<edgeStart[u+1]]`.
    public let edgeStart: [Int]
    public let edges: [Int32]
    /// Candidate pools (CSR like the graph) with the true persona similarity and complementarity of each pair.
    public let poolSize: Int
    public let pool: [Int32]
    public let poolSimilarity: [Float]
    public let poolComplementarity: [Float]
    /// With a persona source: each user's latent draw z (size x latent dimension, row-major), the
    /// user in the source's own terms (for a persona model: its columns, scaled and one-hot).
    public let latent: [Double]
    public let latentDimension: Int

    init(size: Int, topics: Int, group: [Int32], traits: [Double], traitEstimates: [Double], interests: [Double],
         block: [Int32], persona: [Float], personaDimension: Int, activity: [Double], chronotype: [Double],
         initialTrust: [Double], edgeStart: [Int], edges: [Int32], poolSize: Int, pool: [Int32],
         poolSimilarity: [Float], poolComplementarity: [Float], latent: [Double] = [], latentDimension: Int = 0) {
        self.latent = latent; self.latentDimension = latentDimension
        self.size = size; self.topics = topics; self.group = group; self.traits = traits
        self.traitEstimates = traitEstimates; self.interests = interests; self.block = block; self.persona = persona
        self.personaDimension = personaDimension; self.activity = activity; self.chronotype = chronotype
        self.initialTrust = initialTrust; self.edgeStart = edgeStart; self.edges = edges; self.poolSize = poolSize
        self.pool = pool; self.poolSimilarity = poolSimilarity; self.poolComplementarity = poolComplementarity
    }

    /// Trait complementarity: agreeable people pair well, similar conscientiousness and extraversion
    /// help, and different openness adds novelty. Roughly in [-1, 1].
    @inline(__always)
    static func complementarity(_ t: UnsafeBufferPointer<Double>, _ u: Int, _ v: Int) -> Double {
        let a = t[u * 5 + 3] + t[v * 5 + 3] - 1
        let c = abs(t[u * 5 + 1] - t[v * 5 + 1])
        let e = abs(t[u * 5 + 2] - t[v * 5 + 2])
        let o = abs(t[u * 5 + 0] - t[v * 5 + 0])
        return 1.5 * a - 1.5 * c - 1.5 * e + 0.5 * o + 0.3
    }

    public static func generate(_ cfg: PopulationConfig, seed: SeedTree, generator: GeneratorKind = .mt19937) -> Population {
        let s = seed.stream(generator)
        let n = cfg.size, T = cfg.topics, D = cfg.personaDimension, G = cfg.groups.count
        let groupTable = try! Categorical(weights: cfg.groups.map { $0.share })
        var group = [Int32](repeating: 0, count: n)
        var traits = [Double](repeating: 0, count: n * 5)
        var est = [Double](repeating: 0, count: n * 5)
        var interests = [Double](repeating: 0, count: n * T)
        var block = [Int32](repeating: 0, count: n)
        var activity = [Double](repeating: 0, count: n)
        var chrono = [Double](repeating: 0, count: n)
        var trust = [Double](repeating: 0, count: n)
        let alpha = [Double](repeating: cfg.interestConcentration, count: T)
        var tmp = [Double](repeating: 0, count: T)
        // With a persona source (a model fitted to real data), each user's latent vector z shifts
        // the priors: trait k = logistic(logit(Beta draw) + a_k . z), interests proportional to
        // Dirichlet draw * exp(b_t . z), group = the source's level when it gives one. a_k and b_t
        // are fixed projections (standard Gaussians / sqrt(dim z)) from the seed's
        // `from_model.projection` branch. Users that are alike in the real data are alike here;
        // the meaning of the real columns is not carried over (the projection is arbitrary).
        if let ref = cfg.fromModel, ref.source == nil {
            preconditionFailure("population.from_model (\(ref.path)) is not bound to a persona source; load scenarios through GymRunner (ScenarioBinding)")
        }
        let source = cfg.fromModel?.source
        let L = source?.latentDimension ?? 0
        var A = [Double](), B = [Double](), latent = [Double](repeating: 0, count: max(L, 1))
        if L > 0 {
            let ps = seed.child("from_model.projection").stream(generator)
            let scale = 1 / Double(L).squareRoot()
            A = (0..<(5 * L)).map { _ in ps.standardNormal() * scale }
            B = (0..<(T * L)).map { _ in ps.standardNormal() * scale }
        }
        var latentRows = [Double]()
        latentRows.reserveCapacity(n * L)
        for u in 0..<n {
            var level: Int?
            if let source {
                level = latent.withUnsafeMutableBufferPointer { source.draw(s, into: $0.baseAddress!) }
                latentRows.append(contentsOf: latent.prefix(L))
            }
            let g = level.map { $0 % G } ?? groupTable.sample(s)
            group[u] = Int32(g)
            let gc = cfg.groups[g]
            for k in 0..<5 {
                var t = s.beta(gc.traitAlpha[k], gc.traitBeta[k])
                if L > 0 {
                    var shift = 0.0
                    for j in 0..<L { shift += A[k * L + j] * latent[j] }
                    t = logistic(logit(min(1 - 1e-9, max(1e-9, t))) + shift)
                }
                traits[u * 5 + k] = t
                est[u * 5 + k] = min(1, max(0, t + s.gaussian(sd: cfg.traitEstimateNoise)))
            }
            s.dirichlet(alpha, into: &tmp)
            if L > 0 {
                var total = 0.0
                for k in 0..<T {
                    var shift = 0.0
                    for j in 0..<L { shift += B[k * L + j] * latent[j] }
                    tmp[k] *= exp(shift)
                    total += tmp[k]
                }
                for k in 0..<T { tmp[k] /= total }
            }
            var best = 0
            for k in 0..<T { interests[u * T + k] = tmp[k]; if tmp[k] > tmp[best] { best = k } }
            block[u] = Int32(best)
            activity[u] = s.gamma(shape: cfg.activityShape, scale: cfg.activityMean / cfg.activityShape)
            var h = (cfg.chronotypeMeanHour + s.gaussian(sd: cfg.chronotypeSDHours)).truncatingRemainder(dividingBy: 24)
            if h < 0 { h += 24 }
            chrono[u] = h
            trust[u] = s.beta(cfg.trustAlpha, cfg.trustBeta)
        }
        // Persona vectors: normalize(W z + noise), z = [traits - 0.5, interests - 1/T, onehot(group) - share].
        // W is stored column by column (zDim columns of length D) so that W z accumulates
        // whole columns: independent multiply-adds that vectorise.
        let zDim = 5 + T + G
        let wStream = seed.child("projection").stream(generator)
        var W = [Double](repeating: 0, count: D * zDim)
        for i in 0..<D { for j in 0..<zDim { W[j * D + i] = wStream.standardNormal() } }
        var persona = [Float](repeating: 0, count: n * D)
        var z = [Double](repeating: 0, count: zDim)
        var v = [Double](repeating: 0, count: D)
        W.withUnsafeBufferPointer { w in
            v.withUnsafeMutableBufferPointer { vb in
                persona.withUnsafeMutableBufferPointer { pb in
                    for u in 0..<n {
                        for k in 0..<5 { z[k] = traits[u * 5 + k] - 0.5 }
                        for k in 0..<T { z[5 + k] = interests[u * T + k] - 1 / Double(T) }
                        for g in 0..<G { z[5 + T + g] = (Int(group[u]) == g ? 1 : 0) - cfg.groups[g].share }
                        for i in 0..<D { vb[i] = s.gaussian(sd: cfg.personaNoise) }
                        for j in 0..<zDim {
                            let zj = z[j]
                            let col = w.baseAddress! + j * D
                            for i in 0..<D { vb[i] += col[i] * zj }
                        }
                        let norm = dot(vb.baseAddress!, vb.baseAddress!, D)
                        let inv = norm > 0 ? 1 / norm.squareRoot() : 0
                        for i in 0..<D { pb[u * D + i] = Float(vb[i] * inv) }
                    }
                }
            }
        }
        // Members of each topic block, for the graph and the pools.
        var members = [[Int32]](repeating: [], count: T)
        for u in 0..<n { members[Int(block[u])].append(Int32(u)) }
        // Social graph: Poisson numbers of within-block and across-block contacts, drawn by index.
        var adj = [[Int32]](repeating: [], count: n)
        let gs = seed.child("graph").stream(generator)
        for u in 0..<n {
            let mine = members[Int(block[u])]
            let kin = gs.poisson(cfg.degreeWithin / 2)
            let kout = gs.poisson(cfg.degreeAcross / 2)
            for _ in 0..<kin where mine.count > 1 {
                let w = Int(mine[gs.uniformInt(mine.count)])
                if w != u && !adj[u].contains(Int32(w)) { adj[u].append(Int32(w)); adj[w].append(Int32(u)) }
            }
            for _ in 0..<kout where n > 1 {
                let w = gs.uniformInt(n)
                if w != u && !adj[u].contains(Int32(w)) { adj[u].append(Int32(w)); adj[w].append(Int32(u)) }
            }
        }
        var edgeStart = [Int](repeating: 0, count: n + 1)
        var edges: [Int32] = []
        edges.reserveCapacity(adj.reduce(0) { $0 + $1.count })
        for u in 0..<n { edgeStart[u] = edges.count; edges.append(contentsOf: adj[u]) }
        edgeStart[n] = edges.count
        // Candidate pools: P distinct others, a share from the same block, the rest from anywhere.
        let P = min(cfg.candidatePool, max(0, n - 1))
        var pool = [Int32](repeating: -1, count: n * P)
        var psim = [Float](repeating: 0, count: n * P)
        var pcomp = [Float](repeating: 0, count: n * P)
        let ps = seed.child("pools").stream(generator)
        traits.withUnsafeBufferPointer { tb in
            persona.withUnsafeBufferPointer { pb in
                for u in 0..<n {
                    let mine = members[Int(block[u])]
                    var filled = 0
                    var attempts = 0
                    while filled < P && attempts < P * 20 {
                        attempts += 1
                        let fromBlock = mine.count > 1 && ps.uniform() < cfg.poolSameTopicShare
                        let w = fromBlock ? Int(mine[ps.uniformInt(mine.count)]) : ps.uniformInt(n)
                        if w == u { continue }
                        var dup = false
                        for j in 0..<filled where pool[u * P + j] == Int32(w) { dup = true; break }
                        if dup { continue }
                        pool[u * P + filled] = Int32(w)
                        psim[u * P + filled] = dot(pb.baseAddress! + u * D, pb.baseAddress! + w * D, D)
                        pcomp[u * P + filled] = Float(complementarity(tb, u, w))
                        filled += 1
                    }
                }
            }
        }
        return Population(size: n, topics: T, group: group, traits: traits, traitEstimates: est,
                          interests: interests, block: block, persona: persona, personaDimension: D,
                          activity: activity, chronotype: chrono, initialTrust: trust,
                          edgeStart: edgeStart, edges: edges, poolSize: P, pool: pool,
                          poolSimilarity: psim, poolComplementarity: pcomp, latent: latentRows, latentDimension: L)
    }
}

extension Population {
    /// An empty population (before the first reset).
    static let empty = Population(size: 0, topics: 1, group: [], traits: [], traitEstimates: [], interests: [], block: [],
                                  persona: [], personaDimension: 1, activity: [], chronotype: [], initialTrust: [],
                                  edgeStart: [0], edges: [], poolSize: 0, pool: [], poolSimilarity: [], poolComplementarity: [])
}
