import Foundation
import GymCore
import GymRandom

/// What the system sees at a decision: candidates, events, the observation vector, the mask,
/// and the log's context snapshot.
extension JourneyWorld {
    func beginDecision(_ u: Int) {
        let t = now
        if users[u].firstSession < 0 { users[u].firstSession = t }
        decisionContext = DecisionContext(user: u, journeyStep: Int(users[u].decisions), time: t,
                                          elapsed: users[u].lastSession >= 0 ? t - users[u].lastSession : 0)
        advanceEmotion(u, to: t)
        let distress = distressOf(u)
        users[u].distress = distress
        currentDistressed = distress > config.emotion.distressThreshold
        let obsNoise = config.emotion.observationNoise
        let pc = config.pairing
        // Pulse metrics derived from distress plus noise.
        let hr = 65 + 25 * distress + sObserve.gaussian(sd: 5)
        let hrv = 60 - 30 * distress + sObserve.gaussian(sd: 8)
        let stress = min(1, max(0, distress + sObserve.gaussian(sd: 0.12)))
        users[u].observedStress = stress
        // Candidates: K eligible members of u's pool, in a random order (never a population scan).
        let P = population.poolSize
        poolScratch.removeAll(keepingCapacity: true)
        for j in 0..<P {
            let v = Int(population.pool[u * P + j])
            // Inactive users carry day Int32.max and count -1: never eligible.
            if v >= 0 && exposureDay[v] != Int32.max && exposure(v) < pc.dailyExposureBudget { poolScratch.append(j) }
        }
        for k in 0..<K {
            if k < poolScratch.count {
                let r = k + sCands.uniformInt(poolScratch.count - k)
                poolScratch.swapAt(k, r)
                candidatePoolSlot[k] = poolScratch[k]
                candidates[k] = Int(population.pool[u * P + poolScratch[k]])
            } else { candidates[k] = -1; candidatePoolSlot[k] = -1 }
        }
        // Events: up to E open events that have not started and are not full.
        openEvents.removeAll { events[$0].start <= t }
        poolScratch.removeAll(keepingCapacity: true)
        for e in openEvents where events[e].registered < events[e].capacity { poolScratch.append(e) }
        for k in 0..<E {
            if k < poolScratch.count {
                let r = k + sCands.uniformInt(poolScratch.count - k)
                poolScratch.swapAt(k, r)
                shownEvents[k] = poolScratch[k]
            } else { shownEvents[k] = -1 }
        }
        // Observation.
        let hourOfDay = t.truncatingRemainder(dividingBy: secondsPerDay) / secondsPerHour
        let dayOfWeek = (t / secondsPerDay).truncatingRemainder(dividingBy: 7)
        let base = u * Dm
        let rl = JourneyWorld.recentLength
        let T = population.topics
        observation.withUnsafeMutableBufferPointer { o in
            emotion.withUnsafeBufferPointer { e in
                if obsNoise > 0 {
                    for i in 0..<Dm { o[segEmotion + i] = e[base + i] + obsNoise * sObserve.standardNormal() }
                } else {
                    for i in 0..<Dm { o[segEmotion + i] = e[base + i] }
                }
            }
            let rbase = u * rl * 2
            for j in 0..<rl {
                // Most recent first.
                let idx = (Int(users[u].ringPos) - 1 - j + rl * 4) % rl
                let kind = recent[rbase + idx * 2], acc = recent[rbase + idx * 2 + 1]
                let off = segRecent + j * JourneyWorld.recentWidth
                for f in 0..<4 { o[off + f] = (kind == Int8(f)) ? 1 : 0 }
                o[off + 4] = kind < 0 ? 0 : Double(acc)
            }
            o[segPulse] = (hr - 70) / 15
            o[segPulse + 1] = (hrv - 50) / 15
            o[segPulse + 2] = stress
            o[segTime] = sin(2 * .pi * hourOfDay / 24)
            o[segTime + 1] = cos(2 * .pi * hourOfDay / 24)
            o[segTime + 2] = sin(2 * .pi * dayOfWeek / 7)
            o[segTime + 3] = cos(2 * .pi * dayOfWeek / 7)
            o[segTime + 4] = Double(weekIndex) / 52
            o[segSocial] = log1p(Double(users[u].connections))
            o[segSocial + 1] = decay(users[u].pending, from: users[u].pendingTime, to: t, halfLifeDays: 2)
            for k in 0..<5 { o[segProfile + k] = population.traitEstimates[u * 5 + k] }
            o[segUser] = users[u].lastSession < 0 ? 0 : log1p((t - users[u].lastSession) / secondsPerDay)
            o[segUser + 1] = load(u, at: t)
            // Suggestions received in the last day and week, and those accepted in the last week
            // (the pace a long-horizon policy needs to see), as log1p counts.
            var day = 0.0, week = 0.0, accepted = 0.0
            let tb = u * JourneyWorld.touchSlots
            for k in 0..<JourneyWorld.touchSlots {
                let when = touchTime[tb + k]
                guard when >= 0, t - when <= 7 * secondsPerDay else { continue }
                week += 1
                if touchAccepted[tb + k] { accepted += 1 }
                if t - when <= secondsPerDay { day += 1 }
            }
            o[segUser + 2] = log1p(day)
            o[segUser + 3] = log1p(week)
            o[segUser + 4] = log1p(accepted)
            for k in 0..<K {
                let off = segCand + k * JourneyWorld.candWidth
                let v = candidates[k]
                if v < 0 {
                    for f in 0..<JourneyWorld.candWidth { o[off + f] = 0 }
                    continue
                }
                let ps = candidatePoolSlot[k]
                let comp = estimatedComplementarity(u, v)
                o[off] = Double(population.poolSimilarity[u * P + ps]) + sObserve.gaussian(sd: pc.estimateNoise)
                o[off + 1] = comp
                o[off + 2] = users[v].observedStress
                o[off + 3] = Double(exposure(v)) / Double(pc.dailyExposureBudget)
                o[off + 4] = load(v, at: t)
                o[off + 5] = 1
            }
            for k in 0..<E {
                let off = segEvent + k * JourneyWorld.eventWidth
                let ev = shownEvents[k]
                if ev < 0 {
                    for f in 0..<JourneyWorld.eventWidth { o[off + f] = 0 }
                    continue
                }
                o[off] = interestMatch(u, ev, T) + sObserve.gaussian(sd: pc.estimateNoise)
                o[off + 1] = Double(events[ev].registered) / Double(events[ev].capacity)
                o[off + 2] = (events[ev].start - t) / secondsPerDay
                o[off + 3] = 1
            }
        }
        // Mask.
        actionMask[0] = true
        for k in 0..<K { actionMask[1 + k] = candidates[k] >= 0 }
        for k in 0..<E { actionMask[1 + K + k] = shownEvents[k] >= 0 }
        for k in 0..<tones { actionMask[1 + K + E + k] = true }
    }

    /// Complementarity computed from the system's trait estimates (what the system can see).
    func estimatedComplementarity(_ u: Int, _ v: Int) -> Double {
        population.traitEstimates.withUnsafeBufferPointer { Population.complementarity($0, u, v) }
    }

    @inline(__always) func interestMatch(_ u: Int, _ ev: Int, _ T: Int) -> Double {
        var dot = 0.0, nu = 0.0
        for k in 0..<T {
            let x = population.interests[u * T + k]
            dot += x * events[ev].topic[k]; nu += x * x
        }
        return nu > 0 ? dot / nu.squareRoot() : 0
    }


    /// A compact JSON summary of the current decision's context (the log's `context_snapshot`).
    public func contextSnapshot() -> String {
        let u = currentUser
        let hour = Int(now.truncatingRemainder(dividingBy: secondsPerDay) / secondsPerHour)
        let weekday = Int(now / secondsPerDay) % 7
        let cands = candidates.map { String($0) }.joined(separator: ",")
        let evs = shownEvents.map { String($0) }.joined(separator: ",")
        func f(_ x: Double) -> String { x.isFinite ? String(format: "%.4f", x) : "null" }
        return "{\"user\":\(u),\"hour\":\(hour),\"weekday\":\(weekday),\"week\":\(weekIndex),"
            + "\"heart_rate\":\(f(observation[segPulse] * 15 + 70)),\"hrv\":\(f(observation[segPulse + 1] * 15 + 50)),"
            + "\"stress\":\(f(observation[segPulse + 2])),\"active_connections\":\(users[u].connections),"
            + "\"pending_matches\":\(f(observation[segSocial + 1])),\"candidates\":[\(cands)],\"events\":[\(evs)]"
            + (snapshotObservations ? observationSnapshot() : "") + "}"
    }

    /// `,"observation":[...],"allowed_actions":[...]`: the agent's exact observation (shortest
    /// round-trip decimals) and mask, so that a candidate policy can be evaluated off-policy on the log.
    func observationSnapshot() -> String {
        var s = ",\"observation\":["
        for (i, x) in observation.enumerated() {
            if i > 0 { s += "," }
            s += x.isFinite ? (x == x.rounded() && abs(x) < 1e15 ? String(Int(x)) : x.description) : "0"
        }
        s += "],\"allowed_actions\":["
        var first = true
        for a in 0..<actionMask.count where actionMask[a] {
            if !first { s += "," }
            s += String(a)
            first = false
        }
        return s + "]"
    }
}
