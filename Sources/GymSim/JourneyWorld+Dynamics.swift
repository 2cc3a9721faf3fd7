import Foundation
import GymCore
import GymRandom

/// User dynamics: the emotion process and distress, fatigue, load, boredom and exposure.
extension JourneyWorld {
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
}
