import Foundation
import GymLinalg
import GymRandom

// Behaviour cloning over a masked action space: a softmax policy network fitted to the logged
// actions by cross-entropy, with d3rlpy DiscreteBC's penalty beta * mean(logits^2) that keeps the
// logits small. Masked actions get no probability: the softmax runs over each row's allowed actions.

/// Hyperparameters. Defaults are d3rlpy 2.8's DiscreteBCConfig (batch 100, lr 1e-3, beta 0.5, Adam
/// eps 1e-8) with its default 256-256 relu encoder.
public struct BCConfig: Sendable, Equatable, Codable {
    public var hidden = [256, 256]
    public var learningRate = 1e-3
    public var batchSize = 100
    public var beta = 0.5
    public var adamEps = 1e-8
    public init() {}
}

public final class BehaviourCloning: ActionDistribution {
    public let config: BCConfig
    public let net: MLP
    public let dimension: Int, actions: Int
    var adam: Adam
    public private(set) var steps = 0
    let sampler: RandomStream

    public init(dimension: Int, actions: Int, config: BCConfig, seed: SeedTree, precision: NetPrecision = .float, gemm: GemmBackend = Gemm.preferred) {
        self.config = config; self.dimension = dimension; self.actions = actions
        net = MLP(shape: MLPShape(inputs: dimension, hidden: config.hidden, outputs: actions, activation: .relu), gemm: gemm, precision: precision)
        net.initializeOrthogonal(gains: [Double](repeating: 2.0.squareRoot(), count: config.hidden.count) + [0.01], stream: seed.child("init").stream(.taus2))
        adam = Adam(count: net.parameters.count)
        adam.eps = config.adamEps
        sampler = seed.child("batches").stream(.taus2)
    }

    /// The loss on a batch of logits (B x A) and dLoss/dlogits into `grad`: the mean over rows of
    /// -log softmax over the allowed actions at the logged action, plus beta times the mean of the
    /// squared logits (all B x A of them, as d3rlpy). Returns the mean cross-entropy and penalty.
    public static func loss(logits: UnsafeBufferPointer<Double>, action: [Int], mask: [Bool]?, actions A: Int, beta: Double,
                            grad: inout [Double]) -> (crossEntropy: Double, penalty: Double) {
        let B = action.count
        var ce = 0.0, pen = 0.0
        for b in 0..<B {
            var m = -Double.infinity
            for k in 0..<A where mask?[b * A + k] ?? true { m = max(m, logits[b * A + k]) }
            var z = 0.0
            for k in 0..<A where mask?[b * A + k] ?? true { z += exp(logits[b * A + k] - m) }
            ce += m + log(z) - logits[b * A + action[b]]
            for k in 0..<A {
                let l = logits[b * A + k]
                pen += l * l
                let p = (mask?[b * A + k] ?? true) ? exp(l - m) / z : 0
                grad[b * A + k] = (p - (k == action[b] ? 1 : 0)) / Double(B) + beta * 2 * l / Double(B * A)
            }
        }
        return (ce / Double(B), beta * pen / Double(B * A))
    }

    /// One gradient step on the transitions at `rows`.
    @discardableResult
    public func update(_ data: Transitions, rows: [Int]) -> (crossEntropy: Double, penalty: Double) {
        let B = rows.count, A = actions
        let logits = net.forward(batch: data.gather(data.observation, rows), rows: B)
        var grad = [Double](repeating: 0, count: B * A)
        let s = logits.withUnsafeBufferPointer {
            BehaviourCloning.loss(logits: $0, action: rows.map { Int(data.action[$0]) }, mask: data.batchMask(rows, next: false), actions: A,
                                  beta: config.beta, grad: &grad)
        }
        net.zeroGradients()
        net.backward(gradient: grad)
        adam.step(&net.parameters, net.gradients, lr: config.learningRate)
        steps += 1
        return s
    }

    /// `count` steps on batches drawn uniformly with replacement (stream `batches`).
    public func train(_ data: Transitions, steps count: Int, every: ((Int, Double) -> Void)? = nil) {
        var rows = [Int](repeating: 0, count: config.batchSize)
        for _ in 0..<count {
            for b in 0..<rows.count { rows[b] = sampler.uniformInt(data.count) }
            let s = update(data, rows: rows)
            every?(steps, s.crossEntropy)
        }
    }

    /// The cloned policy's softmax over the allowed actions.
    public func softmax(observation: [Double], mask: [Bool]) -> [Double] {
        let l = net.forward(observation)
        var m = -Double.infinity
        for a in 0..<actions where mask[a] { m = max(m, l[a]) }
        var p = [Double](repeating: 0, count: actions), z = 0.0
        for a in 0..<actions { p[a] = mask[a] ? exp(l[a] - m) : 0; z += p[a] }
        return p.map { $0 / z }
    }

    /// The deployed policy: the most likely allowed action (ties: the lowest index), as d3rlpy's
    /// `predict`. Sampling from the softmax instead would act on a distribution that the beta
    /// penalty deliberately flattens.
    public func actionProbabilities(observation: [Double], mask: [Bool], into out: inout [Double]) {
        let p = softmax(observation: observation, mask: mask)
        var best = -1
        for a in 0..<actions where mask[a] && (best < 0 || p[a] > p[best]) { best = a }
        for a in 0..<actions { out[a] = a == best ? 1 : 0 }
    }
}

extension DiscreteCQL: ActionDistribution {
    /// The greedy policy of the learned Q over the allowed actions (ties: the lowest index).
    public func actionProbabilities(observation: [Double], mask: [Bool], into out: inout [Double]) {
        let v = q.forward(observation)
        var best = -1
        for a in 0..<actions where mask[a] && (best < 0 || v[a] > v[best]) { best = a }
        for a in 0..<actions { out[a] = a == best ? 1 : 0 }
    }
}
