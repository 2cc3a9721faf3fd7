import Foundation
import GymCore
import GymRandom

/// The one response model of the journey world: the probabilities of each response, the signals
/// an action produces (drawn in a fixed order from the world's response stream), their exact
/// expectations, and the reward weights at a decision's time. The simulator samples from it and
/// the oracle takes its expectations from it, so the two cannot drift apart.
///
/// Signal values (each clamped to [-1, 1]; R is the realized resonance of a pairing, rh that of a
/// hive, both in [0, 1]):
/// - pairing accepted by both: R = clamp(rho + N(0, realized_noise), 0, 1); engagement =
///   2(1 - exp(-M / 20)) - 1 with ln M ~ N(ln 15 + 2(R - 0.5), 0.5^2); resonance = 2R - 1 + N(0, 0.1);
///   explicit feedback (probability p_x) thumbs up with probability logistic(6(R - 0.5)).
/// - pairing declined: engagement -0.3; explicit feedback with probability 0.3 p_x, q = 0.
/// - hive attended: rh = clamp(0.2 + 0.8 match - 0.3 crowd + N(0, 0.1), 0, 1); engagement as a
///   pairing's with ln M ~ N(ln 40 + (rh - 0.5), 0.5^2); resonance 2 rh - 1 + N(0, 0.1) when the
///   event starts; explicit with q = logistic(6(rh - 0.5)). Declined: engagement -0.2.
/// - intervention to a distressed user, accepted: engagement 0.3 + 0.4 fit + N(0, 0.1); resonance
///   2 clamp(0.5 + 0.4 fit + N(0, 0.1), 0, 1) - 1; explicit with q = 0.85. Declined: engagement -0.1.
/// - intervention to a user who is not distressed: engagement -0.3; explicit with probability
///   0.5 p_x, q = 0.
/// Explicit feedback is inverted with probability `inconsistency`: its value is +1 or -1.
public struct ResponseModel: @unchecked Sendable {
    public let pairing: PairingConfig
    public let hives: HiveConfig
    public let interventions: InterventionConfig
    public let rewards: RewardConfig
    let tables: ExpectationTables

    public init(config: SimConfig) {
        pairing = config.pairing; hives = config.hives; interventions = config.interventions; rewards = config.rewards
        tables = ExpectationTables.shared(realizedNoise: config.pairing.realizedNoise)
    }


    // MARK: reward weights

    /// The weights of engagement, resonance and explicit feedback for a decision at second `t`.
    @inline(__always) public func weights(at t: Double) -> (engagement: Double, resonance: Double, explicit: Double) {
        (rewards.weight(0, at: t), rewards.weight(1, at: t), rewards.weight(2, at: t))
    }

    // MARK: probabilities

    /// True resonance of a pair: logistic(bias + similarity cos + complementarity comp + mood mean mood),
    /// with mood = 1 - 2 distress.
    @inline(__always) public func resonance(similarity: Double, complementarity: Double, distressU: Double, distressV: Double) -> Double {
        let moodU = 1 - 2 * distressU, moodV = 1 - 2 * distressV
        return logistic(pairing.resonanceBias + pairing.resonanceSimilarity * similarity + pairing.resonanceComplementarity * complementarity
                        + pairing.resonanceMood * (moodU + moodV) / 2)
    }

    /// One side's acceptance of a suggested pairing.
    @inline(__always) public func acceptProbability(rho: Double, fatigue: Double, boredom: Double, trust: Double) -> Double {
        logistic(pairing.acceptBias + pairing.acceptResonance * (rho - 0.5) - pairing.fatigueEffect * fatigue
                 - pairing.boredomEffect * boredom + pairing.trustEffect * (trust - 0.5))
    }

    /// fit = 2 loadings . (traits - 0.5) of tone `tone`; `traits` points at the user's five traits.
    @inline(__always) public func toneFit(traits: UnsafePointer<Double>, tone: Int) -> Double {
        let l = interventions.tones[tone].traitLoadings
        var f = 0.0
        for k in 0..<5 { f += l[k] * (traits[k] - 0.5) }
        return 2 * f
    }

    /// A distressed user's acceptance of an intervention.
    @inline(__always) public func interventionAcceptProbability(fit: Double, trust: Double, fatigue: Double, boredom: Double) -> Double {
        logistic(interventions.acceptBias + interventions.toneFit * fit + interventions.trustEffect * (trust - 0.5)
                 - interventions.fatigueEffect * fatigue - pairing.boredomEffect * boredom)
    }

    /// Attendance of a hive event: crowding rises past 70% of capacity.
    @inline(__always) public func attendProbability(match: Double, fill: Double, fatigue: Double, boredom: Double) -> (p: Double, crowd: Double) {
        let crowd = max(0, (fill - 0.7) / 0.3)
        let p = logistic(hives.attendBias + hives.attendMatch * (match - 0.5) - hives.crowding * crowd
                         - hives.fatigueEffect * fatigue - pairing.boredomEffect * boredom)
        return (p, crowd)
    }

    /// The mean of a hive's realized resonance before its noise.
    @inline(__always) public static func hiveResonanceMean(match: Double, crowd: Double) -> Double { 0.2 + 0.8 * match - 0.3 * crowd }

    /// Engagement from minutes engaged: 2(1 - exp(-minutes / 20)) - 1, in (-1, 1).
    @inline(__always) public static func engagementValue(minutes: Double) -> Double {
        min(1, max(-1, 2 * (1 - exp(-minutes / 20)) - 1))
    }

    /// E[explicit feedback value | given] with P(thumbs up | truth) = q and inconsistency eps.
    @inline(__always) public func explicitMean(_ q: Double) -> Double {
        let eps = rewards.inconsistency
        return 2 * (q * (1 - eps) + (1 - q) * eps) - 1
    }
}

/// Receives each signal a response produces: kind, value (before clamping to [-1, 1]), latency
/// in seconds, confidence.
public protocol SignalSink {
    mutating func emit(_ kind: SignalKind, _ value: Double, _ latency: Double, _ confidence: Double)
}

// MARK: - Sampling (the draw order is part of the seeds' meaning: keep it)

extension ResponseModel {
    @inline(__always) func engagementLatency(_ s: RandomStream) -> Double { s.exponential(mean: rewards.engagementLatencySeconds) }
    @inline(__always) func resonanceLatency(_ s: RandomStream) -> Double { s.exponential(mean: rewards.resonanceLatencyHours * 3600) }
    @inline(__always) func explicitLatency(_ s: RandomStream) -> Double { s.exponential(mean: rewards.explicitLatencyDays * 86_400) }

    /// Explicit feedback: left with `probability`, thumbs up with probability q, inverted with
    /// probability `inconsistency`.
    @inline(__always) func explicit(_ q: Double, probability: Double, _ s: RandomStream, _ sink: inout some SignalSink) {
        guard s.bernoulli(probability) else { return }
        var up = s.bernoulli(q)
        if s.bernoulli(rewards.inconsistency) { up.toggle() }
        sink.emit(.explicitFeedback, up ? 1 : -1, explicitLatency(s), 0.8 + 0.15 * s.uniform())
    }

    /// Both sides accepted: emits the signals and returns the realized resonance R.
    func samplePairingAccepted(rho: Double, _ s: RandomStream, _ sink: inout some SignalSink) -> Double {
        let realized = min(1, max(0, rho + s.gaussian(sd: pairing.realizedNoise)))
        let minutes = s.lognormal(zeta: log(15) + 2 * (realized - 0.5), sigma: 0.5)
        sink.emit(.engagement, ResponseModel.engagementValue(minutes: minutes), engagementLatency(s), 0.9)
        sink.emit(.resonance, 2 * realized - 1 + s.gaussian(sd: 0.1), resonanceLatency(s), 0.7 + 0.2 * s.uniform())
        explicit(logistic(6 * (realized - 0.5)), probability: rewards.explicitProbability, s, &sink)
        return realized
    }

    func samplePairingDeclined(_ s: RandomStream, _ sink: inout some SignalSink) {
        sink.emit(.engagement, -0.3, engagementLatency(s), 0.9)
        explicit(0, probability: rewards.explicitProbability * 0.3, s, &sink)
    }

    /// Attended: emits the signals (resonance once the event has started, `untilEvent` seconds on)
    /// and returns the realized resonance rh.
    func sampleHiveAttended(match: Double, crowd: Double, untilEvent: Double, _ s: RandomStream, _ sink: inout some SignalSink) -> Double {
        let rh = min(1, max(0, ResponseModel.hiveResonanceMean(match: match, crowd: crowd) + s.gaussian(sd: 0.1)))
        let minutes = s.lognormal(zeta: log(40) + (rh - 0.5), sigma: 0.5)
        sink.emit(.engagement, ResponseModel.engagementValue(minutes: minutes), engagementLatency(s), 0.9)
        sink.emit(.resonance, 2 * rh - 1 + s.gaussian(sd: 0.1), untilEvent + resonanceLatency(s), 0.6 + 0.2 * s.uniform())
        explicit(logistic(6 * (rh - 0.5)), probability: rewards.explicitProbability, s, &sink)
        return rh
    }

    func sampleHiveDeclined(_ s: RandomStream, _ sink: inout some SignalSink) {
        sink.emit(.engagement, -0.2, engagementLatency(s), 0.9)
    }

    func sampleInterventionAccepted(fit: Double, _ s: RandomStream, _ sink: inout some SignalSink) {
        sink.emit(.engagement, 0.3 + 0.4 * fit + s.gaussian(sd: 0.1), engagementLatency(s), 0.9)
        let coh = min(1, max(0, 0.5 + 0.4 * fit + s.gaussian(sd: 0.1)))
        sink.emit(.resonance, 2 * coh - 1, resonanceLatency(s), 0.6 + 0.2 * s.uniform())
        explicit(0.85, probability: rewards.explicitProbability, s, &sink)
    }

    func sampleInterventionDeclined(_ s: RandomStream, _ sink: inout some SignalSink) {
        sink.emit(.engagement, -0.1, engagementLatency(s), 0.9)
    }

    /// An intervention to a user who is not distressed.
    func sampleFalsePositive(_ s: RandomStream, _ sink: inout some SignalSink) {
        sink.emit(.engagement, -0.3, engagementLatency(s), 0.9)
        explicit(0, probability: rewards.explicitProbability * 0.5, s, &sink)
    }
}

// MARK: - Expectations (of exactly the signals above, integrated over their noise)

extension ResponseModel {
    /// Expected reward of suggesting a pairing with true resonance `rho`, accepted by both with
    /// probability `pAccept`, decided at second `t`.
    public func expectedPairingReward(rho: Double, pAccept: Double, at t: Double) -> Double {
        let w = weights(at: t), px = rewards.explicitProbability
        let m = tables.pairing(rho)
        let accepted = w.engagement * m.engagement + w.resonance * m.resonance + w.explicit * px * explicitMean(m.q)
        let declined = w.engagement * -0.3 + w.explicit * px * 0.3 * explicitMean(0)
        return pAccept * accepted + (1 - pAccept) * declined
    }

    /// Expected reward of recommending a hive event attended with probability `p`.
    public func expectedHiveReward(match: Double, crowd: Double, p: Double, at t: Double) -> Double {
        let w = weights(at: t), px = rewards.explicitProbability
        let m = tables.hive(ResponseModel.hiveResonanceMean(match: match, crowd: crowd))
        let attended = w.engagement * m.engagement + w.resonance * m.resonance + w.explicit * px * explicitMean(m.q)
        return p * attended + (1 - p) * w.engagement * -0.2
    }

    /// Expected reward of an intervention: to a distressed user accepted with probability `p`,
    /// or to a user who is not distressed (a false positive).
    public func expectedInterventionReward(distressed: Bool, fit: Double, p: Double, at t: Double) -> Double {
        let w = weights(at: t), px = rewards.explicitProbability
        guard distressed else { return w.engagement * -0.3 + w.explicit * px * 0.5 * explicitMean(0) }
        let engagement = Quadrature.clampedNormalMean(mu: 0.3 + 0.4 * fit, sd: 0.1, lo: -1, hi: 1)
        let resonance = 2 * Quadrature.clampedNormalMean(mu: 0.5 + 0.4 * fit, sd: 0.1, lo: 0, hi: 1) - 1
        let accepted = w.engagement * engagement + w.resonance * resonance + w.explicit * px * explicitMean(0.85)
        return p * accepted + (1 - p) * w.engagement * -0.1
    }
}

/// Means of a pairing's or a hive's signals given the mean of its realized resonance, tabulated
/// once (lazily, the first time the oracle asks) on a fine grid and linearly interpolated; each
/// node is integrated numerically over the noises (relative error below 1e-6).
final class ExpectationTables: @unchecked Sendable {
    struct Means { var engagement: Double; var resonance: Double; var q: Double }
    let realizedNoise: Double
    let lock = NSLock()
    var pairingTable: [Means]?
    var hiveTable: [Means]?
    static let pairingRange = (lo: 0.0, hi: 1.0, n: 1001)
    static let hiveRange = (lo: -0.6, hi: 1.6, n: 1101)

    init(realizedNoise: Double) { self.realizedNoise = realizedNoise }

    /// One set of tables per realized-resonance noise, shared by every world of the process (they
    /// depend on nothing else; building them takes about 0.1 s).
    static let cacheLock = NSLock()
    nonisolated(unsafe) static var cache: [UInt64: ExpectationTables] = [:]
    static func shared(realizedNoise: Double) -> ExpectationTables {
        cacheLock.lock(); defer { cacheLock.unlock() }
        if let t = cache[realizedNoise.bitPattern] { return t }
        let t = ExpectationTables(realizedNoise: realizedNoise)
        cache[realizedNoise.bitPattern] = t
        return t
    }

    /// Signal means of a realized resonance r = clamp(mean + N(0, sd), 0, 1), with engagement from
    /// ln M ~ N(base + slope (r - 0.5), 0.5^2) and resonance 2r - 1 + N(0, 0.1) clamped.
    static func means(mean: Double, sd: Double, base: Double, slope: Double) -> Means {
        func at(_ r: Double) -> (Double, Double, Double) {
            // E[2(1 - exp(-M/20)) - 1] = 1 - 2 E[exp(-M/20)].
            let zeta = base + slope * (r - 0.5)
            let e = 1 - 2 * Quadrature.normalExpectation { z in exp(-exp(zeta + 0.5 * z) / 20) }
            let res = Quadrature.clampedNormalMean(mu: 2 * r - 1, sd: 0.1, lo: -1, hi: 1)
            return (e, res, logistic(6 * (r - 0.5)))
        }
        let v = Quadrature.clampedExpectation(mean: mean, sd: sd, lo: 0, hi: 1, count: 3) { r in let x = at(r); return [x.0, x.1, x.2] }
        return Means(engagement: v[0], resonance: v[1], q: v[2])
    }

    static func build(_ range: (lo: Double, hi: Double, n: Int), sd: Double, base: Double, slope: Double) -> [Means] {
        (0..<range.n).map { i in
            means(mean: range.lo + (range.hi - range.lo) * Double(i) / Double(range.n - 1), sd: sd, base: base, slope: slope)
        }
    }

    static func interpolate(_ t: [Means], _ range: (lo: Double, hi: Double, n: Int), _ x: Double) -> Means {
        let u = (min(range.hi, max(range.lo, x)) - range.lo) / (range.hi - range.lo) * Double(range.n - 1)
        let i = min(range.n - 2, Int(u)), f = u - Double(i)
        let a = t[i], b = t[i + 1]
        return Means(engagement: a.engagement + f * (b.engagement - a.engagement), resonance: a.resonance + f * (b.resonance - a.resonance),
                     q: a.q + f * (b.q - a.q))
    }

    func pairing(_ rho: Double) -> Means {
        lock.lock(); defer { lock.unlock() }
        if pairingTable == nil { pairingTable = Self.build(Self.pairingRange, sd: realizedNoise, base: log(15), slope: 2) }
        return Self.interpolate(pairingTable!, Self.pairingRange, rho)
    }

    func hive(_ mean: Double) -> Means {
        lock.lock(); defer { lock.unlock() }
        if hiveTable == nil { hiveTable = Self.build(Self.hiveRange, sd: 0.1, base: log(40), slope: 1) }
        return Self.interpolate(hiveTable!, Self.hiveRange, mean)
    }
}

/// Gaussian expectations by Gauss-Legendre quadrature (64 nodes) over z in [-9, 9].
enum Quadrature {
    /// Nodes and weights of the 64-point Gauss-Legendre rule on [-1, 1] (Newton on the Legendre
    /// recurrence from Tricomi's initial guesses).
    static let legendre: (x: [Double], w: [Double]) = {
        let n = 64
        var x = [Double](repeating: 0, count: n), w = x
        for i in 0..<n {
            var z = cos(Double.pi * (Double(i) + 0.75) / (Double(n) + 0.5))
            var dp = 0.0
            for _ in 0..<100 {
                var p0 = 1.0, p1 = 0.0
                for j in 1...n { let p2 = p1; p1 = p0; p0 = ((2 * Double(j) - 1) * z * p1 - (Double(j) - 1) * p2) / Double(j) }
                dp = Double(n) * (z * p0 - p1) / (z * z - 1)
                let dz = p0 / dp
                z -= dz
                if abs(dz) < 1e-15 { break }
            }
            x[i] = z
            w[i] = 2 / ((1 - z * z) * dp * dp)
        }
        return (x, w)
    }()

    @inline(__always) static func phi(_ z: Double) -> Double { exp(-0.5 * z * z) / (2 * Double.pi).squareRoot() }
    @inline(__always) static func Phi(_ z: Double) -> Double { 0.5 * erfc(-z / 2.0.squareRoot()) }

    /// ∫_a^b f(z) φ(z) dz.
    static func integrate(_ a: Double, _ b: Double, _ f: (Double) -> Double) -> Double {
        guard b > a else { return 0 }
        let h = (b - a) / 2, c = (b + a) / 2
        var s = 0.0
        for i in 0..<legendre.x.count { let z = c + h * legendre.x[i]; s += legendre.w[i] * f(z) * phi(z) }
        return s * h
    }

    /// E[f(Z)], Z ~ N(0, 1) (tails beyond 9 sd left out: below 1e-18).
    static func normalExpectation(_ f: (Double) -> Double) -> Double { integrate(-9, 9, f) }

    /// E[clamp(X, lo, hi)] for X ~ N(mu, sd^2), in closed form.
    static func clampedNormalMean(mu: Double, sd: Double, lo: Double, hi: Double) -> Double {
        guard sd > 0 else { return min(hi, max(lo, mu)) }
        let a = (lo - mu) / sd, b = (hi - mu) / sd
        return lo * Phi(a) + hi * (1 - Phi(b)) + mu * (Phi(b) - Phi(a)) + sd * (phi(a) - phi(b))
    }

    /// E[g(clamp(X, lo, hi))] for X ~ N(mean, sd^2) and a vector-valued g of `count` values:
    /// the two point masses at the bounds plus the integral over the interior.
    static func clampedExpectation(mean: Double, sd: Double, lo: Double, hi: Double, count: Int, _ g: (Double) -> [Double]) -> [Double] {
        guard sd > 0 else { return g(min(hi, max(lo, mean))) }
        let a = (lo - mean) / sd, b = (hi - mean) / sd
        let pLo = Phi(a), pHi = 1 - Phi(b)
        var out = [Double](repeating: 0, count: count)
        if pLo > 0 { let v = g(lo); for k in 0..<count { out[k] += pLo * v[k] } }
        if pHi > 0 { let v = g(hi); for k in 0..<count { out[k] += pHi * v[k] } }
        let za = max(a, -9), zb = min(b, 9)
        if zb > za {
            let h = (zb - za) / 2, c = (zb + za) / 2
            for i in 0..<legendre.x.count {
                let z = c + h * legendre.x[i]
                let v = g(mean + sd * z)
                let wt = legendre.w[i] * phi(z) * h
                for k in 0..<count { out[k] += wt * v[k] }
            }
        }
        return out
    }
}
