import Foundation
import GymLinalg
import GymRandom

// Discrete Conservative Q-Learning (Kumar, Zhou, Tucker & Levine 2020, "Conservative Q-Learning
// for Offline Reinforcement Learning", the CQL(H) variant of their eq. 4 for discrete actions),
// on top of double DQN (van Hasselt, Guez & Silver 2016), as d3rlpy's DiscreteCQL builds it.
//
// Per gradient step, on a batch of B logged transitions (s, a, r, f, s'), where f is the discount
// to the next decision (0 at a terminal, gamma, or gamma^(days elapsed) in the journey world's
// semi-Markov time):
//   a*   = argmax over the allowed actions of s' of Q(s', .)          (the online network)
//   y    = r + f Q_target(s', a*)                                       (no bootstrap when f = 0)
//   TD   = mean over the batch of huber(Q(s, a) - y)                    (d3rlpy's DQN loss; or squared)
//   CQL  = alpha mean over the batch of [logsumexp over allowed actions of Q(s, .) - Q(s, a)]
//   loss = TD + CQL, one Adam step; the target network is copied every `targetUpdateInterval` steps.
// The conservative term pushes Q down on every allowed action in proportion to its softmax weight
// and up on the logged one, so actions the data never shows end up below those it does.
//
// Truncation (a journey cut by the horizon, not ended) keeps f > 0 when the next observation is
// known and drops the transition from the TD term otherwise (f = 0 there would read as "nothing
// follows"); `Transitions.bootstrap` marks which.

/// Hyperparameters. Defaults are d3rlpy 2.8's DiscreteCQLConfig (batch 32, lr 6.25e-5, alpha 1,
/// gamma 0.99, target update every 8,000 steps, Adam eps 1e-8) with its default encoder for vector
/// observations (256-256, relu).
public struct CQLConfig: Sendable, Equatable, Codable {
    public var hidden = [256, 256]
    public var learningRate = 6.25e-5
    public var batchSize = 32
    /// Weight of the conservative term (alpha in Kumar et al. 2020; 0 gives double DQN).
    public var alpha = 1.0
    public var targetUpdateInterval = 8000
    /// Huber loss (delta 1) on the TD error, as d3rlpy's DQN; false: squared error.
    public var huber = true
    public var adamEps = 1e-8
    public init() {}
}

/// Logged transitions for offline learning, row-major.
public struct Transitions: Sendable {
    public let dimension: Int
    public let actions: Int
    public var observation: [Float]
    public var nextObservation: [Float]
    public var action: [Int32]
    public var reward: [Float]
    /// The discount from this decision to the next one (0 at a terminal).
    public var discount: [Float]
    /// Whether the transition has a TD target: false for a truncated journey's last decision,
    /// whose next observation is unknown.
    public var bootstrap: [Bool]
    /// Allowed actions of s and of s' (n x actions each; empty: every action allowed).
    public var mask: [Bool] = []
    public var nextMask: [Bool] = []
    public var count: Int { action.count }

    public init(dimension: Int, actions: Int, observation: [Float], nextObservation: [Float], action: [Int32], reward: [Float],
                discount: [Float], bootstrap: [Bool]) {
        self.dimension = dimension; self.actions = actions; self.observation = observation; self.nextObservation = nextObservation
        self.action = action; self.reward = reward; self.discount = discount; self.bootstrap = bootstrap
    }
    /// The allowed actions of the rows (B x actions), or nil when every action is allowed.
    func batchMask(_ rows: [Int], next: Bool) -> [Bool]? {
        let m = next ? nextMask : mask
        guard !m.isEmpty else { return nil }
        return rows.flatMap { m[($0 * actions)..<(($0 + 1) * actions)] }
    }
}

/// The losses of one gradient step.
public struct CQLStepStats: Sendable, Equatable {
    public var td: Double, conservative: Double, meanQ: Double
    public init(td: Double, conservative: Double, meanQ: Double) { self.td = td; self.conservative = conservative; self.meanQ = meanQ }
}

public final class DiscreteCQL {
    public let config: CQLConfig
    public let q: MLP, target: MLP
    public let dimension: Int, actions: Int
    var adam: Adam
    public private(set) var steps = 0
    let sampler: RandomStream

    public init(dimension: Int, actions: Int, config: CQLConfig, seed: SeedTree, precision: NetPrecision = .float,
                gemm: GemmBackend = Gemm.preferred) {
        self.config = config; self.dimension = dimension; self.actions = actions
        let shape = MLPShape(inputs: dimension, hidden: config.hidden, outputs: actions, activation: .relu)
        q = MLP(shape: shape, gemm: gemm, precision: precision)
        target = MLP(shape: shape, gemm: gemm, precision: precision)
        q.initializeOrthogonal(gains: [Double](repeating: 2.0.squareRoot(), count: config.hidden.count) + [1], stream: seed.child("init").stream(.taus2))
        target.parameters = q.parameters
        adam = Adam(count: q.parameters.count)
        adam.eps = config.adamEps
        sampler = seed.child("batches").stream(.taus2)
    }

    /// TD targets: y_b = r_b + f_b Q_target(s'_b, argmax over allowed a of Q_online(s'_b, a)), or
    /// r_b when f_b = 0. Rows without a bootstrap get NaN (left out of the TD term). `mask`: the
    /// allowed actions of s' (B x A), nil for all.
    public static func targets(reward: [Double], discount: [Double], bootstrap: [Bool], nextOnline: UnsafeBufferPointer<Double>,
                               nextTarget: UnsafeBufferPointer<Double>, mask: [Bool]?, actions A: Int) -> [Double] {
        (0..<reward.count).map { b in
            guard bootstrap[b] else { return .nan }
            guard discount[b] > 0 else { return reward[b] }
            var best = -1
            for a in 0..<A where (mask?[b * A + a] ?? true) && (best < 0 || nextOnline[b * A + a] > nextOnline[b * A + best]) { best = a }
            return best < 0 ? reward[b] : reward[b] + discount[b] * nextTarget[b * A + best]
        }
    }

    /// The loss on a batch of Q values (B x A) and dLoss/dQ into `grad`: TD on the logged action
    /// (huber or squared, averaged over the rows with a target) plus alpha times the mean over all
    /// rows of logsumexp over the allowed actions (`mask`, B x A; nil for all) minus the logged
    /// action's Q.
    public static func loss(q: UnsafeBufferPointer<Double>, action: [Int], y: [Double], mask: [Bool]?, actions A: Int,
                            alpha: Double, huber: Bool, grad: inout [Double]) -> CQLStepStats {
        let B = action.count
        let tdRows = Double(max(1, y.filter { !$0.isNaN }.count))
        var td = 0.0, cql = 0.0, meanQ = 0.0
        for i in 0..<(B * A) { grad[i] = 0 }
        for b in 0..<B {
            let a = action[b], qa = q[b * A + a]
            meanQ += qa
            if !y[b].isNaN {
                let e = qa - y[b]
                if huber && abs(e) > 1 { td += abs(e) - 0.5; grad[b * A + a] += (e > 0 ? 1 : -1) / tdRows }
                else { td += huber ? 0.5 * e * e : e * e; grad[b * A + a] += (huber ? e : 2 * e) / tdRows }
            }
            guard alpha != 0 else { continue }
            var m = -Double.infinity
            for k in 0..<A where mask?[b * A + k] ?? true { m = max(m, q[b * A + k]) }
            var z = 0.0
            for k in 0..<A where mask?[b * A + k] ?? true { z += exp(q[b * A + k] - m) }
            cql += m + log(z) - qa
            for k in 0..<A where mask?[b * A + k] ?? true { grad[b * A + k] += alpha * exp(q[b * A + k] - m) / z / Double(B) }
            grad[b * A + a] -= alpha / Double(B)
        }
        return CQLStepStats(td: td / tdRows, conservative: alpha * cql / Double(B), meanQ: meanQ / Double(B))
    }

    /// One gradient step on the transitions at `rows`. The passes run on the batch as stored
    /// (single precision, no conversion, when the networks are `.float`).
    @discardableResult
    public func update(_ data: Transitions, rows: [Int]) -> CQLStepStats {
        let B = rows.count, A = actions
        var reward = [Double](repeating: 0, count: B), discount = reward, boot = [Bool](repeating: false, count: B), act = [Int](repeating: 0, count: B)
        let x = data.gather(data.observation, rows), xNext = data.gather(data.nextObservation, rows)
        for (b, i) in rows.enumerated() {
            reward[b] = Double(data.reward[i]); discount[b] = Double(data.discount[i]); boot[b] = data.bootstrap[i]; act[b] = Int(data.action[i])
        }
        let nextTarget = target.forward(batch: xNext, rows: B), nextOnline = q.forward(batch: xNext, rows: B)
        let ys = nextOnline.withUnsafeBufferPointer { on in
            nextTarget.withUnsafeBufferPointer { tg in
                DiscreteCQL.targets(reward: reward, discount: discount, bootstrap: boot, nextOnline: on, nextTarget: tg,
                                    mask: data.batchMask(rows, next: true), actions: A)
            }
        }
        let out = q.forward(batch: x, rows: B)
        var dq = [Double](repeating: 0, count: B * A)
        let stats = out.withUnsafeBufferPointer {
            DiscreteCQL.loss(q: $0, action: act, y: ys, mask: data.batchMask(rows, next: false), actions: A, alpha: config.alpha,
                             huber: config.huber, grad: &dq)
        }
        q.zeroGradients()
        q.backward(gradient: dq)
        adam.step(&q.parameters, q.gradients, lr: config.learningRate)
        steps += 1
        if steps % config.targetUpdateInterval == 0 { target.parameters = q.parameters }
        return stats
    }

    /// `count` gradient steps on batches drawn uniformly with replacement (stream `batches`);
    /// `every(step, stats)` is called after each step.
    public func train(_ data: Transitions, steps count: Int, every: ((Int, CQLStepStats) -> Void)? = nil) {
        var rows = [Int](repeating: 0, count: config.batchSize)
        for _ in 0..<count {
            for b in 0..<rows.count { rows[b] = sampler.uniformInt(data.count) }
            let s = update(data, rows: rows)
            every?(steps, s)
        }
    }

    /// Q values of one observation.
    public func values(_ observation: [Double]) -> [Double] { q.forward(observation) }

    /// Floating-point operations of one gradient step at batch B: three forward passes (Q on s
    /// and s', the target on s') and a backward pass (weight gradients on every layer, input
    /// gradients on all but the first): 5F - 2 B w0 w1 with F = sum over layers of 2 B w_l w_{l+1}.
    public static func flopsPerStep(dimension: Int, hidden: [Int], actions: Int, batch B: Int) -> Double {
        let w = [dimension] + hidden + [actions]
        let f = (0..<(w.count - 1)).reduce(0.0) { $0 + 2 * Double(B * w[$1] * w[$1 + 1]) }
        return 5 * f - 2 * Double(B * w[0] * w[1])
    }
}

extension Transitions {
    /// The rows `rows` of a row-major array of `dimension` columns (observations or next observations).
    func gather(_ source: [Float], _ rows: [Int]) -> [Float] {
        let D = dimension
        var x = [Float](repeating: 0, count: rows.count * D)
        source.withUnsafeBufferPointer { o in
            x.withUnsafeMutableBufferPointer { xb in
                for (b, i) in rows.enumerated() { (xb.baseAddress! + b * D).update(from: o.baseAddress! + i * D, count: D) }
            }
        }
        return x
    }
}

extension MLP {
    /// A forward pass on a batch of single-precision rows, as doubles: no conversion of the input
    /// when the network is `.float`.
    func forward(batch x: [Float], rows B: Int) -> [Double] {
        if precision == .float { return x.withUnsafeBufferPointer { forwardFloat($0.baseAddress!, batch: B).map { Double($0) } } }
        let xd = x.map { Double($0) }
        return xd.withUnsafeBufferPointer { Array(forward($0.baseAddress!, batch: B)) }
    }

    /// The backward pass of the last batch given dLoss/doutput, in the network's precision.
    func backward(gradient g: [Double]) {
        if precision == .float {
            let gf = g.map { Float($0) }
            gf.withUnsafeBufferPointer { backwardFloat($0.baseAddress!) }
        } else {
            g.withUnsafeBufferPointer { backward($0.baseAddress!) }
        }
    }
}
