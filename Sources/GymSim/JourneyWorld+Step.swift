import Foundation
import GymCore
import GymRandom

/// A decision's consequences: the hidden truth the oracle reads, and `step`, which draws the
/// user's response from the response model and updates the users' state.
extension JourneyWorld {
    // MARK: hidden truth

    func trueResonance(_ u: Int, slot k: Int) -> Double {
        let v = candidates[k]
        let P = population.poolSize
        let ps = candidatePoolSlot[k]
        return responses.resonance(similarity: Double(population.poolSimilarity[u * P + ps]),
                                   complementarity: Double(population.poolComplementarity[u * P + ps]),
                                   distressU: users[u].distress, distressV: users[v].distress)
    }

    /// P(both accept) of suggesting candidate slot k to u.
    func pairingAcceptProbability(_ u: Int, slot k: Int, rho: Double, at t: Double) -> (Double, Double) {
        let v = candidates[k]
        let pu = responses.acceptProbability(rho: rho, fatigue: fatigue(u, at: t), boredom: boredom(u, .suggestPairing, at: t), trust: users[u].trust)
        let pv = responses.acceptProbability(rho: rho, fatigue: fatigue(v, at: t), boredom: 0, trust: users[v].trust)
        return (pu, pv)
    }

    func toneFit(_ u: Int, tone: Int) -> Double {
        population.traits.withUnsafeBufferPointer { responses.toneFit(traits: $0.baseAddress! + u * 5, tone: tone) }
    }

    func interventionAcceptProbability(_ u: Int, tone: Int, at t: Double) -> Double {
        responses.interventionAcceptProbability(fit: toneFit(u, tone: tone), trust: users[u].trust, fatigue: fatigue(u, at: t),
                                                boredom: boredom(u, .intervention, at: t))
    }

    func attendProbability(_ u: Int, event ev: Int, at t: Double) -> (p: Double, match: Double, crowd: Double) {
        let match = interestMatch(u, ev, population.topics)
        let fill = Double(events[ev].registered) / Double(events[ev].capacity)
        let (p, crowd) = responses.attendProbability(match: match, fill: fill, fatigue: fatigue(u, at: t), boredom: boredom(u, .recommendHive, at: t))
        return (p, match, crowd)
    }

    public func trueResonance(action: Int) -> Double? {
        guard action >= 1 && action <= K, candidates[action - 1] >= 0 else { return nil }
        return trueResonance(currentUser, slot: action - 1)
    }

    /// The expected reward of each action under the response model, with the reward weights of
    /// the decision's time (the oracle's view). Masked actions get -infinity.
    public func trueExpectedRewards(into out: inout [Double]) {
        expectedRewards(into: &out, weightsAt: now)
    }

    /// The same with the reward weights of second `weightTime` (a test's counterfactual).
    func expectedRewards(into out: inout [Double], weightsAt weightTime: Double) {
        let u = currentUser, t = now
        if out.count != actionLayout.count { out = [Double](repeating: 0, count: actionLayout.count) }
        out[0] = 0
        for k in 0..<K {
            guard candidates[k] >= 0 else { out[1 + k] = -.infinity; continue }
            let rho = trueResonance(u, slot: k)
            let (pu, pv) = pairingAcceptProbability(u, slot: k, rho: rho, at: t)
            out[1 + k] = responses.expectedPairingReward(rho: rho, pAccept: pu * pv, at: weightTime)
        }
        for k in 0..<E {
            guard shownEvents[k] >= 0 else { out[1 + K + k] = -.infinity; continue }
            let (p, match, crowd) = attendProbability(u, event: shownEvents[k], at: t)
            out[1 + K + k] = responses.expectedHiveReward(match: match, crowd: crowd, p: p, at: weightTime)
        }
        for k in 0..<tones {
            let fit = toneFit(u, tone: k)
            let p = currentDistressed ? interventionAcceptProbability(u, tone: k, at: t) : 0
            out[1 + K + E + k] = responses.expectedInterventionReward(distressed: currentDistressed, fit: fit, p: p, at: weightTime)
        }
    }

    // MARK: step

    public func step(_ choice: ActionChoice) -> StepResult {
        precondition(!ended, "step() after the run ended; call reset(seed:)")
        precondition(choice.action >= 0 && choice.action < actionMask.count && actionMask[choice.action],
                     "masked or out-of-range action \(choice.action) at decision \(decisionIndex)")
        feedbackBuffer.removeAll(keepingCapacity: true)
        journeyEndBuffer.removeAll(keepingCapacity: true)
        stepReward = 0
        respond(choice)
        let executed = lastEpisode.action
        users[currentUser].decisions += 1
        decisionIndex += 1
        scheduleArrival(currentUser, after: now)
        users[currentUser].lastSession = now
        advance()
        return StepResult(reward: stepReward, terminated: ended && !truncatedFlag, truncated: truncatedFlag, feedback: feedbackBuffer,
                          executedAction: executed, endedJourneys: journeyEndBuffer)
    }

    /// Where a decision's signals go: clamped to [-1, 1], weighted into the decision's reward,
    /// recorded, and queued for delivery after their latency.
    struct Sink: SignalSink {
        unowned let world: JourneyWorld
        let weights: (engagement: Double, resonance: Double, explicit: Double)
        let time: Double
        let gamma: Double
        var reward = 0.0
        var discounted = 0.0

        @inline(__always) mutating func emit(_ kind: SignalKind, _ value: Double, _ latency: Double, _ confidence: Double) {
            let v = min(1, max(-1, value))
            let w = kind == .engagement ? weights.engagement : (kind == .resonance ? weights.resonance : weights.explicit)
            reward += w * v
            if world.recording {
                // gamma^(latency in days), only for the records (user_return); learners discount
                // their feedback themselves.
                discounted += (gamma == 1 ? 1 : pow(gamma, latency / secondsPerDay)) * w * v
                world.records.signals.append(SignalRecord(episode: world.decisionIndex, kind: kind, value: v, latency: latency, confidence: confidence))
            }
            world.enqueue(Feedback(episode: world.decisionIndex, kind: kind, value: v, weight: w, confidence: confidence, latency: latency),
                          at: time + latency)
        }
    }

    /// Records a suggestion the user received (their ring of the last `touchSlots`).
    func recordTouch(_ u: Int, at t: Double, accepted: Bool) {
        let pos = Int(users[u].touchPos)
        touchTime[u * JourneyWorld.touchSlots + pos] = t
        touchAccepted[u * JourneyWorld.touchSlots + pos] = accepted
        users[u].touchPos = Int32((pos + 1) % JourneyWorld.touchSlots)
    }

    func recordRecent(_ u: Int, _ kind: ActionKind, accepted: Int8) {
        let rl = JourneyWorld.recentLength
        let pos = Int(users[u].ringPos) % rl
        recent[u * rl * 2 + pos * 2] = Int8(kind.rawValue)
        recent[u * rl * 2 + pos * 2 + 1] = accepted
        users[u].ringPos = Int32((pos + 1) % rl)
    }

    /// Draws the user's response and its signals from the response model, and changes the state.
    func respond(_ choice: ActionChoice) {
        let u = currentUser, t = now, a = choice.action
        let r = config.rewards, s = sResponse!, m = responses
        let kind: ActionKind
        if a == 0 { kind = .noAction } else if a <= K { kind = .suggestPairing } else if a <= K + E { kind = .recommendHive } else { kind = .intervention }
        var rec = EpisodeRecord(index: decisionIndex, user: u, group: Int(population.group[u]), time: t,
                                action: a, kind: kind, propensity: choice.propensity)
        rec.distressed = currentDistressed
        rec.firstSignal = records.signals.count
        var acceptedFlag: Int8 = 0
        var sink = Sink(world: self, weights: m.weights(at: t), time: t, gamma: config.discount.perDay)
        rec.journeyStep = decisionContext.journeyStep
        rec.elapsed = decisionContext.elapsed
        switch kind {
        case .noAction:
            if currentDistressed { users[u].ignoredDistress += 1 }
        case .suggestPairing:
            let k = a - 1
            let v = candidates[k]
            rec.target = v
            let rho = trueResonance(u, slot: k)
            rec.trueResonance = rho
            rec.predictedResonance = choice.predictedResonance ?? .nan
            let (pu, pv) = pairingAcceptProbability(u, slot: k, rho: rho, at: t)
            let accU = s.bernoulli(pu), accV = s.bernoulli(pv)
            if exposureDay[v] != Int32(dayIndex) { exposureDay[v] = Int32(dayIndex); exposureCount[v] = 0 }
            exposureCount[v] += 1
            addLoad(v, at: t)
            addFatigue(v, config.churn.fatiguePerAction * 0.5, at: t)
            if accU && accV {
                let realized = m.samplePairingAccepted(rho: rho, s, &sink)
                rec.accepted = true
                rec.realizedResonance = realized
                acceptedFlag = 1
                users[u].connections += 1; users[v].connections += 1
                for x in [u, v] {
                    users[x].pending = decay(users[x].pending, from: users[x].pendingTime, to: t, halfLifeDays: 2) + 1
                    users[x].pendingTime = t
                    users[x].trust = min(1, max(0, users[x].trust + 0.04 * (realized - 0.5)))
                }
            } else {
                acceptedFlag = -1
                m.samplePairingDeclined(s, &sink)
                addFatigue(u, config.churn.fatiguePerAction * 0.5, at: t)
            }
        case .recommendHive:
            let ev = shownEvents[a - 1 - K]
            rec.target = ev
            let (p, match, crowd) = attendProbability(u, event: ev, at: t)
            if s.bernoulli(p) {
                acceptedFlag = 1
                rec.accepted = true
                events[ev].registered += 1
                let rh = m.sampleHiveAttended(match: match, crowd: crowd, untilEvent: max(0, events[ev].start - t), s, &sink)
                users[u].trust = min(1, max(0, users[u].trust + 0.03 * (rh - 0.5)))
            } else {
                acceptedFlag = -1
                m.sampleHiveDeclined(s, &sink)
            }
        case .intervention:
            let tone = a - 1 - K - E
            if currentDistressed {
                let fit = toneFit(u, tone: tone)
                if s.bernoulli(interventionAcceptProbability(u, tone: tone, at: t)) {
                    acceptedFlag = 1
                    rec.accepted = true
                    m.sampleInterventionAccepted(fit: fit, s, &sink)
                    // Relief: remove part of the distress projection.
                    var dot = 0.0
                    let base = u * Dm
                    for i in 0..<Dm { dot += emotion[base + i] * distressDirection[i] }
                    if dot > 0 {
                        let c = config.interventions.relief * dot
                        for i in 0..<Dm { emotion[base + i] -= c * distressDirection[i] }
                    }
                    users[u].distress = distressOf(u)
                    users[u].trust = min(1, users[u].trust + 0.03)
                } else {
                    acceptedFlag = -1
                    m.sampleInterventionDeclined(s, &sink)
                }
            } else {
                acceptedFlag = -1
                addFatigue(u, config.interventions.falsePositiveFatigue, at: t)
                users[u].trust = max(0, users[u].trust - config.interventions.falsePositiveTrust)
                users[u].falsePositivePressure += 1
                m.sampleFalsePositive(s, &sink)
            }
        }
        if kind != .noAction {
            addFatigue(u, config.churn.fatiguePerAction, at: t)
            addLoad(u, at: t)
            bump(u, kind, at: t)
        }
        recordRecent(u, kind, accepted: acceptedFlag)
        if kind != .noAction { recordTouch(u, at: t, accepted: acceptedFlag == 1) }
        if kind == .suggestPairing, rec.target >= 0 { recordTouch(rec.target, at: t, accepted: acceptedFlag == 1) }
        let reward = sink.reward
        rec.reward = reward
        rec.discountedReward = sink.discounted
        rec.outcome = reward >= r.successThreshold ? .success : (reward <= r.failureThreshold ? .failure : .neutral)
        if recording {
            rec.signalCount = records.signals.count - rec.firstSignal
            records.episodes.append(rec)
        }
        lastEpisode = rec
    }
}
