import Foundation
import GymCore
import GymRandom

let secondsPerDay = 86_400.0
let secondsPerHour = 3_600.0

/// Mutable state of one user during a run (hidden from agents).
struct UserState {
    var active = true
    var optedOut = false
    var leftAt = -1.0
    var firstSession = -1.0
    var lastSession = -1.0
    var lastEmotionTime = 0.0
    var distress = 0.0
    var observedStress = 0.3
    var trust = 0.8
    var fatigue = 0.0
    var fatigueTime = 0.0
    var boredomPair = 0.0, boredomHive = 0.0, boredomIntervention = 0.0
    var boredomTime = 0.0
    var falsePositivePressure = 0.0
    var ignoredDistress = 0.0
    var connections: Int32 = 0
    var pending = 0.0, pendingTime = 0.0
    var load = 0.0, loadTime = 0.0
    var ringPos: Int32 = 0
    var arrivalNorm = 1.0
}

/// A hive event: a group event with a topic, a capacity and a start time.
struct HiveEvent {
    var topic: [Double]
    var capacity: Int
    var registered: Int
    var start: Double
}

/// The journey world: a synthetic population whose sessions arrive as non-homogeneous Poisson
/// processes; each arrival is a decision point. See DESIGN.md, "The world the simulator models".
public final class JourneyWorld: Environment, HiddenTruth {
    public let config: SimConfig
    public let observationLayout: ObservationLayout
    public let actionLayout: ActionLayout
    /// The GSL generator of every stream of the world (the scenario's `generator:`).
    public var generator: GeneratorKind = .mt19937
    /// Record every decision and signal (needed for metrics and logs; off in the benchmark).
    public var recording = true
    /// `contextSnapshot()` includes the observation vector and the allowed actions.
    public var snapshotObservations = false
    public private(set) var records = RunRecords()
    /// The record of the last decision stepped, whether or not `recording` is on.
    public private(set) var lastEpisode = EpisodeRecord(index: -1, user: -1, group: 0, time: 0, action: 0, kind: .noAction, propensity: 1)
    public private(set) var population: Population = Population.empty

    // Layout bookkeeping.
    let K: Int, E: Int, tones: Int, Dm: Int
    let segEmotion: Int, segRecent: Int, segPulse: Int, segTime: Int, segSocial: Int, segProfile: Int
    let segUser: Int, segCand: Int, segEvent: Int
    static let candWidth = 6, eventWidth = 4, recentLength = 10, recentWidth = 5

    // Fixed world structure (seeded at reset).
    var distressDirection: [Double] = []
    var emotion: [Double] = []
    var emotionMean: [Double] = []
    var users: [UserState] = []
    /// Hot per-user state of the candidate filter, kept compact: exposures today (-1: inactive user)
    /// and the day they were counted on.
    var exposureCount: [Int32] = []
    var exposureDay: [Int32] = []
    var recent: [Int8] = []
    var events: [HiveEvent] = []
    var openEvents: [Int] = []

    // Streams.
    var sArrival: RandomStream!, sEmotion: RandomStream!, sResponse: RandomStream!
    var sObserve: RandomStream!, sDaily: RandomStream!, sEvents: RandomStream!, sCands: RandomStream!

    // Clock and queues.
    var arrivals = TimedHeap()
    var signalHeap = TimedHeap()
    var pendingSignals: [Feedback] = []
    var pendingFree: [Int] = []
    var now = 0.0
    var nextDay = secondsPerDay
    var nextWeek = 7 * secondsPerDay
    var dayIndex = 0
    var weekIndex = 0
    public private(set) var decisionIndex = 0
    public private(set) var currentUser = -1
    var ended = false
    var truncatedFlag = false

    // Current decision.
    public private(set) var observation: [Double]
    public private(set) var actionMask: [Bool]
    var candidates: [Int]
    var candidatePoolSlot: [Int]
    var shownEvents: [Int]
    var currentDistressed = false
    var feedbackBuffer: [Feedback] = []
    var stepReward = 0.0
    var hourNorm: [Double] = []
    var weekdayNorm: [Double] = []
    var maxHour = 1.0, maxWeekday = 1.0
    var poolScratch: [Int] = []

    public init(config: SimConfig) {
        self.config = config
        K = config.pairing.candidatesShown
        E = config.hives.eventsShown
        tones = config.interventions.tones.count
        Dm = config.emotion.dimension
        var segs: [ObservationSegment] = []
        var off = 0
        func add(_ name: String, slots: Int = 1, _ f: [String]) -> Int {
            let s = ObservationSegment(name: name, offset: off, slots: slots, features: f)
            segs.append(s); off += s.count; return s.offset
        }
        segEmotion = add("emotion", (0..<config.emotion.dimension).map { "e\($0)" })
        segRecent = add("recent_interactions", slots: JourneyWorld.recentLength,
                        ["no_action", "suggest_pairing", "recommend_hive", "intervention", "accepted"])
        segPulse = add("pulse", ["heart_rate", "hrv", "stress"])
        segTime = add("time", ["hour_sin", "hour_cos", "weekday_sin", "weekday_cos", "week"])
        segSocial = add("social", ["active_connections", "pending_matches"])
        segProfile = add("profile", traitNames)
        segUser = add("user", ["days_since_last", "recent_load"])
        segCand = add("candidates", slots: config.pairing.candidatesShown,
                      ["similarity", "complementarity", "candidate_stress", "candidate_exposure", "candidate_load", "available"])
        segEvent = add("events", slots: config.hives.eventsShown, ["interest_match", "fill", "days_to_start", "available"])
        observationLayout = ObservationLayout(segments: segs)
        var fams: [ActionFamily] = [ActionFamily(name: "no_action", range: 0..<1, labels: ["none"])]
        var a = 1
        fams.append(ActionFamily(name: "suggest_pairing", range: a..<(a + K), slotSegment: "candidates", labels: (0..<K).map { "\($0)" }))
        a += K
        fams.append(ActionFamily(name: "recommend_hive", range: a..<(a + E), slotSegment: "events", labels: (0..<E).map { "\($0)" }))
        a += E
        fams.append(ActionFamily(name: "intervention", range: a..<(a + tones), labels: config.interventions.tones.map { $0.name }))
        actionLayout = ActionLayout(families: fams)
        observation = [Double](repeating: 0, count: observationLayout.dimension)
        actionMask = [Bool](repeating: false, count: actionLayout.count)
        candidates = [Int](repeating: -1, count: K)
        candidatePoolSlot = [Int](repeating: -1, count: K)
        shownEvents = [Int](repeating: -1, count: E)
    }

    public var hiddenTruth: HiddenTruth? { self }
    public var currentTime: Double { now }
    public var isDone: Bool { ended }

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

    // MARK: emotion

    @inline(__always) func distressOf(_ u: Int) -> Double {
        let base = u * Dm
        let x = emotion.withUnsafeBufferPointer { e in
            distressDirection.withUnsafeBufferPointer { d in dot(e.baseAddress! + base, d.baseAddress!, Dm) }
        }
        return logistic(config.emotion.distressGain * x)
    }

    /// Advances user u's emotion exactly over the elapsed time (OU transition density):
    /// x' = mu + (x - mu) e^{-theta dt} + s sqrt(1 - e^{-2 theta dt}) xi.
    func advanceEmotion(_ u: Int, to t: Double) {
        let dtDays = (t - users[u].lastEmotionTime) / secondsPerDay
        users[u].lastEmotionTime = t
        guard dtDays > 0 else { return }
        let a = exp(-config.emotion.reversionPerDay * dtDays)
        let sd = config.emotion.stationarySD * (max(0, 1 - a * a)).squareRoot()
        let base = u * Dm
        let rng = sEmotion!
        emotion.withUnsafeMutableBufferPointer { e in
            emotionMean.withUnsafeBufferPointer { m in
                for i in 0..<Dm {
                    let mu = m[base + i]
                    e[base + i] = mu + (e[base + i] - mu) * a + sd * rng.standardNormal()
                }
            }
        }
    }

    // MARK: decaying quantities

    @inline(__always) func decay(_ v: Double, from t0: Double, to t: Double, halfLifeDays: Double) -> Double {
        v * exp(-(t - t0) / secondsPerDay * M_LN2 / halfLifeDays)
    }

    func fatigue(_ u: Int, at t: Double) -> Double {
        decay(users[u].fatigue, from: users[u].fatigueTime, to: t, halfLifeDays: config.churn.fatigueHalfLifeDays)
    }

    func addFatigue(_ u: Int, _ amount: Double, at t: Double) {
        let f = fatigue(u, at: t)
        users[u].fatigue = min(1, f + amount * (1 - f))
        users[u].fatigueTime = t
    }

    func load(_ u: Int, at t: Double) -> Double {
        decay(users[u].load, from: users[u].loadTime, to: t, halfLifeDays: 1)
    }

    func addLoad(_ u: Int, at t: Double) {
        users[u].load = load(u, at: t) + 1
        users[u].loadTime = t
    }

    func boredom(_ u: Int, _ kind: ActionKind, at t: Double) -> Double {
        let v: Double
        switch kind {
        case .suggestPairing: v = users[u].boredomPair
        case .recommendHive: v = users[u].boredomHive
        case .intervention: v = users[u].boredomIntervention
        case .noAction: return 0
        }
        return decay(v, from: users[u].boredomTime, to: t, halfLifeDays: config.churn.boredomHalfLifeDays)
    }

    func bump(_ u: Int, _ kind: ActionKind, at t: Double) {
        let hl = config.churn.boredomHalfLifeDays
        let bp = decay(users[u].boredomPair, from: users[u].boredomTime, to: t, halfLifeDays: hl)
        let bh = decay(users[u].boredomHive, from: users[u].boredomTime, to: t, halfLifeDays: hl)
        let bi = decay(users[u].boredomIntervention, from: users[u].boredomTime, to: t, halfLifeDays: hl)
        users[u].boredomPair = bp + (kind == .suggestPairing ? 1 : 0)
        users[u].boredomHive = bh + (kind == .recommendHive ? 1 : 0)
        users[u].boredomIntervention = bi + (kind == .intervention ? 1 : 0)
        users[u].boredomTime = t
    }

    func exposure(_ v: Int) -> Int {
        exposureDay[v] == Int32(dayIndex) ? Int(exposureCount[v]) : 0
    }

    // MARK: daily and weekly processes

    func leave(_ u: Int, at t: Double, optOut: Bool) {
        users[u].active = false
        exposureCount[u] = -1
        exposureDay[u] = Int32.max
        users[u].optedOut = optOut
        users[u].leftAt = t
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

    func beginDecision(_ u: Int) {
        let t = now
        if users[u].firstSession < 0 { users[u].firstSession = t }
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

    // MARK: hidden truth

    func trueResonance(_ u: Int, slot k: Int) -> Double {
        let v = candidates[k]
        let P = population.poolSize
        let ps = candidatePoolSlot[k]
        let pc = config.pairing
        let moodU = 1 - 2 * users[u].distress, moodV = 1 - 2 * users[v].distress
        return logistic(pc.resonanceBias + pc.resonanceSimilarity * Double(population.poolSimilarity[u * P + ps])
                        + pc.resonanceComplementarity * Double(population.poolComplementarity[u * P + ps])
                        + pc.resonanceMood * (moodU + moodV) / 2)
    }

    func acceptProbability(_ u: Int, rho: Double, boredom: Double, at t: Double) -> Double {
        let pc = config.pairing
        return logistic(pc.acceptBias + pc.acceptResonance * (rho - 0.5) - pc.fatigueEffect * fatigue(u, at: t)
                        - pc.boredomEffect * boredom + pc.trustEffect * (users[u].trust - 0.5))
    }

    func toneFit(_ u: Int, tone: Int) -> Double {
        let l = config.interventions.tones[tone].traitLoadings
        var f = 0.0
        for k in 0..<5 { f += l[k] * (population.traits[u * 5 + k] - 0.5) }
        return 2 * f
    }

    func interventionAcceptProbability(_ u: Int, tone: Int, at t: Double) -> Double {
        let ic = config.interventions
        return logistic(ic.acceptBias + ic.toneFit * toneFit(u, tone: tone) + ic.trustEffect * (users[u].trust - 0.5)
                        - ic.fatigueEffect * fatigue(u, at: t) - config.pairing.boredomEffect * boredom(u, .intervention, at: t))
    }

    func attendProbability(_ u: Int, event ev: Int, at t: Double) -> (p: Double, match: Double, crowd: Double) {
        let h = config.hives
        let match = interestMatch(u, ev, population.topics)
        let fill = Double(events[ev].registered) / Double(events[ev].capacity)
        let crowd = max(0, (fill - 0.7) / 0.3)
        let p = logistic(h.attendBias + h.attendMatch * (match - 0.5) - h.crowding * crowd
                         - h.fatigueEffect * fatigue(u, at: t) - config.pairing.boredomEffect * boredom(u, .recommendHive, at: t))
        return (p, match, crowd)
    }

    @inline(__always) static func engagementValue(minutes: Double) -> Double {
        min(1, max(-1, 2 * (1 - exp(-minutes / 20)) - 1))
    }

    /// Expected value of explicit feedback given P(thumbs up | truth) = q, with inconsistency eps.
    func explicitMean(_ q: Double) -> Double {
        let eps = config.rewards.inconsistency
        return 2 * (q * (1 - eps) + (1 - q) * eps) - 1
    }

    public func trueResonance(action: Int) -> Double? {
        guard action >= 1 && action <= K, candidates[action - 1] >= 0 else { return nil }
        return trueResonance(currentUser, slot: action - 1)
    }

    /// Plug-in expected reward of each action under the true response model (the oracle's view).
    public func trueExpectedRewards(into out: inout [Double]) {
        let u = currentUser, t = now
        let r = config.rewards
        let px = r.explicitProbability
        if out.count != actionLayout.count { out = [Double](repeating: 0, count: actionLayout.count) }
        out[0] = 0
        for k in 0..<K {
            guard candidates[k] >= 0 else { out[1 + k] = -.infinity; continue }
            let v = candidates[k]
            let rho = trueResonance(u, slot: k)
            let pa = acceptProbability(u, rho: rho, boredom: boredom(u, .suggestPairing, at: t), at: t)
                * acceptProbability(v, rho: rho, boredom: 0, at: t)
            let accepted = r.engagementWeight * JourneyWorld.engagementValue(minutes: exp(log(15) + 2 * (rho - 0.5)))
                + r.resonanceWeight * (2 * rho - 1) + r.explicitWeight * px * explicitMean(logistic(6 * (rho - 0.5)))
            let rejected = r.engagementWeight * -0.3 + r.explicitWeight * px * 0.3 * explicitMean(0)
            out[1 + k] = pa * accepted + (1 - pa) * rejected
        }
        for k in 0..<E {
            guard shownEvents[k] >= 0 else { out[1 + K + k] = -.infinity; continue }
            let (p, match, crowd) = attendProbability(u, event: shownEvents[k], at: t)
            let rh = min(1, max(0, 0.2 + 0.8 * match - 0.3 * crowd))
            let attended = r.engagementWeight * JourneyWorld.engagementValue(minutes: exp(log(40) + (rh - 0.5)))
                + r.resonanceWeight * (2 * rh - 1) + r.explicitWeight * px * explicitMean(logistic(6 * (rh - 0.5)))
            out[1 + K + k] = p * attended + (1 - p) * r.engagementWeight * -0.2
        }
        for k in 0..<tones {
            let a = 1 + K + E + k
            if currentDistressed {
                let fit = toneFit(u, tone: k)
                let p = interventionAcceptProbability(u, tone: k, at: t)
                let coh = min(1, max(0, 0.5 + 0.4 * fit))
                let acc = r.engagementWeight * min(1, 0.3 + 0.4 * fit) + r.resonanceWeight * (2 * coh - 1)
                    + r.explicitWeight * px * explicitMean(0.85)
                out[a] = p * acc + (1 - p) * (r.engagementWeight * -0.1)
            } else {
                out[a] = r.engagementWeight * -0.3 + r.explicitWeight * px * 0.5 * explicitMean(0)
            }
        }
    }

    // MARK: step

    public func step(_ choice: ActionChoice) -> StepResult {
        precondition(!ended, "step() after the run ended; call reset(seed:)")
        precondition(choice.action >= 0 && choice.action < actionMask.count && actionMask[choice.action],
                     "masked or out-of-range action \(choice.action) at decision \(decisionIndex)")
        feedbackBuffer.removeAll(keepingCapacity: true)
        stepReward = 0
        respond(choice)
        decisionIndex += 1
        scheduleArrival(currentUser, after: now)
        users[currentUser].lastSession = now
        advance()
        let result = StepResult(reward: stepReward, terminated: ended && !truncatedFlag, truncated: truncatedFlag,
                                feedback: feedbackBuffer)
        return result
    }

    private func recordRecent(_ u: Int, _ kind: ActionKind, accepted: Int8) {
        let rl = JourneyWorld.recentLength
        let pos = Int(users[u].ringPos) % rl
        recent[u * rl * 2 + pos * 2] = Int8(kind.rawValue)
        recent[u * rl * 2 + pos * 2 + 1] = accepted
        users[u].ringPos = Int32((pos + 1) % rl)
    }

    /// Draws the user's response, its signals, and the state changes.
    func respond(_ choice: ActionChoice) {
        let u = currentUser, t = now, a = choice.action
        let r = config.rewards, s = sResponse!
        let kind: ActionKind
        if a == 0 { kind = .noAction } else if a <= K { kind = .suggestPairing } else if a <= K + E { kind = .recommendHive } else { kind = .intervention }
        var rec = EpisodeRecord(index: decisionIndex, user: u, group: Int(population.group[u]), time: t,
                                action: a, kind: kind, propensity: choice.propensity)
        rec.distressed = currentDistressed
        rec.firstSignal = records.signals.count
        var reward = 0.0
        var acceptedFlag: Int8 = 0
        func signal(_ k: SignalKind, _ value: Double, latency: Double, confidence: Double) {
            let v = min(1, max(-1, value))
            let w = r.weight(k.rawValue, at: t)
            reward += w * v
            if recording {
                records.signals.append(SignalRecord(episode: decisionIndex, kind: k, value: v, latency: latency, confidence: confidence))
            }
            enqueue(Feedback(episode: decisionIndex, kind: k, value: v, weight: w, confidence: confidence), at: t + latency)
        }
        func engagementLatency() -> Double { s.exponential(mean: r.engagementLatencySeconds) }
        func resonanceLatency() -> Double { s.exponential(mean: r.resonanceLatencyHours * secondsPerHour) }
        func explicitLatency() -> Double { s.exponential(mean: r.explicitLatencyDays * secondsPerDay) }
        func explicit(_ q: Double, probability: Double) {
            guard s.bernoulli(probability) else { return }
            var up = s.bernoulli(q)
            if s.bernoulli(r.inconsistency) { up.toggle() }
            signal(.explicitFeedback, up ? 1 : -1, latency: explicitLatency(), confidence: 0.8 + 0.15 * s.uniform())
        }
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
            let pu = acceptProbability(u, rho: rho, boredom: boredom(u, .suggestPairing, at: t), at: t)
            let pv = acceptProbability(v, rho: rho, boredom: 0, at: t)
            let accU = s.bernoulli(pu), accV = s.bernoulli(pv)
            if exposureDay[v] != Int32(dayIndex) { exposureDay[v] = Int32(dayIndex); exposureCount[v] = 0 }
            exposureCount[v] += 1
            addLoad(v, at: t)
            addFatigue(v, config.churn.fatiguePerAction * 0.5, at: t)
            if accU && accV {
                let realized = min(1, max(0, rho + s.gaussian(sd: config.pairing.realizedNoise)))
                rec.accepted = true
                rec.realizedResonance = realized
                acceptedFlag = 1
                let minutes = s.lognormal(zeta: log(15) + 2 * (realized - 0.5), sigma: 0.5)
                signal(.engagement, JourneyWorld.engagementValue(minutes: minutes), latency: engagementLatency(), confidence: 0.9)
                signal(.resonance, 2 * realized - 1 + s.gaussian(sd: 0.1), latency: resonanceLatency(), confidence: 0.7 + 0.2 * s.uniform())
                explicit(logistic(6 * (realized - 0.5)), probability: r.explicitProbability)
                users[u].connections += 1; users[v].connections += 1
                for w in [u, v] {
                    users[w].pending = decay(users[w].pending, from: users[w].pendingTime, to: t, halfLifeDays: 2) + 1
                    users[w].pendingTime = t
                    users[w].trust = min(1, max(0, users[w].trust + 0.04 * (realized - 0.5)))
                }
            } else {
                acceptedFlag = -1
                signal(.engagement, -0.3, latency: engagementLatency(), confidence: 0.9)
                explicit(0, probability: r.explicitProbability * 0.3)
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
                let rh = min(1, max(0, 0.2 + 0.8 * match - 0.3 * crowd + s.gaussian(sd: 0.1)))
                let minutes = s.lognormal(zeta: log(40) + (rh - 0.5), sigma: 0.5)
                signal(.engagement, JourneyWorld.engagementValue(minutes: minutes), latency: engagementLatency(), confidence: 0.9)
                let untilEvent = max(0, events[ev].start - t)
                signal(.resonance, 2 * rh - 1 + s.gaussian(sd: 0.1), latency: untilEvent + resonanceLatency(), confidence: 0.6 + 0.2 * s.uniform())
                explicit(logistic(6 * (rh - 0.5)), probability: r.explicitProbability)
                users[u].trust = min(1, max(0, users[u].trust + 0.03 * (rh - 0.5)))
            } else {
                acceptedFlag = -1
                signal(.engagement, -0.2, latency: engagementLatency(), confidence: 0.9)
            }
        case .intervention:
            let tone = a - 1 - K - E
            if currentDistressed {
                let fit = toneFit(u, tone: tone)
                if s.bernoulli(interventionAcceptProbability(u, tone: tone, at: t)) {
                    acceptedFlag = 1
                    rec.accepted = true
                    signal(.engagement, 0.3 + 0.4 * fit + s.gaussian(sd: 0.1), latency: engagementLatency(), confidence: 0.9)
                    let coh = min(1, max(0, 0.5 + 0.4 * fit + s.gaussian(sd: 0.1)))
                    signal(.resonance, 2 * coh - 1, latency: resonanceLatency(), confidence: 0.6 + 0.2 * s.uniform())
                    explicit(0.85, probability: r.explicitProbability)
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
                    signal(.engagement, -0.1, latency: engagementLatency(), confidence: 0.9)
                }
            } else {
                acceptedFlag = -1
                addFatigue(u, config.interventions.falsePositiveFatigue, at: t)
                users[u].trust = max(0, users[u].trust - config.interventions.falsePositiveTrust)
                users[u].falsePositivePressure += 1
                signal(.engagement, -0.3, latency: engagementLatency(), confidence: 0.9)
                explicit(0, probability: r.explicitProbability * 0.5)
            }
        }
        if kind != .noAction {
            addFatigue(u, config.churn.fatiguePerAction, at: t)
            addLoad(u, at: t)
            bump(u, kind, at: t)
        }
        recordRecent(u, kind, accepted: acceptedFlag)
        rec.reward = reward
        rec.outcome = reward >= r.successThreshold ? .success : (reward <= r.failureThreshold ? .failure : .neutral)
        if recording {
            rec.signalCount = records.signals.count - rec.firstSignal
            records.episodes.append(rec)
        }
        lastEpisode = rec
    }

    // MARK: end of run

    /// Closes the run: the trust survey for every user who had a session, and per-user outcomes.
    public func finish(surveySeed: SeedTree) -> RunRecords {
        let s = surveySeed.stream(generator)
        var out = records
        out.users = []
        out.users.reserveCapacity(users.count)
        for u in 0..<users.count {
            let st = users[u]
            let raw = (1 + 4 * st.trust + s.gaussian(sd: 0.6)).rounded()
            let answer = raw.isFinite ? Int(min(5, max(1, raw))) : 1
            out.users.append(UserOutcome(group: Int(population.group[u]),
                                         firstSession: st.firstSession >= 0 ? st.firstSession : nil,
                                         leftAt: st.active ? nil : st.leftAt, optedOut: st.optedOut,
                                         trustSurvey: min(5, max(1, answer))))
        }
        // The run covers up to the last decision or the last departure, whichever is later.
        out.duration = users.reduce(now) { st, u in u.active ? st : max(st, u.leftAt) }
        return out
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

extension JourneyWorld {
    /// Gaussian variates drawn so far by the world's dynamic streams (for the benchmark).
    public var gaussianDraws: Int {
        [sArrival, sEmotion, sResponse, sObserve, sDaily, sEvents, sCands].reduce(0) { $0 + ($1?.gaussianDraws ?? 0) }
    }
}
