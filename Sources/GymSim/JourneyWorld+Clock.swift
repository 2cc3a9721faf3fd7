import Foundation
import GymCore
import GymRandom

/// The clock: session arrivals, the daily churn and weekly event processes, and the queue of
/// delayed signals.
extension JourneyWorld {
    // MARK: arrivals

    @inline(__always) func chronoFactor(_ u: Int, _ hour: Double, _ A: Double) -> Double {
        1 + A * cos(2 * Double.pi * (hour - population.chronotype[u]) / 24)
    }

    /// Arrival intensity of user u at time t, in sessions per second.
    @inline(__always) func intensity(_ u: Int, _ t: Double) -> Double {
        let h = Int(t / secondsPerHour) % 24
        let d = Int(t / secondsPerDay) % 7
        let hourOfDay = (t.truncatingRemainder(dividingBy: secondsPerDay)) / secondsPerHour
        return population.activity[u] / secondsPerDay * hourNorm[h] * weekdayNorm[d]
            * chronoFactor(u, hourOfDay, config.population.chronotypeAmplitude) / users[u].arrivalNorm
    }

    /// Next arrival after `t` by thinning (Lewis and Shedler 1979) against the user's maximum rate.
    func scheduleArrival(_ u: Int, after t: Double) {
        let lam = population.activity[u]
        guard lam > 0 else { return }
        let A = config.population.chronotypeAmplitude
        let lmax = lam / secondsPerDay * maxHour * maxWeekday * (1 + A) / users[u].arrivalNorm
        var x = t
        let horizon = config.sessions.maxDays * secondsPerDay
        while true {
            x += sArrival.exponential(mean: 1 / lmax)
            if x > horizon { arrivals.push(x, u); return }
            if sArrival.uniform() * lmax <= intensity(u, x) { arrivals.push(x, u); return }
        }
    }

    // MARK: daily and weekly processes

    func leave(_ u: Int, at t: Double, optOut: Bool) {
        users[u].active = false
        exposureCount[u] = -1
        exposureDay[u] = Int32.max
        users[u].optedOut = optOut
        users[u].leftAt = t
        if users[u].firstSession >= 0 { journeyEndBuffer.append(JourneyEnd(user: u, time: t, optedOut: optOut)) }
    }

    /// Daily churn and opt-out hazards for every active user who has had a session.
    func dailyUpdate(at t: Double) {
        let c = config.churn
        let base = logit(c.dailyBase), obase = logit(c.optOutDailyBase)
        for u in 0..<users.count where users[u].active && users[u].firstSession >= 0 {
            let f = fatigue(u, at: t)
            let optOut = logistic(obase + c.optOutFalsePositive * users[u].falsePositivePressure)
            let churn = logistic(base + c.fatigue * f + c.distress * users[u].distress
                                 + c.ignoredDistress * users[u].ignoredDistress - c.trust * (users[u].trust - 0.5))
            let x = sDaily.uniform()
            if x < optOut { leave(u, at: t, optOut: true) }
            else if x < optOut + churn * (1 - optOut) { leave(u, at: t, optOut: false) }
            users[u].falsePositivePressure *= 0.5
            users[u].ignoredDistress *= 0.7
        }
    }

    func createEvents(weekStart: Double) {
        let h = config.hives
        let count = sEvents.poisson(h.eventsPerWeekPer1000 * Double(population.size) / 1000)
        let alpha = [Double](repeating: config.population.interestConcentration, count: population.topics)
        var topic = [Double](repeating: 0, count: population.topics)
        for _ in 0..<count {
            sEvents.dirichlet(alpha, into: &topic)
            let norm = topic.reduce(0) { $0 + $1 * $1 }.squareRoot()
            let cap = max(2, sEvents.poisson(h.capacityMean))
            let start = weekStart + (1 + 6 * sEvents.uniform()) * secondsPerDay
            events.append(HiveEvent(topic: topic.map { $0 / norm }, capacity: cap, registered: 0, start: start))
            openEvents.append(events.count - 1)
        }
    }

    // MARK: the decision loop

    /// Moves the clock to the next decision, running daily and weekly processes and delivering
    /// the signals due on the way.
    func advance() {
        while true {
            guard !arrivals.isEmpty else { ended = true; deliverSignals(upTo: .infinity); return }
            let t = arrivals.minTime
            if t > config.sessions.maxDays * secondsPerDay {
                ended = true; truncatedFlag = true
                deliverSignals(upTo: config.sessions.maxDays * secondsPerDay)
                return
            }
            if t >= nextDay {
                deliverSignals(upTo: nextDay)
                dailyUpdate(at: nextDay)
                dayIndex += 1
                nextDay += secondsPerDay
                if nextDay > nextWeek {
                    weekIndex += 1
                    createEvents(weekStart: nextWeek)
                    nextWeek += 7 * secondsPerDay
                    openEvents.removeAll { events[$0].start <= nextDay - secondsPerDay }
                }
                continue
            }
            let u = arrivals.pop().key
            guard users[u].active else { continue }
            deliverSignals(upTo: t)
            now = t
            currentUser = u
            beginDecision(u)
            return
        }
    }

    func deliverSignals(upTo t: Double) {
        while !signalHeap.isEmpty && signalHeap.minTime <= t {
            let slot = signalHeap.pop().key
            let f = pendingSignals[slot]
            pendingFree.append(slot)
            feedbackBuffer.append(f)
            stepReward += f.contribution
        }
    }

    func enqueue(_ f: Feedback, at t: Double) {
        let slot: Int
        if let s = pendingFree.popLast() { pendingSignals[s] = f; slot = s } else { pendingSignals.append(f); slot = pendingSignals.count - 1 }
        signalHeap.push(t, slot)
    }
}
