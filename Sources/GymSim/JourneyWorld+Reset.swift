import Foundation
import GymCore
import GymRandom

/// Reset: a new population, the seeded world structure and fresh streams.
extension JourneyWorld {
    // MARK: reset

    public func reset(seed: SeedTree) {
        let cfg = config
        population = Population.generate(cfg.population, seed: seed.child("population"), generator: generator)
        let n = population.size
        records = RunRecords()
        records.groupNames = cfg.population.groups.map { $0.name }
        sArrival = seed.child("arrivals").stream(generator)
        sEmotion = seed.child("emotion").stream(generator)
        sResponse = seed.child("responses").stream(generator)
        sObserve = seed.child("observation").stream(generator)
        sDaily = seed.child("daily").stream(generator)
        sEvents = seed.child("events").stream(generator)
        sCands = seed.child("candidates").stream(generator)
        // Distress direction and trait loadings of the emotional set point.
        let ws = seed.child("emotion.structure").stream(generator)
        distressDirection = (0..<Dm).map { _ in ws.standardNormal() }
        let dn = distressDirection.reduce(0) { $0 + $1 * $1 }.squareRoot()
        distressDirection = distressDirection.map { $0 / dn }
        var loading = (0..<(Dm * 5)).map { _ in ws.standardNormal() / 5.0.squareRoot() }
        // Keep the trait loadings orthogonal to the distress direction, so that distress is driven
        // by neuroticism and the bias only.
        for k in 0..<5 {
            var dot = 0.0
            for i in 0..<Dm { dot += loading[i * 5 + k] * distressDirection[i] }
            for i in 0..<Dm { loading[i * 5 + k] -= dot * distressDirection[i] }
        }
        emotion = [Double](repeating: 0, count: n * Dm)
        emotionMean = [Double](repeating: 0, count: n * Dm)
        users = [UserState](repeating: UserState(), count: n)
        exposureCount = [Int32](repeating: 0, count: n)
        exposureDay = [Int32](repeating: -1, count: n)
        recent = [Int8](repeating: -1, count: n * JourneyWorld.recentLength * 2)
        touchTime = [Double](repeating: -1, count: n * JourneyWorld.touchSlots)
        touchAccepted = [Bool](repeating: false, count: n * JourneyWorld.touchSlots)
        journeyEndBuffer.removeAll()
        let ec = cfg.emotion
        for u in 0..<n {
            let t = population.traits[(u * 5)..<(u * 5 + 5)].map { $0 }
            let along = ec.distressBias + ec.neuroticismLoading * (t[4] - 0.5)
            for i in 0..<Dm {
                var m = along * distressDirection[i]
                for k in 0..<5 { m += ec.traitLoading * loading[i * 5 + k] * (t[k] - 0.5) }
                emotionMean[u * Dm + i] = m
                emotion[u * Dm + i] = m + ec.stationarySD * sEmotion.standardNormal()
            }
            users[u].trust = population.initialTrust[u]
            users[u].connections = Int32(population.edgeStart[u + 1] - population.edgeStart[u])
            users[u].distress = distressOf(u)
        }
        // Arrival normalisation.
        let hw = cfg.sessions.hourWeights, wd = cfg.sessions.weekdayWeights
        let hm = hw.reduce(0, +) / Double(hw.count), wm = wd.reduce(0, +) / Double(wd.count)
        hourNorm = hw.map { $0 / hm }
        weekdayNorm = wd.map { $0 / wm }
        maxHour = hourNorm.max() ?? 1
        maxWeekday = weekdayNorm.max() ?? 1
        let A = cfg.population.chronotypeAmplitude
        // Each user's intensity is normalised so that its mean over a day is exactly 1: the hour
        // weights are piecewise constant, and the chronotype factor 1 + A cos(2 pi (h - c) / 24)
        // integrates over [h, h + 1] to 1 + A (24 / 2 pi) [sin(2 pi (h + 1 - c) / 24) - sin(2 pi (h - c) / 24)].
        let w = 2 * Double.pi / 24
        for u in 0..<n {
            let c = population.chronotype[u]
            var s = 0.0
            for h in 0..<24 {
                let integral = 1 + A / w * (sin(w * (Double(h + 1) - c)) - sin(w * (Double(h) - c)))
                s += hourNorm[h] * integral
            }
            users[u].arrivalNorm = max(s / 24, 1e-9)
        }
        now = 0; nextDay = secondsPerDay; nextWeek = 7 * secondsPerDay; dayIndex = 0; weekIndex = 0
        decisionIndex = 0; ended = false; truncatedFlag = false
        arrivals.removeAll(); signalHeap.removeAll(); pendingSignals.removeAll(); pendingFree.removeAll()
        events.removeAll(); openEvents.removeAll()
        createEvents(weekStart: 0)
        for u in 0..<n { scheduleArrival(u, after: 0) }
        feedbackBuffer.removeAll()
        advance()
    }
}
