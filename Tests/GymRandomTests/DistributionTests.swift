import XCTest
import GymRandom

/// Moments of each distribution against closed forms. Tolerance: 5 standard errors of the
/// estimator (false-failure probability below 1e-6 per check for a normal statistic).
final class DistributionTests: XCTestCase {
    let n = 200_000

    func moments(_ draw: () -> Double) -> (mean: Double, variance: Double) {
        var m = RunningMoments()
        for _ in 0..<n { m.add(draw()) }
        return (m.mean, m.variance)
    }

    func assertMean(_ got: Double, _ mean: Double, variance: Double, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        let se = (variance / Double(n)).squareRoot()
        XCTAssertEqual(got, mean, accuracy: 5 * se, what, file: file, line: line)
    }

    /// The sample variance's standard error, from the fourth central moment mu4: sqrt((mu4 - s^4) / n).
    func assertVariance(_ got: Double, _ variance: Double, mu4: Double, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        let se = ((mu4 - variance * variance) / Double(n)).squareRoot()
        XCTAssertEqual(got, variance, accuracy: 5 * se, what, file: file, line: line)
    }

    func testGaussian() throws {
        let s = RandomStream(seed: 11)
        let g = try Gaussian(mean: 2, sd: 3)
        let (m, v) = moments { g.sample(s) }
        assertMean(m, 2, variance: 9, "mean")
        assertVariance(v, 9, mu4: 3 * 81, "variance")
        XCTAssertEqual(s.gaussianDraws, n)
    }

    func testBeta() throws {
        let s = RandomStream(seed: 12)
        let b = try Beta(alpha: 2, beta: 5)
        let (m, v) = moments { b.sample(s) }
        XCTAssertEqual(b.mean, 2.0 / 7.0, accuracy: 1e-15)
        assertMean(m, b.mean, variance: b.variance, "mean")
        // Beta(2,5) is bounded in (0,1): mu4 <= variance, a conservative bound for the check.
        assertVariance(v, b.variance, mu4: b.variance, "variance")
    }

    func testGamma() throws {
        let s = RandomStream(seed: 13)
        let g = try GammaDist(shape: 3, scale: 2)
        let (m, v) = moments { g.sample(s) }
        assertMean(m, 6, variance: 12, "mean")
        // Gamma(k, theta): mu4 = 3 k (k + 2) theta^4.
        assertVariance(v, 12, mu4: 3 * 3 * 5 * 16, "variance")
    }

    func testPoisson() throws {
        let s = RandomStream(seed: 14)
        let p = try Poisson(mu: 4.5)
        let (m, v) = moments { Double(p.sample(s)) }
        assertMean(m, 4.5, variance: 4.5, "mean")
        // Poisson: mu4 = mu (1 + 3 mu).
        assertVariance(v, 4.5, mu4: 4.5 * (1 + 3 * 4.5), "variance")
    }

    func testBernoulli() throws {
        let s = RandomStream(seed: 15)
        let b = try Bernoulli(p: 0.3)
        let (m, _) = moments { b.sample(s) ? 1 : 0 }
        assertMean(m, 0.3, variance: 0.21, "mean")
    }

    func testLogNormal() throws {
        let s = RandomStream(seed: 16)
        let l = try LogNormal(zeta: 0.5, sigma: 0.4)
        let (m, _) = moments { l.sample(s) }
        XCTAssertEqual(l.mean, exp(0.5 + 0.08), accuracy: 1e-12)
        assertMean(m, l.mean, variance: l.variance, "mean")
        // The log is normal: check its mean and variance too.
        let (lm, lv) = moments { log(l.sample(s)) }
        assertMean(lm, 0.5, variance: 0.16, "log mean")
        assertVariance(lv, 0.16, mu4: 3 * 0.16 * 0.16, "log variance")
    }

    func testDirichlet() throws {
        let s = RandomStream(seed: 17)
        let d = try Dirichlet(alpha: [1, 2, 3])
        var sums = [0.0, 0.0, 0.0]
        let k = 50_000
        for _ in 0..<k {
            let x = d.sample(s)
            XCTAssertEqual(x.reduce(0, +), 1, accuracy: 1e-12)
            for i in 0..<3 { sums[i] += x[i] }
        }
        // Var(x_i) = a_i (a0 - a_i) / (a0^2 (a0 + 1)), a0 = 6.
        for i in 0..<3 {
            let a = d.alpha[i], v = a * (6 - a) / (36 * 7)
            XCTAssertEqual(sums[i] / Double(k), d.mean[i], accuracy: 5 * (v / Double(k)).squareRoot())
        }
    }

    func testCategorical() throws {
        let s = RandomStream(seed: 18)
        let c = try Categorical(weights: [1, 0, 3, 6])
        var counts = [0, 0, 0, 0]
        for _ in 0..<n { counts[c.sample(s)] += 1 }
        XCTAssertEqual(counts[1], 0)
        for (i, p) in c.probabilities.enumerated() {
            XCTAssertEqual(Double(counts[i]) / Double(n), p, accuracy: 5 * (p * (1 - p) / Double(n)).squareRoot() + 1e-12)
        }
    }

    func testMultivariateNormalCovariance() throws {
        let s = RandomStream(seed: 19)
        let cov = [4.0, 1.2, 1.2, 1.0]
        let mvn = try MultivariateNormal(mean: [1, -1], covariance: cov)
        var sx = 0.0, sy = 0.0, sxx = 0.0, syy = 0.0, sxy = 0.0
        for _ in 0..<n {
            let x = mvn.sample(s)
            sx += x[0]; sy += x[1]; sxx += x[0] * x[0]; syy += x[1] * x[1]; sxy += x[0] * x[1]
        }
        let N = Double(n)
        let mx = sx / N, my = sy / N
        XCTAssertEqual(mx, 1, accuracy: 5 * (4 / N).squareRoot())
        XCTAssertEqual(my, -1, accuracy: 5 * (1 / N).squareRoot())
        // Var of a sample covariance of bivariate normals: (s11 s22 + s12^2) / n.
        XCTAssertEqual(sxx / N - mx * mx, 4, accuracy: 5 * (2 * 16 / N).squareRoot())
        XCTAssertEqual(syy / N - my * my, 1, accuracy: 5 * (2 / N).squareRoot())
        XCTAssertEqual(sxy / N - mx * my, 1.2, accuracy: 5 * ((4 + 1.44) / N).squareRoot())
    }

    func testInvalidParametersThrowReadableErrors() {
        XCTAssertThrowsError(try Beta(alpha: -1, beta: 2)) { XCTAssertEqual("\($0)", "Beta: parameter alpha must be > 0, got -1.0") }
        XCTAssertThrowsError(try GammaDist(shape: 1, scale: .nan))
        XCTAssertThrowsError(try Poisson(mu: -0.1))
        XCTAssertThrowsError(try Bernoulli(p: 1.5))
        XCTAssertThrowsError(try Categorical(weights: [0, 0]))
        XCTAssertThrowsError(try Dirichlet(alpha: [1]))
        // Not positive definite: GSL's Cholesky status becomes a thrown error, not an abort.
        XCTAssertThrowsError(try MultivariateNormal(mean: [0, 0], covariance: [1, 2, 2, 1])) { e in
            XCTAssertTrue("\(e)".contains("positive definite"), "\(e)")
        }
        XCTAssertThrowsError(try MultivariateNormal(mean: [0, 0], covariance: [1, 0.5, 0.4, 1]))
    }

    func testQuantileMatchesNumpyDefault() {
        // numpy.quantile([1, 2, 3, 4], 0.25) == 1.75 (linear interpolation).
        XCTAssertEqual(Stats.quantile(sorted: [1, 2, 3, 4], 0.25), 1.75, accuracy: 1e-12)
        XCTAssertEqual(Stats.quantile(sorted: [1, 2, 3, 4], 1), 4, accuracy: 1e-12)
    }
}
