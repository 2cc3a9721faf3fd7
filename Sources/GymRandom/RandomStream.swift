import CGSL

/// A GSL generator algorithm, selected by GSL's own name (`gsl_rng_name`).
public struct GeneratorKind: Sendable, Hashable, CustomStringConvertible {
    public let name: String
    public init(name: String) { self.name = name }
    public static let mt19937 = GeneratorKind(name: "mt19937")
    public static let taus2 = GeneratorKind(name: "taus2")
    public static let ranlxd2 = GeneratorKind(name: "ranlxd2")
    public var description: String { name }

    /// Every generator this GSL build knows that produces full 32-bit output (see `named`).
    public static var available: [String] {
        GSL.ensureSetUp()
        return (0..<Int(cgsl_rng_type_count())).map { String(cString: cgsl_rng_type_name_at(Int32($0))) }
            .filter { (range(of: $0) ?? 0) >= 0xFFFF_FFFE }
    }

    /// Output range (max - min) of a GSL generator, or nil for an unknown name.
    public static func range(of name: String) -> UInt? {
        guard let t = cgsl_rng_type_named(name) else { return nil }
        return t.pointee.max - t.pointee.min
    }

    /// Validates the name against GSL's table. Generators whose output range is below 2^32 - 1
    /// (e.g. `uni`, `slatec`, `rand`) are refused: GSL's ziggurat Gaussian needs 32 random bits per
    /// draw, and `gsl_rng_uniform_int(n)` fails for n above the range.
    public static func named(_ name: String) throws -> GeneratorKind {
        GSL.ensureSetUp()
        guard let range = range(of: name) else {
            throw RandomError.unknownGenerator(name: name, available: available)
        }
        guard range >= 0xFFFF_FFFE else {
            throw RandomError.generatorRangeTooSmall(name: name, range: range, available: available)
        }
        return GeneratorKind(name: name)
    }
}

/// Process-wide GSL set-up: the default error handler (which aborts) is turned off once.
public enum GSL {
    private static let setUp: Void = { gsl_set_error_handler_off(); return () }()
    public static func ensureSetUp() { _ = setUp }
    /// The GSL version string of the library linked in (e.g. "2.7.1").
    public static var version: String { String(cString: cgsl_version()) }
    /// Throws a `RandomError.gsl` for a non-zero status.
    public static func check(_ status: Int32, _ context: String) throws {
        if status != 0 {
            throw RandomError.gsl(status: status, message: String(cString: gsl_strerror(status)), context: context)
        }
    }
}

/// One GSL generator, owned. Not thread-safe: each consumer owns its stream.
///
/// Every variate the project uses comes from here (or from the distribution types built on it),
/// never from Swift's random APIs, whose algorithms may change between Swift versions.
public final class RandomStream {
    @usableFromInline let rng: UnsafeMutablePointer<gsl_rng>
    public let generator: GeneratorKind
    public let seed: UInt64
    /// Number of Gaussian variates drawn so far (for the benchmark's draws-per-decision figure).
    public var gaussianDraws: Int = 0

    /// Creates a stream. An unknown generator name falls back to a precondition failure; use
    /// `GeneratorKind.named(_:)` to validate user input first.
    public init(seed: UInt64, generator: GeneratorKind = .mt19937) {
        GSL.ensureSetUp()
        guard let t = cgsl_rng_type_named(generator.name), let r = gsl_rng_alloc(t) else {
            preconditionFailure("unknown or unallocatable GSL generator '\(generator.name)'; validate with GeneratorKind.named")
        }
        rng = r
        self.generator = generator
        self.seed = seed
        gsl_rng_set(r, UInt(truncatingIfNeeded: seed))
    }

    deinit { gsl_rng_free(rng) }

    /// Raw generator output in [min, max].
    @inlinable public func next() -> UInt { gsl_rng_get(rng) }

    /// Raw generator outputs, one per element of `out` (the same values as calling `next()` that
    /// many times, without a call per draw).
    public func fill(_ out: UnsafeMutableBufferPointer<UInt32>) {
        let r = rng
        let type = r.pointee.type.pointee
        if let get = type.get {
            let state = r.pointee.state
            for i in 0..<out.count { out[i] = UInt32(truncatingIfNeeded: get(state)) }
        } else {
            for i in 0..<out.count { out[i] = UInt32(truncatingIfNeeded: gsl_rng_get(r)) }
        }
    }

    /// Uniform in [0, 1).
    @inlinable public func uniform() -> Double { gsl_rng_uniform(rng) }

    /// Uniform in (0, 1).
    @inlinable public func uniformPositive() -> Double { gsl_rng_uniform_pos(rng) }

    /// Uniform integer in [0, n), n >= 1.
    @inlinable public func uniformInt(_ n: Int) -> Int {
        precondition(n >= 1, "uniformInt needs n >= 1, got \(n)")
        return Int(gsl_rng_uniform_int(rng, UInt(n)))
    }

    /// Standard normal variate (Marsaglia-Tsang ziggurat, `gsl_ran_gaussian_ziggurat`).
    @inlinable public func standardNormal() -> Double {
        gaussianDraws &+= 1
        return gsl_ran_gaussian_ziggurat(rng, 1.0)
    }

    /// Normal variate with mean `mean` and standard deviation `sd` (sd >= 0).
    @inlinable public func gaussian(mean: Double = 0, sd: Double) -> Double {
        gaussianDraws &+= 1
        return mean + gsl_ran_gaussian_ziggurat(rng, sd)
    }

    /// Fills `buffer` with independent standard normals.
    @inlinable public func fillStandardNormal(_ buffer: UnsafeMutableBufferPointer<Double>) {
        gaussianDraws &+= buffer.count
        for i in 0..<buffer.count { buffer[i] = gsl_ran_gaussian_ziggurat(rng, 1.0) }
    }

    /// Bernoulli(p): true with probability p. p outside [0, 1] is clamped.
    @inlinable public func bernoulli(_ p: Double) -> Bool { gsl_rng_uniform(rng) < p }

    /// Exponential with the given mean (`gsl_ran_exponential`).
    @inlinable public func exponential(mean: Double) -> Double { gsl_ran_exponential(rng, mean) }

    /// Poisson(mu) (`gsl_ran_poisson`), mu >= 0.
    @inlinable public func poisson(_ mu: Double) -> Int { Int(gsl_ran_poisson(rng, mu)) }

    /// Beta(a, b) (`gsl_ran_beta`), a, b > 0.
    @inlinable public func beta(_ a: Double, _ b: Double) -> Double { gsl_ran_beta(rng, a, b) }

    /// Gamma with shape k and scale theta (`gsl_ran_gamma`), mean k*theta.
    @inlinable public func gamma(shape: Double, scale: Double) -> Double { gsl_ran_gamma(rng, shape, scale) }

    /// Log-normal: exp(N(zeta, sigma^2)) (`gsl_ran_lognormal`).
    @inlinable public func lognormal(zeta: Double, sigma: Double) -> Double { gsl_ran_lognormal(rng, zeta, sigma) }

    /// Dirichlet(alpha) into `out` (`gsl_ran_dirichlet`); out.count == alpha.count.
    public func dirichlet(_ alpha: [Double], into out: inout [Double]) {
        precondition(out.count == alpha.count)
        alpha.withUnsafeBufferPointer { a in
            out.withUnsafeMutableBufferPointer { o in
                gsl_ran_dirichlet(rng, alpha.count, a.baseAddress, o.baseAddress)
            }
        }
    }

    /// Binomial(n, p).
    @inlinable public func binomial(n: Int, p: Double) -> Int { Int(gsl_ran_binomial(rng, p, UInt32(n))) }
}
