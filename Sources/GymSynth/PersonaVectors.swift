import Foundation
import GymLinalg
import GymRandom

/// The 512-D persona vector of DESIGN.md: v = normalize(W z + noise * N(0, I)), with W a fixed
/// matrix of standard Gaussians drawn from its own seed (so the same seed gives the same
/// projection in every run and every process) and z a profile's latent vector.
public struct PersonaProjection: Sendable {
    public let dimension: Int
    public let latentDimension: Int
    public let noise: Double
    /// W, dimension x latentDimension, row-major.
    public let weights: [Double]

    public init(latentDimension: Int, dimension: Int = 512, noise: Double = 0.1, seed: SeedTree) {
        precondition(latentDimension >= 1 && dimension >= 1)
        self.dimension = dimension
        self.latentDimension = latentDimension
        self.noise = noise
        let s = seed.child("synth.projection").stream()
        weights = (0..<(dimension * latentDimension)).map { _ in s.standardNormal() }
    }

    /// Persona vectors of `rows` latent vectors `z` (rows x latentDimension) into `out`
    /// (rows x dimension): per row, the noise (from `stream`, rows in order), then W z added by
    /// one matrix product, then the row scaled to unit length. Rows go in blocks of 64, so that
    /// every pass over a block stays in cache.
    public func vectors(_ z: UnsafePointer<Double>, rows: Int, stream: RandomStream, into out: UnsafeMutablePointer<Double>,
                        gemm: GemmBackend = Gemm.preferred) {
        let block = 64
        var start = 0
        while start < rows {
            let m = min(block, rows - start)
            stream.fillStandardNormal(UnsafeMutableBufferPointer(start: out + start * dimension, count: m * dimension))
            project(z + start * latentDimension, rows: m, noise: out + start * dimension, gemm: gemm)
            start += m
        }
    }

    /// Completes `rows` persona vectors whose `out` rows already hold standard Gaussian noise:
    /// scales the noise, adds W z by one matrix product, and scales each row to unit length.
    public func project(_ z: UnsafePointer<Double>, rows m: Int, noise o: UnsafeMutablePointer<Double>, gemm: GemmBackend = Gemm.preferred) {
        let n = m * dimension
        let a = noise
        for i in 0..<n { o[i] *= a }
        weights.withUnsafeBufferPointer { w in
            gemm.dgemm(.none, .transpose, m: m, n: dimension, k: latentDimension, alpha: 1, z,
                       lda: latentDimension, w.baseAddress!, ldb: latentDimension, beta: 1, o, ldc: dimension)
        }
        for r in 0..<m {
            let v = o + r * dimension
            let norm = VectorMath.sumOfSquares(v, count: dimension).squareRoot()
            if norm > 0 { let inv = 1 / norm; for j in 0..<dimension { v[j] *= inv } }
        }
    }
}

/// The reference persona structure of the speed benchmark (`bench/peers/persona_numpy.py`,
/// the code a researcher would write in numpy): 5 Beta traits, 16-topic Dirichlet interests, one
/// of 3 groups, z = [traits, interests, onehot(group)] (24-D) and a 512-D persona vector.
public struct ReferencePersonas: Sendable {
    public static let traitA: [Double] = [2.0, 5.0, 2.0, 3.0, 1.5]
    public static let traitB: [Double] = [5.0, 2.0, 2.0, 3.0, 1.5]
    public static let topicAlpha = [Double](repeating: 0.5, count: 16)
    public static let groupP: [Double] = [0.5, 0.3, 0.2]
    public static let latentDimension = 5 + 16 + 3

    public let projection: PersonaProjection

    public init(seed: SeedTree, dimension: Int = 512) {
        projection = PersonaProjection(latentDimension: ReferencePersonas.latentDimension, dimension: dimension, seed: seed)
    }

    /// One chunk of `rows` profiles: z (rows x 24: traits, interests, one-hot group) and the
    /// persona vectors (rows x dimension); `group` gets each row's group.
    public func chunk(rows: Int, stream: RandomStream, z: UnsafeMutablePointer<Double>, group: UnsafeMutablePointer<Int>,
                      vectors: UnsafeMutablePointer<Double>, gemm: GemmBackend = Gemm.preferred) {
        let d = ReferencePersonas.latentDimension
        let a = ReferencePersonas.topicAlpha
        let c0 = ReferencePersonas.groupP[0], c1 = c0 + ReferencePersonas.groupP[1]
        for r in 0..<rows {
            let zr = z + r * d
            for t in 0..<5 { zr[t] = stream.beta(ReferencePersonas.traitA[t], ReferencePersonas.traitB[t]) }
            var sum = 0.0
            for k in 0..<16 { let g = stream.gamma(shape: a[k], scale: 1); zr[5 + k] = g; sum += g }
            for k in 0..<16 { zr[5 + k] /= sum }
            let u = stream.uniform()
            let g = u < c0 ? 0 : (u < c1 ? 1 : 2)
            group[r] = g
            zr[21] = g == 0 ? 1 : 0; zr[22] = g == 1 ? 1 : 0; zr[23] = g == 2 ? 1 : 0
        }
        projection.vectors(z, rows: rows, stream: stream, into: vectors, gemm: gemm)
    }
}
