import Foundation
import GymCore
import GymLinalg
import GymRandom

// Proximal Policy Optimization (Schulman et al. 2017, "Proximal Policy Optimization Algorithms"),
// written to read top to bottom like CleanRL's ppo.py (Huang et al. 2022, "The 37 Implementation
// Details of PPO"): vectorised environments, GAE, advantage normalisation, the clipped surrogate,
// the clipped value loss, an entropy bonus, minibatch epochs, global gradient-norm clipping and
// Adam with eps 1e-5. Actor and critic are separate MLPs, orthogonally initialised (gains sqrt 2
// for hidden layers, 0.01 for the policy head, 1 for the value head).
//
// Differences from ppo.py, on purpose:
// - Terminated and truncated are kept apart. On truncation the value of the final observation is
//   bootstrapped into the last reward (r + gamma V(s_final)); on termination it never is.
// - The policy is a categorical over a masked action space: masked actions get probability 0.
// - Optional epsilon-greedy exploration on top of the policy (the blueprint's 0.3 -> 0.05); the
//   behaviour probability used in the ratio is the mixture's. Off for CartPole.

/// How the learning rate changes over updates.
public enum LRSchedule: String, Sendable, Codable, CaseIterable {
    case constant, linear, cosine
}

/// Whether PPO clips the actor's and critic's gradient norms together or each on its own.
public enum GradientClip: String, Sendable, Codable, CaseIterable {
    case joint, separate
}

/// PPO's hyperparameters. Defaults are CleanRL ppo.py's (CartPole-v1).
public struct PPOConfig: Sendable, Equatable, Codable {
    /// Environment steps in total (over all environments).
    public var totalSteps = 500_000
    public var learningRate = 2.5e-4
    public var lrSchedule: LRSchedule = .linear
    public var numEnvs = 4
    /// Steps per environment per rollout (the batch is numEnvs x numSteps).
    public var numSteps = 128
    public var gamma = 0.99
    public var gaeLambda = 0.95
    public var numMinibatches = 4
    public var updateEpochs = 4
    public var normalizeAdvantages = true
    public var clipCoef = 0.2
    public var clipValueLoss = true
    public var entropyCoef = 0.01
    public var valueCoef = 0.5
    public var maxGradNorm = 0.5
    /// How maxGradNorm applies: to the actor's and critic's gradients together (CleanRL's one
    /// optimizer; nil reads as this), or to each network's on its own, so that a large value loss
    /// (returns summed over journeys) does not scale the actor's step down.
    public var gradientClip: GradientClip? = nil
    /// `gradientClip`, with nil read as joint.
    public var gradientClipMode: GradientClip {
        get { gradientClip ?? .joint }
        set { gradientClip = newValue }
    }
    /// Stop the epochs of an update early when approx-KL exceeds this (nil: never).
    public var targetKL: Double? = nil
    public var hidden = [64, 64]
    public var activation: Activation = .tanh
    /// Precision of the networks' forward and backward passes. Float by default: on CartPole
    /// with these settings it trains 2x faster and as well as double (docs/blas.md). nil is
    /// double: what checkpoints written before the option used.
    public var precision: NetPrecision? = .float
    /// `precision`, with nil read as double.
    public var networkPrecision: NetPrecision {
        get { precision ?? .double }
        set { precision = newValue }
    }
    /// Epsilon-greedy exploration on top of the policy: linear from start to end over decaySteps.
    public var explorationStart = 0.0
    public var explorationEnd = 0.0
    public var explorationDecaySteps = 1
    public init() {}

    public var batchSize: Int { numEnvs * numSteps }
    public var minibatchSize: Int { max(1, batchSize / numMinibatches) }
    public var iterations: Int { max(1, totalSteps / batchSize) }

    public func exploration(atStep s: Int) -> Double {
        let f = min(1, Double(s) / Double(max(1, explorationDecaySteps)))
        return explorationStart + (explorationEnd - explorationStart) * f
    }

    public func learningRate(iteration: Int) -> Double {
        // Clamped: training continued past the planned updates stays at the schedule's end.
        let f = min(1, max(0, Double(iteration - 1) / Double(max(1, iterations))))
        switch lrSchedule {
        case .constant: return learningRate
        case .linear: return (1 - f) * learningRate
        case .cosine: return learningRate * 0.5 * (1 + cos(Double.pi * f))
        }
    }
}

/// What one update logs (a row of learning_curve.csv).
public struct PPOUpdateStats: Sendable, Equatable {
    public var iteration = 0
    public var globalStep = 0
    public var learningRate = 0.0
    public var policyLoss = 0.0
    public var valueLoss = 0.0
    public var entropy = 0.0
    public var approxKL = 0.0
    public var clipFraction = 0.0
    public var explainedVariance = 0.0
    /// Mean return of the episodes that ended during this rollout (nan if none).
    public var meanEpisodeReturn = Double.nan
    public var episodes = 0
}

/// Masked softmax of one row of logits into `probs`; returns log-sum-exp over allowed actions.
@inline(__always)
func maskedSoftmax(_ logits: UnsafePointer<Double>, _ mask: UnsafePointer<Bool>, _ n: Int, _ probs: UnsafeMutablePointer<Double>) -> Double {
    var mx = -Double.infinity
    for j in 0..<n where mask[j] && logits[j] > mx { mx = logits[j] }
    var sum = 0.0
    for j in 0..<n {
        if mask[j] { let e = exp(logits[j] - mx); probs[j] = e; sum += e } else { probs[j] = 0 }
    }
    for j in 0..<n { probs[j] /= sum }
    return mx + log(sum)
}

/// Turns one observation into one feature row per action, for a policy head shared across
/// actions: the actor MLP scores each row (one output), and the logits of a decision are the
/// scores of its rows. Actions of the same kind (e.g. five candidate slots) then share weights.
public protocol ActionFeaturizer: Sendable {
    var featureDimension: Int { get }
    var actionCount: Int { get }
    /// Writes actionCount x featureDimension values for observation `o`.
    func features(_ o: UnsafePointer<Double>, into out: UnsafeMutablePointer<Double>)
}

/// The PPO learner: two MLPs, their optimisers, and the rollout buffers.
public final class PPO {
    public let config: PPOConfig
    public let obsDim: Int, actDim: Int
    public let actor: MLP, critic: MLP
    var adamActor: Adam, adamCritic: Adam
    let shuffle: RandomStream
    var sampler: RandomStream
    public private(set) var globalStep = 0

    // Rollout storage, [step][env] flattened to row-major (numSteps * numEnvs) x dim.
    var obs: [Double], masks: [Bool], actions: [Int], logprobs: [Double], rewards: [Double]
    var dones: [Double], values: [Double], advantages: [Double], returns: [Double]
    /// Exploration epsilon of the behaviour policy when each row's action was taken.
    var rowEpsilon: [Double]
    var probsScratch: [Double]
    /// Shared action head (nil: the actor maps the observation to all logits at once).
    public let featurizer: ActionFeaturizer?
    var featureScratch: [Double] = []
    // Minibatch scratch: observations, masks, and the losses' gradients for the actor and critic.
    var mbObs: [Double] = [], mbMask: [Bool] = [], dLogits: [Double] = [], dV: [Double] = []

    public init(config: PPOConfig, obsDim: Int, actDim: Int, initStream: RandomStream, shuffle: RandomStream,
                sampler: RandomStream, gemm: GemmBackend = Gemm.preferred, featurizer: ActionFeaturizer? = nil) {
        self.config = config
        self.obsDim = obsDim
        self.actDim = actDim
        self.featurizer = featurizer
        if let f = featurizer {
            precondition(f.actionCount == actDim, "featurizer action count \(f.actionCount) != \(actDim)")
            actor = MLP(shape: MLPShape(inputs: f.featureDimension, hidden: config.hidden, outputs: 1, activation: config.activation),
                        gemm: gemm, precision: config.networkPrecision)
        } else {
            actor = MLP(shape: MLPShape(inputs: obsDim, hidden: config.hidden, outputs: actDim, activation: config.activation),
                        gemm: gemm, precision: config.networkPrecision)
        }
        critic = MLP(shape: MLPShape(inputs: obsDim, hidden: config.hidden, outputs: 1, activation: config.activation),
                     gemm: gemm, precision: config.networkPrecision)
        let hiddenGains = [Double](repeating: 2.0.squareRoot(), count: config.hidden.count)
        actor.initializeOrthogonal(gains: hiddenGains + [0.01], stream: initStream)
        critic.initializeOrthogonal(gains: hiddenGains + [1.0], stream: initStream)
        adamActor = Adam(count: actor.parameters.count)
        adamCritic = Adam(count: critic.parameters.count)
        self.shuffle = shuffle
        self.sampler = sampler
        let n = config.batchSize
        obs = [Double](repeating: 0, count: n * obsDim)
        masks = [Bool](repeating: true, count: n * actDim)
        actions = [Int](repeating: 0, count: n)
        logprobs = [Double](repeating: 0, count: n)
        rewards = logprobs; dones = logprobs; values = logprobs; advantages = logprobs; returns = logprobs
        rowEpsilon = logprobs
        probsScratch = [Double](repeating: 0, count: max(n, config.numEnvs) * actDim)
    }

    // MARK: acting

    /// Actor logits for a batch of observations (batch x actDim), through the shared head when set.
    func actorLogits(_ o: UnsafePointer<Double>, batch: Int) -> UnsafeBufferPointer<Double> {
        guard let f = featurizer else { return actor.forward(o, batch: batch) }
        let F = f.featureDimension, A = actDim
        if featureScratch.count < batch * A * F { featureScratch = [Double](repeating: 0, count: batch * A * F) }
        featureScratch.withUnsafeMutableBufferPointer { fb in
            for r in 0..<batch { f.features(o + r * obsDim, into: fb.baseAddress! + r * A * F) }
        }
        return featureScratch.withUnsafeBufferPointer { actor.forward($0.baseAddress!, batch: batch * A) }
    }

    /// Policy probabilities (with the exploration mixture) for a batch of observations.
    func policy(_ o: UnsafePointer<Double>, _ m: UnsafePointer<Bool>, batch: Int, epsilon: Double,
                into probs: UnsafeMutablePointer<Double>) {
        let logits = actorLogits(o, batch: batch)
        for r in 0..<batch {
            let p = probs + r * actDim
            _ = maskedSoftmax(logits.baseAddress! + r * actDim, m + r * actDim, actDim, p)
            if epsilon > 0 {
                var allowed = 0
                for j in 0..<actDim where m[r * actDim + j] { allowed += 1 }
                for j in 0..<actDim where m[r * actDim + j] { p[j] = (1 - epsilon) * p[j] + epsilon / Double(allowed) }
            }
        }
    }

    /// Draws an action from probabilities by inversion (one uniform from the sampler stream).
    func sample(_ p: UnsafePointer<Double>, _ m: UnsafePointer<Bool>) -> Int {
        let u = sampler.uniform()
        var c = 0.0
        var last = 0
        for j in 0..<actDim where m[j] {
            c += p[j]
            last = j
            if u < c { return j }
        }
        return last
    }

    /// The greedy-or-sampled action for one observation, with its probability (for agents).
    public func act(_ o: [Double], mask: [Bool], epsilon: Double, greedy: Bool) -> (action: Int, probability: Double) {
        var p = [Double](repeating: 0, count: actDim)
        o.withUnsafeBufferPointer { ob in mask.withUnsafeBufferPointer { mb in p.withUnsafeMutableBufferPointer { pb in
            policy(ob.baseAddress!, mb.baseAddress!, batch: 1, epsilon: epsilon, into: pb.baseAddress!)
        } } }
        if greedy {
            var best = -1
            for j in 0..<actDim where mask[j] && (best < 0 || p[j] > p[best]) { best = j }
            return (best, p[best])
        }
        let a = p.withUnsafeBufferPointer { pb in mask.withUnsafeBufferPointer { sample(pb.baseAddress!, $0.baseAddress!) } }
        return (a, p[a])
    }

    public func value(_ o: UnsafePointer<Double>, batch: Int) -> UnsafeBufferPointer<Double> {
        critic.forward(o, batch: batch)
    }

    // MARK: training loop

    /// Trains on `envs` (one per `numEnvs`, already reset) for `config.totalSteps` steps. Calls
    /// `onUpdate` after every update. Feedback of delayed signals is not used: the reward is the
    /// step reward.
    public func train(envs: [Environment], onEpisode: (Double) -> Void = { _ in }, onUpdate: (PPOUpdateStats) -> Void) {
        precondition(envs.count == config.numEnvs)
        let E = config.numEnvs, T = config.numSteps, D = obsDim, A = actDim
        var nextObs = [Double](repeating: 0, count: E * D)
        var nextMask = [Bool](repeating: true, count: E * A)
        var nextDone = [Double](repeating: 0, count: E)
        var episodeReturn = [Double](repeating: 0, count: E)
        func load(_ e: Int) {
            let o = envs[e].observation, m = envs[e].actionMask
            for d in 0..<D { nextObs[e * D + d] = o[d] }
            for j in 0..<A { nextMask[e * A + j] = m[j] }
        }
        for e in 0..<E { load(e) }
        var stepProbs = [Double](repeating: 0, count: E * A)
        for iteration in 1...config.iterations {
            let lr = config.learningRate(iteration: iteration)
            var finished: [Double] = []
            // Rollout.
            for t in 0..<T {
                let eps = config.exploration(atStep: globalStep)
                globalStep += E
                for e in 0..<E {
                    let row = t * E + e
                    for d in 0..<D { obs[row * D + d] = nextObs[e * D + d] }
                    for j in 0..<A { masks[row * A + j] = nextMask[e * A + j] }
                    dones[row] = nextDone[e]
                    rowEpsilon[row] = eps
                }
                nextObs.withUnsafeBufferPointer { ob in
                    nextMask.withUnsafeBufferPointer { mb in
                        stepProbs.withUnsafeMutableBufferPointer { pb in
                            policy(ob.baseAddress!, mb.baseAddress!, batch: E, epsilon: eps, into: pb.baseAddress!)
                        }
                    }
                    let v = value(ob.baseAddress!, batch: E)
                    for e in 0..<E { values[t * E + e] = v[e] }
                }
                for e in 0..<E {
                    let row = t * E + e
                    let a = stepProbs.withUnsafeBufferPointer { pb in
                        nextMask.withUnsafeBufferPointer { sample(pb.baseAddress! + e * A, $0.baseAddress! + e * A) }
                    }
                    actions[row] = a
                    logprobs[row] = log(stepProbs[e * A + a])
                    let r = envs[e].step(ActionChoice(action: a, propensity: stepProbs[e * A + a]))
                    var reward = r.reward
                    episodeReturn[e] += r.reward
                    if r.truncated && !r.terminated {
                        // Bootstrap from the value of the final observation (the episode did not end).
                        let final = envs[e].observation
                        let vf = final.withUnsafeBufferPointer { value($0.baseAddress!, batch: 1)[0] }
                        reward += config.gamma * vf
                    }
                    rewards[row] = reward
                    if r.terminated || r.truncated {
                        finished.append(episodeReturn[e])
                        onEpisode(episodeReturn[e])
                        episodeReturn[e] = 0
                        (envs[e] as? EpisodeResettable)?.resetEpisode()
                        nextDone[e] = 1
                    } else {
                        nextDone[e] = 0
                    }
                    load(e)
                }
            }
            // GAE (Schulman et al. 2016) with bootstrap from the value of the next observation.
            let nextValues = nextObs.withUnsafeBufferPointer { Array(value($0.baseAddress!, batch: E)) }
            var lastGAE = [Double](repeating: 0, count: E)
            for t in stride(from: T - 1, through: 0, by: -1) {
                for e in 0..<E {
                    let row = t * E + e
                    let nonTerminal: Double, nextV: Double
                    if t == T - 1 { nonTerminal = 1 - nextDone[e]; nextV = nextValues[e] } else {
                        nonTerminal = 1 - dones[row + E]; nextV = values[row + E]
                    }
                    let delta = rewards[row] + config.gamma * nextV * nonTerminal - values[row]
                    lastGAE[e] = delta + config.gamma * config.gaeLambda * nonTerminal * lastGAE[e]
                    advantages[row] = lastGAE[e]
                    returns[row] = advantages[row] + values[row]
                }
            }
            var stats = update(learningRate: lr)
            stats.iteration = iteration
            stats.globalStep = globalStep
            stats.learningRate = lr
            stats.episodes = finished.count
            stats.meanEpisodeReturn = finished.isEmpty ? .nan : finished.reduce(0, +) / Double(finished.count)
            onUpdate(stats)
        }
    }

    // MARK: the update

    /// Loss of one minibatch and its gradients in `actor.gradients` / `critic.gradients`.
    public struct MinibatchLoss: Sendable {
        public var total = 0.0, policy = 0.0, value = 0.0, entropy = 0.0, approxKL = 0.0, clipFraction = 0.0
    }

    /// Computes the PPO loss of the rows `idx` (advantages already normalised as configured) and
    /// accumulates its gradients (after zeroing them). Each row's probability uses the exploration
    /// epsilon in force when its action was taken (`rowEpsilon`), so the ratio compares like with
    /// like. Exposed for the gradient check.
    public func minibatchLoss(_ idx: [Int], advantages adv: [Double]) -> MinibatchLoss {
        let B = idx.count, D = obsDim, A = actDim
        let c = config.clipCoef
        if mbObs.count != B * D { mbObs = [Double](repeating: 0, count: B * D) }
        if mbMask.count != B * A { mbMask = [Bool](repeating: true, count: B * A) }
        if dLogits.count != B * A { dLogits = [Double](repeating: 0, count: B * A) }
        if dV.count != B { dV = [Double](repeating: 0, count: B) }
        for (i, row) in idx.enumerated() {
            for d in 0..<D { mbObs[i * D + d] = obs[row * D + d] }
            for j in 0..<A { mbMask[i * A + j] = masks[row * A + j] }
        }
        actor.zeroGradients(); critic.zeroGradients()
        var out = MinibatchLoss()
        var p = [Double](repeating: 0, count: A)
        let logits = mbObs.withUnsafeBufferPointer { Array(actorLogits($0.baseAddress!, batch: B)) }
        for i in 0..<B {
            let row = idx[i]
            let a = actions[row]
            _ = logits.withUnsafeBufferPointer { lb in mbMask.withUnsafeBufferPointer { mb in p.withUnsafeMutableBufferPointer { pb in
                maskedSoftmax(lb.baseAddress! + i * A, mb.baseAddress! + i * A, A, pb.baseAddress!)
            } } }
            var allowed = 0
            for j in 0..<A where mbMask[i * A + j] { allowed += 1 }
            let epsilon = rowEpsilon[row]
            let mix = (1 - epsilon) * p[a] + epsilon / Double(allowed)
            let newLogp = log(mix)
            let logRatio = newLogp - logprobs[row]
            let ratio = exp(logRatio)
            let A_i = adv[i]
            let unclipped = -A_i * ratio
            let clipped = -A_i * min(max(ratio, 1 - c), 1 + c)
            out.policy += max(unclipped, clipped) / Double(B)
            out.approxKL += ((ratio - 1) - logRatio) / Double(B)
            if abs(ratio - 1) > c { out.clipFraction += 1 / Double(B) }
            // d policy / d newLogp: the unclipped branch carries the gradient unless the clipped
            // branch is strictly larger (then the clip is active and the gradient is 0).
            let gLogp = (unclipped >= clipped) ? -A_i * ratio / Double(B) : 0
            // d newLogp / d logit_j = w (delta_aj - p_j), w = (1 - eps) p_a / mix.
            let w = (1 - epsilon) * p[a] / mix
            var h = 0.0
            for j in 0..<A where mbMask[i * A + j] && p[j] > 0 { h -= p[j] * log(p[j]) }
            out.entropy += h / Double(B)
            for j in 0..<A { dLogits[i * A + j] = 0 }   // masked actions get no gradient
            for j in 0..<A where mbMask[i * A + j] {
                var g = gLogp * w * ((j == a ? 1 : 0) - p[j])
                // Entropy bonus: loss -= entCoef * mean(H); dH/dlogit_j = -p_j (log p_j + H).
                if p[j] > 0 { g += config.entropyCoef / Double(B) * p[j] * (log(p[j]) + h) }
                dLogits[i * A + j] = g
            }
        }
        dLogits.withUnsafeBufferPointer { actor.backward($0.baseAddress!) }
        // Value loss, clipped around the rollout's values as in ppo.py.
        let v = mbObs.withUnsafeBufferPointer { Array(critic.forward($0.baseAddress!, batch: B)) }
        for i in 0..<B {
            let row = idx[i]
            let ret = returns[row], old = values[row]
            let unclippedSq = (v[i] - ret) * (v[i] - ret)
            if config.clipValueLoss {
                let vc = old + min(max(v[i] - old, -c), c)
                let clippedSq = (vc - ret) * (vc - ret)
                out.value += 0.5 * max(unclippedSq, clippedSq) / Double(B)
                let grad: Double
                if unclippedSq >= clippedSq { grad = (v[i] - ret) } else { grad = abs(v[i] - old) < c ? (vc - ret) : 0 }
                dV[i] = config.valueCoef * grad / Double(B)
            } else {
                out.value += 0.5 * unclippedSq / Double(B)
                dV[i] = config.valueCoef * (v[i] - ret) / Double(B)
            }
        }
        dV.withUnsafeBufferPointer { critic.backward($0.baseAddress!) }
        out.total = out.policy - config.entropyCoef * out.entropy + config.valueCoef * out.value
        return out
    }

    /// Minibatch epochs over the rollout: its first `rows` rows (default: the whole buffer) in
    /// minibatches of `minibatch` rows (default: the configuration's).
    func update(learningRate lr: Double, rows: Int? = nil, minibatch: Int? = nil) -> PPOUpdateStats {
        let n = rows ?? config.batchSize, mb = min(n, minibatch ?? config.minibatchSize)
        var order = Array(0..<n)
        var stats = PPOUpdateStats()
        var count = 0.0
        var lastKL = 0.0
        outer: for _ in 0..<config.updateEpochs {
            // Fisher-Yates with GSL draws (agent.shuffle stream).
            for i in stride(from: n - 1, to: 0, by: -1) { order.swapAt(i, shuffle.uniformInt(i + 1)) }
            // Full minibatches only (as ppo.py when the batch divides evenly): a short tail would get
            // a whole Adam step from a handful of rows.
            var start = 0
            while start + mb <= n {
                let idx = Array(order[start..<(start + mb)])
                start += mb
                var adv = idx.map { advantages[$0] }
                if config.normalizeAdvantages && adv.count > 1 {
                    let mean = adv.reduce(0, +) / Double(adv.count)
                    let sd = (adv.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(adv.count - 1)).squareRoot()
                    adv = adv.map { ($0 - mean) / (sd + 1e-8) }
                }
                let l = minibatchLoss(idx, advantages: adv)
                actor.gradients.withUnsafeMutableBufferPointer { ga in
                    critic.gradients.withUnsafeMutableBufferPointer { gc in
                        if config.gradientClipMode == .separate {
                            _ = clipGradientNorm([ga], maxNorm: config.maxGradNorm)
                            _ = clipGradientNorm([gc], maxNorm: config.maxGradNorm)
                        } else {
                            _ = clipGradientNorm([ga, gc], maxNorm: config.maxGradNorm)
                        }
                    }
                }
                adamActor.step(&actor.parameters, actor.gradients, lr: lr)
                adamCritic.step(&critic.parameters, critic.gradients, lr: lr)
                stats.policyLoss += l.policy; stats.valueLoss += l.value; stats.entropy += l.entropy
                stats.approxKL += l.approxKL; stats.clipFraction += l.clipFraction
                count += 1
                lastKL = l.approxKL
            }
            // As ppo.py: stop when the last minibatch's approx-KL exceeds the target.
            if let kl = config.targetKL, lastKL > kl { break outer }
        }
        stats.policyLoss /= count; stats.valueLoss /= count; stats.entropy /= count
        stats.approxKL /= count; stats.clipFraction /= count
        // Explained variance of the rollout's values for its returns.
        let my = returns.prefix(n).reduce(0, +) / Double(n)
        var vy = 0.0, vr = 0.0
        let md = zip(returns.prefix(n), values.prefix(n)).reduce(0) { $0 + ($1.0 - $1.1) } / Double(n)
        for i in 0..<n {
            vy += (returns[i] - my) * (returns[i] - my)
            let d = returns[i] - values[i] - md
            vr += d * d
        }
        stats.explainedVariance = vy > 0 ? 1 - vr / vy : .nan
        return stats
    }
}

