import Foundation
import GymCore
import GymLinalg
import GymRandom

/// Configuration of PPO as a scenario agent on the journey world (the blueprint's section 4
/// "Policy Update": batch 256 episodes, an update every 1,000 episodes, learning rate 3e-4 with
/// cosine annealing, epsilon-greedy exploration 0.3 -> 0.05 on top of the policy).
public struct PPOAgentConfig: Sendable, Equatable, Codable {
    public var ppo: PPOConfig
    /// Decisions between updates; each update trains on one block of this many decisions.
    public var updateEvery = 1000
    /// Minibatch size (the blueprint's batch of 256 episodes).
    public var minibatchSize = 256
    /// An update trains on the block that ended this many decisions ago, so that delayed signals
    /// (resonance in hours, explicit feedback in days) have arrived; later signals are not used.
    public var rewardLag = 2000
    /// Exploration while evaluating (learning frozen).
    public var evaluationEpsilon = 0.05
    /// Normalise observations by running mean and variance (updated while learning, frozen
    /// while evaluating; as Gymnasium's NormalizeObservation), clipped to +-10.
    public var normalizeObservations = false
    /// Score every action with one actor network over per-action features (JourneyActionFeaturizer)
    /// instead of mapping the observation to all logits at once.
    public var sharedActionHead = true
    /// `journey`: a user's successive decisions are one episode: GAE(lambda) over them with the
    /// semi-Markov discount, terminations at churn and opt-out, late signals corrected.
    /// `decision`: every decision is a one-step episode (advantage r - V), as before journeys.
    public var returns: ReturnMode = .journey
    /// The scenario's `discount:` section (set by the scenario loader): gamma per simulated day,
    /// and the penalties of churn and opt-out.
    public var discountPerDay = 0.97
    public var churnPenalty = 0.0
    public var optOutPenalty = 0.0

    public enum ReturnMode: String, Sendable, Codable, CaseIterable {
        case journey, decision
    }

    public init() {
        var p = PPOConfig()
        p.learningRate = 3e-4
        p.lrSchedule = .cosine
        p.numEnvs = 1
        p.numSteps = 1000
        p.numMinibatches = 4
        p.updateEpochs = 4
        p.explorationStart = 0.3
        p.explorationEnd = 0.05
        p.explorationDecaySteps = 10_000
        p.totalSteps = 20_000
        p.gradientClip = .separate
        ppo = p
    }

    enum CodingKeys: String, CodingKey {
        case ppo, updateEvery, minibatchSize, rewardLag, evaluationEpsilon, normalizeObservations, sharedActionHead
        case returns, discountPerDay, churnPenalty, optOutPenalty
    }

    /// Decodes a checkpoint's config; keys added after the first checkpoints default to the
    /// behaviour of that version (no normalisation, no shared head).
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        ppo = try c.decode(PPOConfig.self, forKey: .ppo)
        updateEvery = try c.decode(Int.self, forKey: .updateEvery)
        minibatchSize = try c.decode(Int.self, forKey: .minibatchSize)
        rewardLag = try c.decode(Int.self, forKey: .rewardLag)
        evaluationEpsilon = try c.decode(Double.self, forKey: .evaluationEpsilon)
        normalizeObservations = try c.decodeIfPresent(Bool.self, forKey: .normalizeObservations) ?? false
        sharedActionHead = try c.decodeIfPresent(Bool.self, forKey: .sharedActionHead) ?? false
        returns = try c.decodeIfPresent(ReturnMode.self, forKey: .returns) ?? .decision
        discountPerDay = try c.decodeIfPresent(Double.self, forKey: .discountPerDay) ?? 1
        churnPenalty = try c.decodeIfPresent(Double.self, forKey: .churnPenalty) ?? 0
        optOutPenalty = try c.decodeIfPresent(Double.self, forKey: .optOutPenalty) ?? 0
    }

    /// Problems with values that a checkpoint could carry but a scenario could not (nil: fine).
    public func problem() -> String? {
        if !(16...1_000_000).contains(updateEvery) { return "config.updateEvery must be in [16, 1000000], got \(updateEvery)" }
        if !(1...updateEvery).contains(minibatchSize) { return "config.minibatchSize must be in [1, updateEvery], got \(minibatchSize)" }
        if !(0...10_000_000).contains(rewardLag) { return "config.rewardLag must be in [0, 10000000], got \(rewardLag)" }
        if !(evaluationEpsilon >= 0 && evaluationEpsilon <= 1) { return "config.evaluationEpsilon must be in [0, 1], got \(evaluationEpsilon)" }
        if !(ppo.explorationStart >= 0 && ppo.explorationStart <= 1 && ppo.explorationEnd >= 0 && ppo.explorationEnd <= 1) {
            return "config exploration rates must be in [0, 1]"
        }
        if ppo.hidden.isEmpty || ppo.hidden.count > 16 || ppo.hidden.contains(where: { $0 < 1 || $0 > 4096 }) {
            return "config hidden layers must be 1 to 16 layers of 1 to 4096 units, got \(ppo.hidden)"
        }
        if !(discountPerDay > 0 && discountPerDay <= 1) { return "config.discountPerDay must be in (0, 1], got \(discountPerDay)" }
        if !(ppo.gaeLambda >= 0 && ppo.gaeLambda <= 1) { return "config.ppo.gaeLambda must be in [0, 1], got \(ppo.gaeLambda)" }
        if !(ppo.learningRate > 0 && ppo.learningRate <= 1) || ppo.explorationDecaySteps < 1 || ppo.updateEpochs < 1 || ppo.updateEpochs > 100 {
            return "config learning settings out of range (learningRate, explorationDecaySteps, updateEpochs)"
        }
        return nil
    }

    /// Width of every hidden layer (all equal in scenarios).
    public var hiddenSize: Int {
        get { ppo.hidden.first ?? 64 }
        set { ppo.hidden = [Int](repeating: newValue, count: max(1, ppo.hidden.count)) }
    }
    /// Number of hidden layers.
    public var hiddenLayers: Int {
        get { ppo.hidden.count }
        set { ppo.hidden = [Int](repeating: hiddenSize, count: newValue) }
    }

    /// Updates that `trainingDecisions` allow: one per `updateEvery` decisions once
    /// `updateEvery + rewardLag` decisions have been taken.
    public func updateCount(trainingDecisions: Int) -> Int {
        trainingDecisions < updateEvery + rewardLag ? 0 : (trainingDecisions - rewardLag) / updateEvery
    }

    /// Rows an update can hold: the block, plus (over journeys) as many late-signal corrections.
    public var rowsPerUpdate: Int { returns == .journey ? 2 * updateEvery : updateEvery }

    /// The PPOConfig actually used: a buffer of `rowsPerUpdate` rows, minibatches of minibatchSize,
    /// and a learning-rate schedule over the updates that will actually happen.
    public func resolved(trainingDecisions: Int) -> PPOConfig {
        var p = ppo
        p.numEnvs = 1
        p.numSteps = rowsPerUpdate
        p.numMinibatches = max(1, rowsPerUpdate / max(1, minibatchSize))
        p.totalSteps = max(1, updateCount(trainingDecisions: trainingDecisions)) * rowsPerUpdate
        return p
    }
}

/// PPO as a `Policy` of the journey world. With `returns: journey` (the default) a user's
/// successive decisions are one episode: the agent is told each decision's place in its user's
/// journey (`JourneyAware`), accumulates each decision's signals discounted by their latency, and
/// an update every `updateEvery` decisions trains on the block that ended `rewardLag` decisions
/// earlier with GAE(lambda) along each journey under the semi-Markov discount (PPOAgent+Training).
/// With `returns: decision` every decision is a one-step episode (advantage r - V).
public final class PPOAgent: Policy {
    public let name = "ppo"
    public let isUpperBound = false
    public var learning = true
    public let config: PPOAgentConfig
    public let ppo: PPO
    var sampler: RandomStream
    var predictor: ResonancePredictor
    public internal(set) var decisions = 0
    public internal(set) var updates: [PPOUpdateStats] = []
    let capacity: Int
    // The ring of recent decisions (allocated on the first learning decision).
    var ringObs: [Double] = [], ringMask: [Bool] = [], ringAction: [Int] = [], ringLogp: [Double] = []
    var ringReward: [Double] = [], ringDecision: [Int] = [], ringEpsilon: [Double] = []
    // Journeys: each decision's time, journey, the next decision of the same journey (-1: none
    // yet), how the journey ended after it (0 open, 1 churn/opt-out, 2 cut), when, its penalty;
    // whether it was trained, the bootstrap it was trained with, and the change of its advantage
    // since (late signals, a journey end learnt later) waiting for the next update.
    var ringTime: [Double] = [], ringJourney: [Int] = [], ringNext: [Int] = [], ringEnd: [UInt8] = [], ringEndTime: [Double] = []
    var ringPenalty: [Double] = [], ringTrained: [UInt8] = [], ringBootstrap: [Double] = [], ringBootstrapKind: [UInt8] = [], ringDelta: [Double] = [], ringQueued: [Bool] = []
    /// user -> the open journey's id, and journey id -> its last decision.
    var openJourney: [Int: Int] = [:]
    var lastOfJourney: [Int: Int] = [:]
    var nextJourneyID = 0
    /// The context `willAct` gave for the coming decision, and the latest simulated time seen.
    var pendingContext: DecisionContext?
    var now = 0.0
    /// Trained decisions whose advantage changed since (late signals, an end learnt late): they
    /// come back, once, in the next update.
    var corrections: [Int] = []
    /// Late-signal corrections that could not be applied because their decision had left the ring.
    public internal(set) var droppedCorrections = 0
    var probs: [Double]
    /// Running observation statistics (Welford): count, mean, sum of squared deviations.
    public private(set) var obsCount = 0.0
    public private(set) var obsMean: [Double]
    public private(set) var obsM2: [Double]
    var normalized: [Double]
    /// Opt-out exclusion (PPOAgent+Forgetting.swift): each ring slot's user, the users forgotten,
    /// and the decisions dropped from updates because of them.
    var forgetting = false
    var ringUser: [Int] = []
    var forgottenUsers: Set<Int> = []
    public internal(set) var forgottenDecisions = 0
    /// The spaces it acts in (explanations name the inputs).
    let observationLayout: ObservationLayout
    let actionLayout: ActionLayout
    var actionCount: Int { actionLayout.count }

    public init(config: PPOAgentConfig, layout: ObservationLayout, actions: ActionLayout, trainingDecisions: Int,
                initStream: RandomStream, shuffle: RandomStream, sampler: RandomStream, gemm: GemmBackend = Gemm.preferred) {
        self.config = config
        observationLayout = layout
        actionLayout = actions
        let p = config.resolved(trainingDecisions: trainingDecisions)
        ppo = PPO(config: p, obsDim: layout.dimension, actDim: actions.count, initStream: initStream, shuffle: shuffle,
                  sampler: sampler, gemm: gemm,
                  featurizer: config.sharedActionHead ? JourneyActionFeaturizer(layout: layout, actions: actions) : nil)
        self.sampler = sampler
        predictor = ResonancePredictor(layout: layout, actions: actions)
        // Over journeys the ring also keeps the previous block, for late corrections.
        capacity = config.updateEvery + config.rewardLag + 1 + (config.returns == .journey ? config.updateEvery : 0)
        probs = [Double](repeating: 0, count: actions.count)
        obsMean = [Double](repeating: 0, count: layout.dimension)
        obsM2 = obsMean
        normalized = obsMean
    }

    public var resonancePredictorState: (weights: [Double], observations: Int) { predictor.state }
    public func restoreResonancePredictor(weights: [Double], observations: Int) {
        predictor.restore(weights: weights, observations: observations)
    }

    /// Draws actions from `stream` from now on (the evaluation phase has its own stream).
    public func useSampler(_ stream: RandomStream) {
        sampler = stream
        ppo.sampler = stream
    }

    /// Restores observation statistics (from a checkpoint).
    public func setObservationStatistics(count: Double, mean: [Double], m2: [Double]) {
        obsCount = count; obsMean = mean; obsM2 = m2
    }

    /// Updates the running statistics with `o` (while learning) and writes the normalised
    /// observation into `normalized`.
    func normalize(_ o: [Double]) {
        guard config.normalizeObservations else { normalized = o; return }
        if learning {
            obsCount += 1
            for i in 0..<o.count {
                let d = o[i] - obsMean[i]
                obsMean[i] += d / obsCount
                obsM2[i] += d * (o[i] - obsMean[i])
            }
        }
        for i in 0..<o.count {
            let v = obsCount > 1 ? obsM2[i] / obsCount : 1
            let z = (o[i] - obsMean[i]) / (v + 1e-8).squareRoot()
            normalized[i] = min(10, max(-10, z))
        }
    }

    /// Exploration now: the schedule while learning, the evaluation epsilon when frozen.
    public var epsilon: Double { learning ? ppo.config.exploration(atStep: decisions) : config.evaluationEpsilon }

    public func act(observation raw: [Double], mask: [Bool], decision: Int, truth: HiddenTruth?) -> ActionChoice {
        let eps = epsilon
        normalize(raw)
        let o = normalized
        o.withUnsafeBufferPointer { ob in mask.withUnsafeBufferPointer { mb in probs.withUnsafeMutableBufferPointer { pb in
            ppo.policy(ob.baseAddress!, mb.baseAddress!, batch: 1, epsilon: eps, into: pb.baseAddress!)
        } } }
        let a = probs.withUnsafeBufferPointer { pb in mask.withUnsafeBufferPointer { ppo.sample(pb.baseAddress!, $0.baseAddress!) } }
        let pred = predictor.predict(raw, action: a)
        if learning {
            record(decision: decision, observation: o, mask: mask, action: a, epsilon: eps)
            if pred != nil { predictor.record(raw, action: a, episode: decision) }
            decisions += 1
            // Blocks [0, n), [n, 2n), ...: block [end - n, end) is trained once decision
            // end - 1 + rewardLag has been taken (updateCount counts these).
            let end = decision + 1 - config.rewardLag
            if end >= config.updateEvery && end % config.updateEvery == 0 { train(blockEndingAt: end) }
        }
        pendingContext = nil
        return ActionChoice(action: a, propensity: probs[a], predictedResonance: pred)
    }

    public func observe(_ feedback: [Feedback]) {
        guard learning else { return }
        predictor.observe(feedback)
        guard !ringDecision.isEmpty else { return }
        for f in feedback {
            let slot = f.episode % capacity
            if ringDecision[slot] == f.episode && isForgotten(slot) { continue }
            guard ringDecision[slot] == f.episode else {
                if config.returns == .journey { droppedCorrections += 1 }
                continue
            }
            if config.returns == .decision { ringReward[slot] += f.contribution; continue }
            let c = f.discountedContribution(perDay: config.discountPerDay)
            ringReward[slot] += c
            if ringTrained[slot] == 1 { addCorrection(slot, f.episode, delta: c) }
        }
    }
}
