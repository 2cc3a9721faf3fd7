import Foundation
import GymCore

/// PPO over journeys: the ring of recent decisions, the links between a user's successive
/// decisions, and the update.
///
/// The scheme (docs/ppo-journey.md):
/// - Every `updateEvery` decisions the agent trains on the block of decisions that ended
///   `rewardLag` decisions ago. By then most of their signals have arrived, and most of their
///   users have come back a few times or left.
/// - Each decision's reward is the sum of its signals so far, each discounted by its latency
///   (gamma^days).
/// - GAE(lambda) runs backwards along each journey from the block to the newest decision, with
///   fresh critic values: delta_k = r_k + gamma^(days to the next decision) V(next) - V(k); at
///   churn or opt-out delta_k = r_k + gamma^(days to leaving) penalty - V(k), never a value. A
///   journey's newest decision (its user has not come back yet, or the world's horizon cut it) has
///   no delta yet: the trace stops there and bootstraps from its value, and the journey goes on
///   in the next block. A journey cut at the world's horizon (truncated) stops the same way for
///   good: the decision at the cut is never trained, since its next state is unknown.
/// - A block decision whose own next step is still unknown is deferred, and trained when its
///   journey moves on or ends. A signal that arrives after its decision was trained is queued; the
///   decision comes back once in the next update with the signal's discounted contribution as its
///   advantage (so that its policy gradient over both updates is that of the corrected
///   advantage) and the corrected one-step target for the critic.
extension PPOAgent: JourneyAware {
    static let day = 86_400.0

    public func willAct(in context: DecisionContext) {
        pendingContext = context
    }

    public func journeysEnded(_ ends: [JourneyEnd]) {
        guard learning, config.returns == .journey else { return }
        for e in ends {
            guard let j = openJourney.removeValue(forKey: e.user) else { continue }
            guard let last = lastOfJourney.removeValue(forKey: j) else { continue }
            let slot = last % capacity
            guard !ringDecision.isEmpty, ringDecision[slot] == last else { continue }
            ringEnd[slot] = 1
            ringEndTime[slot] = e.time
            ringPenalty[slot] = e.optedOut ? config.optOutPenalty : config.churnPenalty
            if ringTrained[slot] == 2 { addCorrection(slot, last, delta: 0) }   // deferred: now resolvable
        }
    }

    public func truncateJourneys(at time: Double) {
        guard learning, config.returns == .journey else { return }
        for (_, last) in lastOfJourney {
            let slot = last % capacity
            guard !ringDecision.isEmpty, ringDecision[slot] == last, ringEnd[slot] == 0 else { continue }
            ringEnd[slot] = 2
            ringEndTime[slot] = time
        }
        openJourney.removeAll(keepingCapacity: true)
        lastOfJourney.removeAll(keepingCapacity: true)
    }

    /// Stores a learning decision in the ring and links it to its user's journey.
    func record(decision: Int, observation o: [Double], mask: [Bool], action a: Int, epsilon eps: Double) {
        let D = ppo.obsDim, A = ppo.actDim
        if ringDecision.isEmpty {
            ringObs = [Double](repeating: 0, count: capacity * D)
            ringMask = [Bool](repeating: false, count: capacity * A)
            ringAction = [Int](repeating: 0, count: capacity)
            ringLogp = [Double](repeating: 0, count: capacity)
            ringReward = ringLogp; ringEpsilon = ringLogp
            ringDecision = [Int](repeating: -1, count: capacity)
            if config.returns == .journey {
                ringTime = ringLogp; ringEndTime = ringLogp; ringPenalty = ringLogp; ringBootstrap = ringLogp; ringDelta = ringLogp
                ringJourney = ringDecision; ringNext = ringDecision
                ringEnd = [UInt8](repeating: 0, count: capacity)
                ringBootstrapKind = ringEnd
                ringTrained = ringEnd
                ringQueued = [Bool](repeating: false, count: capacity)
            }
        }
        let slot = decision % capacity
        for d in 0..<D { ringObs[slot * D + d] = o[d] }
        for j in 0..<A { ringMask[slot * A + j] = mask[j] }
        ringAction[slot] = a
        ringLogp[slot] = log(probs[a])
        ringEpsilon[slot] = eps
        ringReward[slot] = 0
        ringDecision[slot] = decision
        guard config.returns == .journey else { return }
        ringNext[slot] = -1
        ringEnd[slot] = 0
        ringTrained[slot] = 0
        ringQueued[slot] = false
        ringDelta[slot] = 0
        // Without a context (a policy driven outside the runner) each decision is a one-step
        // episode that ends at once without penalty: its advantage is r - V.
        guard let ctx = pendingContext else {
            ringTime[slot] = now
            ringJourney[slot] = -1
            ringEnd[slot] = 1
            ringEndTime[slot] = now
            ringPenalty[slot] = 0
            return
        }
        now = ctx.time
        ringTime[slot] = ctx.time
        let j: Int
        if let open = openJourney[ctx.user] {
            j = open
            if let prev = lastOfJourney[j] {
                let ps = prev % capacity
                if ringDecision[ps] == prev {
                    ringNext[ps] = decision
                    if ringTrained[ps] == 2 { addCorrection(ps, prev, delta: 0) }   // deferred: now resolvable
                }
            }
        } else {
            j = nextJourneyID
            nextJourneyID += 1
            openJourney[ctx.user] = j
        }
        ringJourney[slot] = j
        lastOfJourney[j] = decision
    }

    /// Queues a trained decision for a correction of `delta` (a late signal's discounted
    /// contribution; 0 when only its bootstrap changed).
    func addCorrection(_ slot: Int, _ decision: Int, delta: Double) {
        ringDelta[slot] += delta
        if !ringQueued[slot] {
            ringQueued[slot] = true
            corrections.append(decision)
        }
    }

    /// How a decision's one-step target continues: 1 the next decision's value, 2 the journey's
    /// end (penalty), 3 cut (own value), 0 still open (own value).
    func bootstrapKind(_ slot: Int) -> UInt8 {
        if ringNext[slot] >= 0, ringDecision[ringNext[slot] % capacity] == ringNext[slot] { return 1 }
        switch ringEnd[slot] { case 1: return 2; case 2: return 3; default: return 0 }
    }

    /// gamma^(seconds / day).
    func discount(_ seconds: Double) -> Double {
        config.discountPerDay == 1 ? 1 : pow(config.discountPerDay, max(0, seconds) / Self.day)
    }

    /// One PPO update on decisions [end - updateEvery, end), plus, over journeys, the queued
    /// corrections.
    func train(blockEndingAt end: Int) {
        let n = config.updateEvery
        for d in (end - n)..<end where ringDecision[d % capacity] != d { return }   // not in memory (should not happen)
        var slots = (0..<n).map { (end - n + $0) % capacity }
        if config.returns == .decision {
            slots = dropForgotten(slots, slots: slots).slots
            let n = slots.count
            load(slots)
            let v = ppo.obs.withUnsafeBufferPointer { Array(ppo.value($0.baseAddress!, batch: n)) }
            for i in 0..<n {
                ppo.values[i] = v[i]
                ppo.returns[i] = ppo.rewards[i]
                ppo.advantages[i] = ppo.rewards[i] - v[i]
            }
            finishUpdate(rows: n, blockRewards: slots.map { ringReward[$0] }, minibatch: nil)
            return
        }
        let blockRewards = slots.map { ringReward[$0] }
        let (targets, trainedSlots) = blockTargets(end: end)
        let block = dropForgotten(targets, slots: trainedSlots)
        slots = block.slots
        let fixes = correctionTargets(limit: n, blockStart: end - n)
        let corrected = dropForgotten(fixes.targets, slots: fixes.slots)
        slots += corrected.slots
        load(slots)
        let all = block.rows + corrected.rows
        for (i, t) in all.enumerated() {
            ppo.values[i] = t.value
            ppo.advantages[i] = t.advantage
            ppo.returns[i] = t.criticTarget ?? t.advantage + t.value
        }
        finishUpdate(rows: slots.count, blockRewards: blockRewards, minibatch: config.minibatchSize)
    }

    /// A training row's critic value, advantage, and the critic's target (nil: advantage + value).
    struct RowTarget { var value: Double; var advantage: Double; var criticTarget: Double? = nil }

    /// Copies the ring slots' decisions into the rollout buffer's first rows.
    func load(_ slots: [Int]) {
        let D = ppo.obsDim, A = ppo.actDim
        for (i, slot) in slots.enumerated() {
            for d in 0..<D { ppo.obs[i * D + d] = ringObs[slot * D + d] }
            for j in 0..<A { ppo.masks[i * A + j] = ringMask[slot * A + j] }
            ppo.actions[i] = ringAction[slot]
            ppo.logprobs[i] = ringLogp[slot]
            ppo.rewards[i] = ringReward[slot]
            ppo.rowEpsilon[i] = ringEpsilon[slot]
            ppo.dones[i] = 1
        }
    }

    func finishUpdate(rows: Int, blockRewards: [Double], minibatch: Int?) {
        let iteration = updates.count + 1
        let lr = ppo.config.learningRate(iteration: iteration)
        // One-step episodes keep the configuration's minibatches (as before journeys); over journeys
        // the row count varies, and minibatches have minibatchSize rows.
        var s = rows >= 2 ? ppo.update(learningRate: lr, rows: rows, minibatch: minibatch) : PPOUpdateStats()
        s.iteration = iteration
        s.globalStep = decisions
        s.learningRate = lr
        s.meanEpisodeReturn = blockRewards.reduce(0, +) / Double(max(1, blockRewards.count))
        s.episodes = rows
        updates.append(s)
    }

    /// Critic values of the decisions [first, first + count), read in place from the ring (at
    /// most two contiguous runs of slots).
    func ringValues(first: Int, count: Int) -> [Double] {
        var out: [Double] = []
        out.reserveCapacity(count)
        let D = ppo.obsDim
        var d = first
        while out.count < count {
            let slot = d % capacity
            let run = min(count - out.count, capacity - slot)
            ringObs.withUnsafeBufferPointer { out.append(contentsOf: ppo.value($0.baseAddress! + slot * D, batch: run)) }
            d += run
        }
        return out
    }

    /// GAE over journeys for the block [end - updateEvery, end): every decision from the block's
    /// start to the newest one gets a fresh critic value, and a backward pass along each journey's
    /// links gives A_k = delta_k + gamma^(days to the next decision) lambda A_next, where
    /// delta_k = r_k + gamma^days V(next) - V(k), or r_k + gamma^days penalty at churn or opt-out.
    /// A journey's newest known decision (still open, or cut) has no delta yet: the trace stops
    /// there and bootstraps from its value. Block decisions whose own next step is unknown are not
    /// trained now (deferred): they come back as corrections when their journey moves on or ends.
    func blockTargets(end: Int) -> (targets: [RowTarget], slots: [Int]) {
        let n = config.updateEvery, first = end - n
        // The newest decision: the one whose act() started this update.
        let w = n + config.rewardLag
        for d in first..<(first + w) where ringDecision[d % capacity] != d { return ([], []) }
        let v = ringValues(first: first, count: w)
        let lambda = ppo.config.gaeLambda
        var adv = [Double](repeating: 0, count: w)
        var targets: [RowTarget] = [], slots: [Int] = []
        for i in stride(from: w - 1, through: 0, by: -1) {
            let slot = (first + i) % capacity
            let kind = bootstrapKind(slot)
            var boot = 0.0
            switch kind {
            case 1:
                let j = ringNext[slot] - first
                let g = discount(ringTime[ringNext[slot] % capacity] - ringTime[slot])
                boot = g * v[j]
                adv[i] = ringReward[slot] + boot - v[i] + g * lambda * adv[j]
            case 2:
                boot = discount(ringEndTime[slot] - ringTime[slot]) * ringPenalty[slot]
                adv[i] = ringReward[slot] + boot - v[i]
            default:
                adv[i] = 0
            }
            guard i < n else { continue }
            if kind == 1 || kind == 2 {
                ringTrained[slot] = 1
                ringBootstrap[slot] = boot
                ringBootstrapKind[slot] = kind
                targets.append(RowTarget(value: v[i], advantage: adv[i]))
                slots.append(slot)
            } else {
                ringTrained[slot] = 2
            }
        }
        return (targets.reversed(), slots.reversed())
    }

    /// Rows for the queued corrections (at most `limit`; the rest wait). A deferred decision
    /// whose journey has moved on or ended gets its full one-step advantage
    /// r + gamma^days V(next) - V (or the discounted penalty at an end); a trained one whose late
    /// signals arrived gets their discounted sum as its advantage, so that over both updates its
    /// policy gradient is the corrected advantage's. Both get the current one-step target for the
    /// critic.
    func correctionTargets(limit: Int, blockStart: Int) -> (targets: [RowTarget], slots: [Int]) {
        let D = ppo.obsDim
        var slots: [Int] = [], kept: [Int] = []
        for d in corrections {
            let slot = d % capacity
            guard ringDecision[slot] == d else { droppedCorrections += 1; continue }
            if d >= blockStart {
                ringQueued[slot] = false; ringDelta[slot] = 0   // trained (or deferred) afresh in this block
            } else if slots.count < limit {
                slots.append(slot)
            } else {
                kept.append(d)
            }
        }
        corrections = kept
        guard !slots.isEmpty else { return ([], []) }
        var obs: [Double] = [], nextObs: [Double] = []
        var nextRow = [Int](repeating: -1, count: slots.count)
        for (i, slot) in slots.enumerated() {
            obs.append(contentsOf: ringObs[(slot * D)..<(slot * D + D)])
            if bootstrapKind(slot) == 1 {
                let ns = ringNext[slot] % capacity
                nextRow[i] = nextObs.count / D
                nextObs.append(contentsOf: ringObs[(ns * D)..<(ns * D + D)])
            }
        }
        let v = obs.withUnsafeBufferPointer { Array(ppo.value($0.baseAddress!, batch: slots.count)) }
        let nv = nextObs.isEmpty ? [] : nextObs.withUnsafeBufferPointer { Array(ppo.value($0.baseAddress!, batch: nextObs.count / D)) }
        var targets: [RowTarget] = []
        for (i, slot) in slots.enumerated() {
            var boot = ringBootstrap[slot]
            switch bootstrapKind(slot) {
            case 1: boot = discount(ringTime[ringNext[slot] % capacity] - ringTime[slot]) * nv[nextRow[i]]
            case 2: boot = discount(ringEndTime[slot] - ringTime[slot]) * ringPenalty[slot]
            default: break   // the next decision left memory: the bootstrap it was trained with
            }
            let advantage: Double
            if ringTrained[slot] == 2 {
                advantage = ringReward[slot] + boot - v[i]
                ringTrained[slot] = 1
                ringBootstrapKind[slot] = bootstrapKind(slot)
            } else {
                advantage = ringDelta[slot]
            }
            ringBootstrap[slot] = boot
            ringDelta[slot] = 0
            ringQueued[slot] = false
            // The critic's target is the whole one-step return (not advantage + value).
            targets.append(RowTarget(value: v[i], advantage: advantage, criticTarget: ringReward[slot] + boot))
        }
        return (targets, slots)
    }
}
