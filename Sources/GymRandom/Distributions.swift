import CGSL
import Foundation

/// A distribution with validated parameters that draws from a caller-owned `RandomStream`.
public protocol Distribution: Sendable {
    associatedtype Value
    func sample(_ stream: RandomStream) -> Value
}

@inline(__always)
func require(_ ok: Bool, _ d: String, _ p: String, _ v: Double, _ r: String) throws {
    if !ok || v.isNaN { throw RandomError.invalidParameter(distribution: d, parameter: p, value: "\(v)", requirement: r) }
}

/// Normal(mean, sd^2), sd >= 0.
public struct Gaussian: Distribution {
    public let mean: Double, sd: Double
    public init(mean: Double, sd: Double) throws {
        try require(mean.isFinite, "Gaussian", "mean", mean, "finite")
        try require(sd >= 0 && sd.isFinite, "Gaussian", "sd", sd, ">= 0 and finite")
        self.mean = mean; self.sd = sd
    }
    public var variance: Double { sd * sd }
    public func sample(_ s: RandomStream) -> Double { s.gaussian(mean: mean, sd: sd) }
}

/// Beta(alpha, beta), both > 0. Mean a/(a+b), variance ab/((a+b)^2 (a+b+1)).
public struct Beta: Distribution {
    public let alpha: Double, beta: Double
    public init(alpha: Double, beta: Double) throws {
        try require(alpha > 0 && alpha.isFinite, "Beta", "alpha", alpha, "> 0")
        try require(beta > 0 && beta.isFinite, "Beta", "beta", beta, "> 0")
        self.alpha = alpha; self.beta = beta
    }
    public var mean: Double { alpha / (alpha + beta) }
    public var variance: Double { let s = alpha + beta; return alpha * beta / (s * s * (s + 1)) }
    public func sample(_ s: RandomStream) -> Double { s.beta(alpha, beta) }
}

/// Gamma(shape k, scale theta), both > 0. Mean k*theta, variance k*theta^2.
public struct GammaDist: Distribution {
    public let shape: Double, scale: Double
    public init(shape: Double, scale: Double) throws {
        try require(shape > 0 && shape.isFinite, "Gamma", "shape", shape, "> 0")
        try require(scale > 0 && scale.isFinite, "Gamma", "scale", scale, "> 0")
        self.shape = shape; self.scale = scale
    }
    public var mean: Double { shape * scale }
    public var variance: Double { shape * scale * scale }
    public func sample(_ s: RandomStream) -> Double { s.gamma(shape: shape, scale: scale) }
}

/// Poisson(mu), mu >= 0. Mean and variance mu.
public struct Poisson: Distribution {
    public let mu: Double
    public init(mu: Double) throws {
        try require(mu >= 0 && mu.isFinite, "Poisson", "mu", mu, ">= 0 and finite")
        self.mu = mu
    }
    public func sample(_ s: RandomStream) -> Int { s.poisson(mu) }
}

/// Bernoulli(p), p in [0, 1].
public struct Bernoulli: Distribution {
    public let p: Double
    public init(p: Double) throws {
        try require(p >= 0 && p <= 1, "Bernoulli", "p", p, "in [0, 1]")
        self.p = p
    }
    public func sample(_ s: RandomStream) -> Bool { s.bernoulli(p) }
}

/// Log-normal: exp(N(zeta, sigma^2)), sigma > 0. Mean exp(zeta + sigma^2/2).
public struct LogNormal: Distribution {
    public let zeta: Double, sigma: Double
    public init(zeta: Double, sigma: Double) throws {
        try require(zeta.isFinite, "LogNormal", "zeta", zeta, "finite")
        try require(sigma > 0 && sigma.isFinite, "LogNormal", "sigma", sigma, "> 0")
        self.zeta = zeta; self.sigma = sigma
    }
    public var mean: Double { Foundation.exp(zeta + sigma * sigma / 2) }
    public var variance: Double { (Foundation.exp(sigma * sigma) - 1) * Foundation.exp(2 * zeta + sigma * sigma) }
    public func sample(_ s: RandomStream) -> Double { s.lognormal(zeta: zeta, sigma: sigma) }
}

/// Dirichlet(alpha), every alpha_i > 0, at least 2 components.
public struct Dirichlet: Distribution {
    public let alpha: [Double]
    public init(alpha: [Double]) throws {
        try require(alpha.count >= 2, "Dirichlet", "alpha.count", Double(alpha.count), ">= 2")
        for (i, a) in alpha.enumerated() { try require(a > 0 && a.isFinite, "Dirichlet", "alpha[\(i)]", a, "> 0") }
        self.alpha = alpha
    }
    /// E[x_i] = alpha_i / sum(alpha).
    public var mean: [Double] { let s = alpha.reduce(0, +); return alpha.map { $0 / s } }
    public func sample(_ s: RandomStream) -> [Double] {
        var out = [Double](repeating: 0, count: alpha.count)
        s.dirichlet(alpha, into: &out)
        return out
    }
}

/// Categorical over 0..<k with the given non-negative weights (normalised), drawn in O(1) with
/// GSL's Walker alias tables (`gsl_ran_discrete`).
public final class Categorical: Distribution, @unchecked Sendable {
    public let probabilities: [Double]
    private let table: UnsafeMutablePointer<gsl_ran_discrete_t>
    public init(weights: [Double]) throws {
        try require(!weights.isEmpty, "Categorical", "weights.count", 0, ">= 1")
        for (i, w) in weights.enumerated() { try require(w >= 0 && w.isFinite, "Categorical", "weights[\(i)]", w, ">= 0 and finite") }
        let total = weights.reduce(0, +)
        try require(total > 0, "Categorical", "sum(weights)", total, "> 0")
        probabilities = weights.map { $0 / total }
        GSL.ensureSetUp()
        guard let t = weights.withUnsafeBufferPointer({ gsl_ran_discrete_preproc(weights.count, $0.baseAddress) }) else {
            throw RandomError.gsl(status: -1, message: "gsl_ran_discrete_preproc failed", context: "Categorical")
        }
        table = t
    }
    deinit { gsl_ran_discrete_free(table) }
    public func sample(_ s: RandomStream) -> Int { Int(gsl_ran_discrete(s.rng, table)) }
}

/// Multivariate normal N(mean, Sigma), Sigma symmetric positive definite (row-major d x d).
/// Draws mean + L z with L the Cholesky factor (`gsl_linalg_cholesky_decomp1`) and z standard normal.
public struct MultivariateNormal: Distribution {
    public let mean: [Double]
    /// Lower Cholesky factor, row-major.
    public let cholesky: [Double]
    public var dimension: Int { mean.count }

    public init(mean: [Double], covariance: [Double]) throws {
        let d = mean.count
        try require(d >= 1, "MultivariateNormal", "dimension", Double(d), ">= 1")
        try require(covariance.count == d * d, "MultivariateNormal", "covariance.count", Double(covariance.count), "\(d * d)")
        for i in 0..<d { for j in 0..<i {
            let a = covariance[i * d + j], b = covariance[j * d + i]
            try require(abs(a - b) <= 1e-12 * max(1, abs(a)), "MultivariateNormal", "covariance[\(i)][\(j)]", a, "symmetric (= \(b))")
        } }
        GSL.ensureSetUp()
        guard let m = gsl_matrix_alloc(d, d) else { throw RandomError.gsl(status: -1, message: "allocation failed", context: "MultivariateNormal") }
        defer { gsl_matrix_free(m) }
        for i in 0..<d { for j in 0..<d { gsl_matrix_set(m, i, j, covariance[i * d + j]) } }
        let status = gsl_linalg_cholesky_decomp1(m)
        if status != 0 {
            throw RandomError.invalidParameter(distribution: "MultivariateNormal", parameter: "covariance",
                                               value: "not positive definite (GSL: \(String(cString: gsl_strerror(status))))",
                                               requirement: "symmetric positive definite")
        }
        var l = [Double](repeating: 0, count: d * d)
        for i in 0..<d { for j in 0...i { l[i * d + j] = gsl_matrix_get(m, i, j) } }
        self.mean = mean
        self.cholesky = l
    }

    public func sample(_ s: RandomStream) -> [Double] {
        let d = mean.count
        var z = [Double](repeating: 0, count: d)
        for i in 0..<d { z[i] = s.standardNormal() }
        var x = mean
        for i in 0..<d {
            var acc = 0.0
            for j in 0...i { acc += cholesky[i * d + j] * z[j] }
            x[i] += acc
        }
        return x
    }
}

