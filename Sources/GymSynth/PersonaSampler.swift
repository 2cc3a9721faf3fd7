import Foundation
import GymLinalg
import GymRandom

/// Draws synthetic profiles from a `PersonaModel`.
///
/// - `varianceScale` multiplies every component's standard deviation (spread).
/// - Edge-case mode oversamples the tails and the rare categories: components are chosen
///   uniformly instead of by weight, standard deviations are at least doubled, and category
///   frequencies are flattened (p^0.5, renormalised).
/// Numeric values are clipped to the model's bounds. Chunk c of `chunkSize` profiles draws from
/// its own seed (`synth.generate/c`), so the output does not depend on how chunks are spread over
/// threads.
public struct PersonaSampler: Sendable {
    public let model: PersonaModel
    public let varianceScale: Double
    public let edgeCases: Bool
    public let projection: PersonaProjection
    let cumulativeWeights: [Double]
    /// cumulative[k][q]: cumulative level probabilities of categorical column q in component k.
    let cumulative: [[[Double]]]
    let sd: [[Double]]
    public static let chunkSize = 4096

    public init(model: PersonaModel, seed: SeedTree, varianceScale: Double = 1, edgeCases: Bool = false, dimension: Int = 512) {
        self.model = model
        self.varianceScale = varianceScale
        self.edgeCases = edgeCases
        projection = PersonaProjection(latentDimension: model.latentDimension, dimension: dimension, seed: seed)
        let K = model.components.count
        let w = edgeCases ? [Double](repeating: 1 / Double(K), count: K) : model.components.map(\.weight)
        let total = w.reduce(0, +)
        var acc = 0.0
        cumulativeWeights = w.map { acc += $0 / total; return acc }
        cumulative = model.components.map { comp in
            comp.probabilities.map { p in
                let t = edgeCases ? p.map { $0.squareRoot() } : p
                let s = t.reduce(0, +)
                var a = 0.0
                return t.map { a += $0 / s; return a }
            }
        }
        let scale = edgeCases ? max(2, varianceScale) : varianceScale
        sd = model.components.map { $0.variance.map { $0.squareRoot() * scale } }
    }

    /// Profiles of one chunk: `values` gets rows x numeric (original units), `codes` rows x
    /// categorical level indices, `vectors` rows x 512.
    public func chunk(_ c: Int, rows: Int, root: SeedTree, values: UnsafeMutablePointer<Double>, codes: UnsafeMutablePointer<Int>,
                      vectors: UnsafeMutablePointer<Double>, latent: UnsafeMutablePointer<Double>, gemm: GemmBackend = Gemm.preferred) {
        let s = root.child("synth.generate", c).stream(.taus2)
        let d = model.numeric.count, C = model.categorical.count, L = model.latentDimension
        for r in 0..<rows {
            let uk = s.uniform()
            var k = 0
            while k < cumulativeWeights.count - 1 && uk >= cumulativeWeights[k] { k += 1 }
            let comp = model.components[k]
            let z = latent + r * L
            for j in 0..<d {
                let x = min(1, max(-1, comp.mean[j] + sd[k][j] * s.standardNormal()))
                z[j] = x
                let col = model.numeric[j]
                values[r * d + j] = col.low + (x + 1) / 2 * (col.high - col.low)
            }
            var off = d
            for q in 0..<C {
                let cum = cumulative[k][q]
                let uq = s.uniform()
                var l = 0
                while l < cum.count - 1 && uq >= cum[l] { l += 1 }
                codes[r * C + q] = l
                for t in 0..<cum.count { z[off + t] = t == l ? 1 : 0 }
                off += cum.count
            }
        }
        projection.vectors(latent, rows: rows, stream: s, into: vectors, gemm: gemm)
    }
}
