import Foundation
import GymRandom

// Rényi differential privacy (RDP) accounting for the Gaussian mechanism and its
// Poisson-subsampled version (DP-SGD's case).
//
// - Gaussian mechanism with L2 sensitivity 1 and noise N(0, sigma^2): RDP at order alpha is
//   alpha / (2 sigma^2) (Mironov 2017, "Rényi Differential Privacy", Proposition 7). RDP adds up
//   under composition, so K releases cost K alpha / (2 sigma^2).
// - Poisson-subsampled Gaussian with sampling rate q: RDP at order alpha is log(A_alpha) /
//   (alpha - 1) (Mironov, Talwar and Zhang 2019, "Rényi Differential Privacy of the Sampled
//   Gaussian Mechanism", Section 3.3): for integer alpha
//     A_alpha = sum_{k=0..alpha} C(alpha, k) (1 - q)^(alpha - k) q^k exp((k^2 - k) / (2 sigma^2)),
//   and for fractional alpha the two-sided series of that section, summed until its terms drop
//   below e^-30 of the total.
// - Conversion to (epsilon, delta) at each order, then the best order (Balle, Barthe, Gaboardi,
//   Hsu and Sato 2020, "Hypothesis Testing Interpretations and Rényi Differential Privacy",
//   Theorem 21, as Google's dp-accounting and Opacus use it):
//     epsilon = rdp + log1p(-1 / alpha) - log(delta * alpha) / (alpha - 1),
//   and epsilon = 0 when delta^2 + expm1(-rdp) > 0 (the two distributions are that close).

/// Something that spends privacy budget, for the accountant.
public indirect enum PrivacyEvent: Sendable, Equatable, Codable {
    /// One release through the Gaussian mechanism with noise multiplier `sigma` (noise standard
    /// deviation over the L2 sensitivity).
    case gaussian(sigma: Double)
    /// One step of the Poisson-subsampled Gaussian mechanism: each record is in the batch with
    /// probability `q`, then the Gaussian mechanism with noise multiplier `sigma`.
    case sampledGaussian(sigma: Double, q: Double)
    /// `event` repeated `times` times.
    case composed(PrivacyEvent, times: Int)

    /// RDP of the event at `order` (> 1).
    public func rdp(order: Double) -> Double {
        switch self {
        case .gaussian(let sigma): return RDP.gaussian(sigma: sigma, order: order)
        case .sampledGaussian(let sigma, let q): return RDP.sampledGaussian(q: q, sigma: sigma, order: order)
        case .composed(let e, let times): return Double(times) * e.rdp(order: order)
        }
    }
}

/// RDP of single mechanisms.
public enum RDP {
    /// Gaussian mechanism, sensitivity 1, noise multiplier sigma: alpha / (2 sigma^2).
    public static func gaussian(sigma: Double, order: Double) -> Double {
        guard sigma > 0 else { return .infinity }
        return order / (2 * sigma * sigma)
    }

    /// Poisson-subsampled Gaussian mechanism (Mironov, Talwar and Zhang 2019).
    public static func sampledGaussian(q: Double, sigma: Double, order: Double) -> Double {
        precondition(order > 1, "RDP orders must exceed 1")
        if q <= 0 { return 0 }
        if q >= 1 { return gaussian(sigma: sigma, order: order) }
        guard sigma > 0 else { return .infinity }
        let logA = order == order.rounded() && order < 1e6
            ? logAInteger(q: q, sigma: sigma, order: Int(order))
            : logAFractional(q: q, sigma: sigma, order: order)
        return logA / (order - 1)
    }

    /// log A_alpha for integer alpha: the binomial sum, in log space.
    static func logAInteger(q: Double, sigma: Double, order a: Int) -> Double {
        var acc = -Double.infinity
        let lq = log(q), l1q = log1p(-q)
        let lgA = SpecialFunctions.logGamma(Double(a) + 1)
        for k in 0...a {
            let logBinom = lgA - SpecialFunctions.logGamma(Double(k) + 1) - SpecialFunctions.logGamma(Double(a - k) + 1)
            let kk = Double(k)
            let term = logBinom + kk * lq + Double(a - k) * l1q + (kk * kk - kk) / (2 * sigma * sigma)
            acc = logAdd(acc, term)
        }
        return acc
    }

    /// log A_alpha for fractional alpha: A = A0 + A1 with
    ///   A0 = sum_i C(alpha, i) q^i (1-q)^(alpha-i) e^((i^2-i)/(2 sigma^2)) erfc((i - z0)/(sqrt2 sigma))/2
    ///   A1 = sum_i C(alpha, i) q^(alpha-i) (1-q)^i e^((j^2-j)/(2 sigma^2)) erfc((z0 - j)/(sqrt2 sigma))/2,
    /// j = alpha - i, z0 = sigma^2 log(1/q - 1) + 1/2; the generalised binomial coefficients change
    /// sign, so the sums are kept as signed log magnitudes.
    static func logAFractional(q: Double, sigma: Double, order a: Double) -> Double {
        var s0 = SignedLog.zero, s1 = SignedLog.zero
        let z0 = sigma * sigma * log(1 / q - 1) + 0.5
        let lq = log(q), l1q = log1p(-q)
        var logAbsBinom = 0.0, binomSign = 1.0   // C(alpha, 0) = 1
        var i = 0
        while true {
            if i > 0 {
                // C(a, i) = C(a, i-1) (a - i + 1) / i
                let f = (a - Double(i) + 1) / Double(i)
                if f == 0 { break }
                logAbsBinom += log(abs(f))
                if f < 0 { binomSign = -binomSign }
            }
            let ii = Double(i), j = a - ii
            let t0 = logAbsBinom + ii * lq + j * l1q
            let t1 = logAbsBinom + j * lq + ii * l1q
            let e0 = log(0.5) + SpecialFunctions.logErfc((ii - z0) / (2.0.squareRoot() * sigma))
            let e1 = log(0.5) + SpecialFunctions.logErfc((z0 - j) / (2.0.squareRoot() * sigma))
            let l0 = t0 + (ii * ii - ii) / (2 * sigma * sigma) + e0
            let l1 = t1 + (j * j - j) / (2 * sigma * sigma) + e1
            s0 = s0.adding(SignedLog(sign: binomSign, log: l0))
            s1 = s1.adding(SignedLog(sign: binomSign, log: l1))
            i += 1
            if max(l0, l1) < -30 || i > 100_000 { break }
        }
        return s0.adding(s1).log
    }

    /// log(e^a + e^b).
    static func logAdd(_ a: Double, _ b: Double) -> Double {
        let (hi, lo) = a > b ? (a, b) : (b, a)
        if lo == -.infinity { return hi }
        return hi + log1p(exp(lo - hi))
    }
}

/// A signed number held as sign and log of its magnitude.
struct SignedLog {
    var sign: Double
    var log: Double
    static let zero = SignedLog(sign: 1, log: -.infinity)

    func adding(_ o: SignedLog) -> SignedLog {
        if o.log == -.infinity { return self }
        if log == -.infinity { return o }
        if sign == o.sign { return SignedLog(sign: sign, log: RDP.logAdd(log, o.log)) }
        let (big, small) = log >= o.log ? (self, o) : (o, self)
        let diff = -expm1(small.log - big.log)   // 1 - e^(small - big)
        if diff <= 0 { return .zero }
        return SignedLog(sign: big.sign, log: big.log + Foundation.log(diff))
    }
}

/// Accumulates RDP over a fixed list of orders and converts it to (epsilon, delta).
public struct RDPAccountant: Sendable {
    /// Google dp-accounting's default orders (`DEFAULT_RDP_ORDERS` of dp-accounting 0.6.0):
    /// 1.1, 1.2, ..., 10.9, then 11, 12, ..., 63, then 128, 256, 512, 1024 (156 orders).
    public static let defaultOrders: [Double] = {
        var o: [Double] = (1...99).map { (x: Int) -> Double in 1 + Double(x) / 10 }
        o += (11...63).map { (x: Int) -> Double in Double(x) }
        o += [128, 256, 512, 1024]
        return o
    }()

    public let orders: [Double]
    public private(set) var rdp: [Double]

    public init(orders: [Double] = RDPAccountant.defaultOrders) {
        precondition(orders.allSatisfy { $0 > 1 }, "RDP orders must exceed 1")
        self.orders = orders
        rdp = [Double](repeating: 0, count: orders.count)
    }

    /// Adds `event`'s RDP at every order.
    public mutating func compose(_ event: PrivacyEvent) {
        for i in orders.indices { rdp[i] += event.rdp(order: orders[i]) }
    }

    /// The smallest epsilon over the orders for `delta`, with the order that gives it.
    public func epsilon(delta: Double) -> (epsilon: Double, order: Double) {
        RDPAccountant.epsilon(orders: orders, rdp: rdp, delta: delta)
    }

    /// Conversion of an RDP curve to (epsilon, delta): Balle et al. 2020, Theorem 21.
    public static func epsilon(orders: [Double], rdp: [Double], delta: Double) -> (epsilon: Double, order: Double) {
        precondition(delta > 0 && delta < 1)
        var best = (epsilon: Double.infinity, order: orders.first ?? 2)
        for (a, r) in zip(orders, rdp) {
            let eps: Double
            if r.isNaN || r == .infinity { continue }
            if delta * delta + expm1(-r) > 0 { eps = 0 } else if a > 1.01 {
                eps = r + log1p(-1 / a) - log(delta * a) / (a - 1)
            } else { continue }
            if eps < best.epsilon { best = (max(0, eps), a) }
        }
        return best
    }

    /// Epsilon of `event` on its own.
    public static func epsilon(of event: PrivacyEvent, delta: Double, orders: [Double] = defaultOrders) -> Double {
        var acc = RDPAccountant(orders: orders)
        acc.compose(event)
        return acc.epsilon(delta: delta).epsilon
    }

    /// The smallest noise multiplier sigma (to relative precision `tolerance`) for which `steps`
    /// steps at sampling rate `q` (1: no subsampling) cost at most `epsilon` at `delta`.
    public static func calibrateSigma(epsilon target: Double, delta: Double, steps: Int, q: Double = 1,
                                      orders: [Double] = defaultOrders, tolerance: Double = 1e-6) -> Double {
        precondition(target > 0 && steps >= 1 && q > 0 && q <= 1)
        func eps(_ sigma: Double) -> Double {
            let step: PrivacyEvent = q >= 1 ? .gaussian(sigma: sigma) : .sampledGaussian(sigma: sigma, q: q)
            return epsilon(of: .composed(step, times: steps), delta: delta, orders: orders)
        }
        var lo = 1e-3, hi = 1.0
        while eps(hi) > target { lo = hi; hi *= 2; if hi > 1e7 { return .infinity } }
        while eps(lo) <= target && lo > 1e-9 { hi = lo; lo /= 2 }
        while (hi - lo) > tolerance * hi {
            let mid = (lo + hi) / 2
            if eps(mid) > target { lo = mid } else { hi = mid }
        }
        return hi
    }
}

/// The exact privacy curve of the Gaussian mechanism (Balle and Wang 2018, "Improving the
/// Gaussian Mechanism for Differential Privacy", Theorem 8): with sensitivity 1 and noise s,
///   delta(epsilon) = Phi(1/(2s) - epsilon s) - e^epsilon Phi(-1/(2s) - epsilon s).
/// K compositions of noise sigma are one mechanism with s = sigma / sqrt(K).
public enum AnalyticGaussian {
    public static func delta(epsilon: Double, s: Double) -> Double {
        SpecialFunctions.normalCDF(1 / (2 * s) - epsilon * s) - exp(epsilon) * SpecialFunctions.normalCDF(-1 / (2 * s) - epsilon * s)
    }

    /// The epsilon at which delta(epsilon) = `delta`, by bisection (delta decreases in epsilon).
    public static func epsilon(sigma: Double, compositions: Int = 1, delta target: Double) -> Double {
        let s = sigma / Double(compositions).squareRoot()
        if delta(epsilon: 0, s: s) <= target { return 0 }
        var lo = 0.0, hi = 1.0
        while delta(epsilon: hi, s: s) > target { lo = hi; hi *= 2; if hi > 1e6 { return .infinity } }
        for _ in 0..<200 {
            let mid = (lo + hi) / 2
            if delta(epsilon: mid, s: s) > target { lo = mid } else { hi = mid }
            if hi - lo < 1e-12 * max(1, hi) { break }
        }
        return hi
    }
}
