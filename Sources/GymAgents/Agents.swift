import GymCore
import GymLinalg
import GymRandom

/// Uniform over the allowed actions. Propensity 1 / |allowed|.
public final class RandomAgent: Policy {
    public let name = "random"
    public let isUpperBound = false
    public var learning = true
    var stream: RandomStream
    var predictor: ResonancePredictor
    var allowed: [Int] = []

    public init(layout: ObservationLayout, actions: ActionLayout, stream: RandomStream) {
        self.stream = stream
        predictor = ResonancePredictor(layout: layout, actions: actions)
    }

    public func act(observation: [Double], mask: [Bool], decision: Int, truth: HiddenTruth?) -> ActionChoice {
        allowed.removeAll(keepingCapacity: true)
        for i in 0..<mask.count where mask[i] { allowed.append(i) }
        let a = allowed[stream.uniformInt(allowed.count)]
        let pred = predictor.predict(observation, action: a)
        if learning && pred != nil { predictor.record(observation, action: a, episode: decision) }
        return ActionChoice(action: a, propensity: 1 / Double(allowed.count), predictedResonance: pred)
    }

    public func observe(_ feedback: [Feedback]) {
        if learning { predictor.observe(feedback) }
    }
}

/// Reads the hidden truth and takes the action with the highest true expected reward (ties: the
/// lowest index). It is an upper bound, not a deployable policy, and reports label it so.
public final class OracleAgent: Policy {
    public let name = "oracle"
    public let isUpperBound = true
    public var learning = false
    var values: [Double] = []

    public init() {}

    public func act(observation: [Double], mask: [Bool], decision: Int, truth: HiddenTruth?) -> ActionChoice {
        guard let truth else { preconditionFailure("the oracle needs the environment's hidden truth") }
        truth.trueExpectedRewards(into: &values)
        var best = 0
        var bestValue = -Double.infinity
        for a in 0..<mask.count where mask[a] && values[a] > bestValue { best = a; bestValue = values[a] }
        return ActionChoice(action: best, propensity: 1, predictedResonance: truth.trueResonance(action: best))
    }

    public func observe(_ feedback: [Feedback]) {}
}

/// The look-ahead reference: the action of highest value counting the user's next days, from the
/// world's roll-outs on a copy of the user's hidden state (`LookAheadTruth`). It reads hidden
/// truth: an upper-bound reference beside the myopic oracle, not a deployable policy.
public final class LookAheadAgent: Policy {
    public let name = "lookahead"
    public let isUpperBound = true
    public var learning = false
    public let config: LookAheadConfig
    var values: [Double] = []

    public init(config: LookAheadConfig) { self.config = config }

    public func act(observation: [Double], mask: [Bool], decision: Int, truth: HiddenTruth?) -> ActionChoice {
        guard let truth = truth as? LookAheadTruth else { preconditionFailure("the look-ahead reference needs a world that looks ahead") }
        truth.lookAheadValues(into: &values, horizonDays: config.horizonDays, fatigueCeilings: config.fatigueCeilings)
        var best = 0
        var bestValue = -Double.infinity
        for a in 0..<mask.count where mask[a] && values[a] > bestValue { best = a; bestValue = values[a] }
        return ActionChoice(action: best, propensity: 1, predictedResonance: truth.trueResonance(action: best))
    }

    public func observe(_ feedback: [Feedback]) {}
}

/// Epsilon-greedy contextual bandit: one ridge-regression reward model per action family over
/// `JourneyFeatures`. With probability epsilon it explores uniformly over the allowed actions,
/// otherwise it takes the allowed action with the highest predicted reward. Epsilon follows the
/// configured schedule over training decisions (blueprint: 0.3 -> 0.05).
///
/// Delayed rewards: the design row phi phi^T of a decision enters the family's Gram matrix when
/// the action is taken; each signal's weighted contribution w * v enters b = sum y phi when it
/// arrives. Signals not yet arrived count as zero until they do. Feature rows are kept in a ring
/// of `ringCapacity` decisions; signals for older decisions are dropped (counted in `droppedSignals`).
public final class EpsilonGreedyAgent: Policy {
    public let name: String
    public let isUpperBound = false
    public var learning = true
    public let config: EpsilonGreedyConfig
    public private(set) var trainingSteps = 0
    public private(set) var droppedSignals = 0
    let features: JourneyFeatures
    var models: [RidgeRegression]
    var stream: RandomStream
    var predictor: ResonancePredictor
    let maxDim: Int
    let ringCapacity: Int
    var ring: [Double]
    var ringEpisode: [Int]
    var ringFamily: [Int32]
    var scratch: [Double]
    var allowed: [Int] = []
    var sinceRefit = 0
    /// Opt-out exclusion (`Forgetting`, Agents+Forgetting.swift): while `keepsHistory`, every
    /// decision's user, feature row and family, and every design and target event in order.
    public var keepsHistory = false
    var history = LearningHistory()
    /// What the greedy choice charges each action (the paced bandit's suggestion cost; 0 for
    /// no_action, and for every action of the plain bandit).
    let actionCost: [Double]
    public let suggestionCost: Double

    /// The plain bandit (`suggestionCost` 0, named epsilon_greedy) or the paced one.
    public init(config: EpsilonGreedyConfig, layout: ObservationLayout, actions: ActionLayout, stream: RandomStream,
                ringCapacity: Int = 1 << 16, suggestionCost: Double = 0, name: String = "epsilon_greedy") {
        self.config = config
        self.name = name
        self.suggestionCost = suggestionCost
        var cost = [Double](repeating: 0, count: actions.count)
        for f in actions.families where f.name != "no_action" { for a in f.range { cost[a] = suggestionCost } }
        actionCost = cost
        self.stream = stream
        features = JourneyFeatures(layout: layout, actions: actions)
        models = features.dimensions.map { RidgeRegression(dimension: $0, lambda: config.ridgeLambda) }
        predictor = ResonancePredictor(layout: layout, actions: actions)
        maxDim = features.dimensions.max() ?? 1
        self.ringCapacity = ringCapacity
        ring = [Double](repeating: 0, count: ringCapacity * maxDim)
        ringEpisode = [Int](repeating: -1, count: ringCapacity)
        ringFamily = [Int32](repeating: -1, count: ringCapacity)
        scratch = [Double](repeating: 0, count: maxDim)
    }

    /// Epsilon at the current point of training (or the evaluation epsilon when frozen).
    public var epsilon: Double { learning ? config.epsilon(at: trainingSteps) : config.evaluationEpsilon }

    /// Predicted reward of an action.
    func predict(_ o: [Double], _ a: Int) -> Double {
        scratch.withUnsafeMutableBufferPointer { buf in
            let f = features.features(o, action: a, into: buf)
            return models[f].predict(UnsafeBufferPointer(rebasing: buf[0..<features.dimensions[f]]))
        }
    }

    public func act(observation o: [Double], mask: [Bool], decision: Int, truth: HiddenTruth?) -> ActionChoice {
        allowed.removeAll(keepingCapacity: true)
        var greedy = -1
        var best = -Double.infinity
        for a in 0..<mask.count where mask[a] {
            allowed.append(a)
            let v = predict(o, a) - actionCost[a]
            if v > best { best = v; greedy = a }
        }
        let eps = epsilon
        let explore = stream.uniform() < eps
        let action = explore ? allowed[stream.uniformInt(allowed.count)] : greedy
        let p = (action == greedy ? 1 - eps : 0) + eps / Double(allowed.count)
        let pred = predictor.predict(o, action: action)
        if learning { learn(observation: o, action: action, decision: decision, predicted: pred != nil) }
        return ActionChoice(action: action, propensity: p, predictedResonance: pred)
    }

    /// Learns from decision `decision`: `action` was taken on observation `o` (by this agent, or
    /// by whoever logged it when a stream is replayed). Its reward arrives through `observe`.
    public func learn(observation o: [Double], action: Int, decision: Int, predicted: Bool? = nil) {
        let slot = decision % ringCapacity
        ring.withUnsafeMutableBufferPointer { r in
            let row = UnsafeMutableBufferPointer(rebasing: r[(slot * maxDim)..<(slot * maxDim + maxDim)])
            let f = features.features(o, action: action, into: row)
            ringFamily[slot] = Int32(f)
            models[f].addDesign(UnsafeBufferPointer(rebasing: row[0..<features.dimensions[f]]))
            if keepsHistory { history.design(decision: decision, family: f, row: Array(row[0..<features.dimensions[f]])) }
        }
        ringEpisode[slot] = decision
        if predicted ?? (predictor.predict(o, action: action) != nil) { predictor.record(o, action: action, episode: decision) }
        trainingSteps += 1
        sinceRefit += 1
        if sinceRefit >= config.refitEvery {
            for i in models.indices { models[i].refit() }
            sinceRefit = 0
        }
    }

    /// Continues the epsilon schedule from `steps` decisions (a checkpoint's training so far).
    public func resumeTraining(at steps: Int) { trainingSteps = max(0, steps) }

    public func observe(_ feedback: [Feedback]) {
        guard learning else { return }
        predictor.observe(feedback)
        ring.withUnsafeBufferPointer { r in
            for fb in feedback {
                let slot = fb.episode % ringCapacity
                guard ringEpisode[slot] == fb.episode else { droppedSignals += 1; continue }
                if keepsHistory {
                    guard !history.isExcluded(decision: fb.episode) else { continue }
                    history.target(decision: fb.episode, contribution: fb.contribution)
                }
                let f = Int(ringFamily[slot])
                let row = UnsafeBufferPointer(rebasing: r[(slot * maxDim)..<(slot * maxDim + features.dimensions[f])])
                models[f].addTarget(row, fb.contribution)
            }
        }
    }
}

/// The world's discount (its `discount:` section), which a learner over journeys needs.
public struct JourneyDiscount: Sendable, Equatable {
    public var perDay: Double, churnPenalty: Double, optOutPenalty: Double
    public init(perDay: Double, churnPenalty: Double = 0, optOutPenalty: Double = 0) {
        self.perDay = perDay; self.churnPenalty = churnPenalty; self.optOutPenalty = optOutPenalty
    }
}

/// Builds the policy an `AgentSpec` describes. Its streams come from `seeds` (the agent's node,
/// e.g. `agent/ppo`): the node itself for the bandits, `init`, `shuffle` and `sample` children for PPO.
/// PPO takes the world's `discount` (gamma per day and the penalties) for its returns.
public func makePolicy(_ spec: AgentSpec, layout: ObservationLayout, actions: ActionLayout, seeds: SeedTree,
                       generator: GeneratorKind, trainingDecisions: Int, discount: JourneyDiscount) -> Policy {
    switch spec {
    case .random: return RandomAgent(layout: layout, actions: actions, stream: seeds.stream(generator))
    case .oracle: return OracleAgent()
    case .lookahead(let c): return LookAheadAgent(config: c)
    case .epsilonGreedy(let c): return EpsilonGreedyAgent(config: c, layout: layout, actions: actions, stream: seeds.stream(generator))
    case .pacedBandit(let c):
        return EpsilonGreedyAgent(config: c.bandit, layout: layout, actions: actions, stream: seeds.stream(generator),
                                  suggestionCost: c.suggestionCost, name: "paced_bandit")
    case .ppo(var c):
        c.discountPerDay = discount.perDay
        c.churnPenalty = discount.churnPenalty
        c.optOutPenalty = discount.optOutPenalty
        return PPOAgent(config: c, layout: layout, actions: actions, trainingDecisions: trainingDecisions,
                        initStream: seeds.child("init").stream(generator), shuffle: seeds.child("shuffle").stream(generator),
                        sampler: seeds.child("sample").stream(generator))
    case .offline(let kind):
        return OfflinePolicy(kind: kind, inputs: layout.dimension, actions: actions.count, seed: seeds)
    }
}

/// A frozen policy's whole action distribution, for off-policy evaluation: the probability of
/// every action given an observation and mask (masked actions 0). It neither draws nor learns.
public protocol ActionDistribution: AnyObject {
    func actionProbabilities(observation: [Double], mask: [Bool], into out: inout [Double])
}

extension RandomAgent: ActionDistribution {
    public func actionProbabilities(observation: [Double], mask: [Bool], into out: inout [Double]) {
        let k = mask.reduce(0) { $0 + ($1 ? 1 : 0) }
        for a in 0..<mask.count { out[a] = mask[a] ? 1 / Double(k) : 0 }
    }
}

extension EpsilonGreedyAgent: ActionDistribution {
    /// epsilon / |allowed| on every allowed action plus 1 - epsilon on the greedy one (ties: the
    /// lowest index, as `act`), with the current epsilon (the evaluation epsilon when frozen).
    public func actionProbabilities(observation o: [Double], mask: [Bool], into out: inout [Double]) {
        var greedy = -1, best = -Double.infinity, k = 0
        for a in 0..<mask.count where mask[a] {
            k += 1
            let v = predict(o, a) - actionCost[a]
            if v > best { best = v; greedy = a }
        }
        let eps = epsilon
        for a in 0..<mask.count { out[a] = mask[a] ? eps / Double(k) + (a == greedy ? 1 - eps : 0) : 0 }
    }
}

extension PPOAgent: ActionDistribution {
    /// The actor's masked softmax mixed with the current exploration (the evaluation epsilon when
    /// frozen). The observation statistics are not updated.
    public func actionProbabilities(observation raw: [Double], mask: [Bool], into out: inout [Double]) {
        let wasLearning = learning
        learning = false
        normalize(raw)
        learning = wasLearning
        let eps = epsilon
        normalized.withUnsafeBufferPointer { ob in mask.withUnsafeBufferPointer { mb in out.withUnsafeMutableBufferPointer { pb in
            ppo.policy(ob.baseAddress!, mb.baseAddress!, batch: 1, epsilon: eps, into: pb.baseAddress!)
        } } }
    }
}
