import Foundation
import GymData
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
    /// categorical level indices, `vectors` rows x 512. With `reject`, a profile whose modelled
    /// values equal a real row's (`RowKeys`) is drawn again, up to `maxAttempts` times; the
    /// counts of redraws and of rows that stayed copies are returned.
    ///
    /// Each profile's draws (its values, then its vector's noise) follow those of the profiles
    /// before it in the chunk, and every block goes through the matrix product as 64 rows (a
    /// partial block padded with zero rows, so the product's summation order never depends on the
    /// block's size): profile i depends only on the seed and i, never on how many profiles are
    /// generated. `vectors` and `latent` must hold `rows` rounded up to a multiple of 64.
    @discardableResult
    public func chunk(_ c: Int, rows: Int, root: SeedTree, values: UnsafeMutablePointer<Double>, codes: UnsafeMutablePointer<Int>,
                      vectors: UnsafeMutablePointer<Double>, latent: UnsafeMutablePointer<Double>, reject: RowKeys? = nil,
                      maxAttempts: Int = 1000, gemm: GemmBackend = Gemm.preferred) -> (redraws: Int, copiesKept: Int) {
        let s = root.child("synth.generate", c).stream(.taus2)
        let d = model.numeric.count, C = model.categorical.count, L = model.latentDimension, D = projection.dimension
        var redraws = 0, kept = 0
        let block = 64
        var start = 0
        while start < rows {
            let m = min(block, rows - start)
            for r in start..<(start + m) {
                var attempts = 0
                while true {
                    draw(stream: s, values: values + r * d, codes: codes + r * C, latent: latent + r * L)
                    attempts += 1
                    guard let reject, reject.contains(latent: latent + r * L, codes: codes + r * C, d: d, c: C) else { break }
                    if attempts >= maxAttempts { kept += 1; break }
                    redraws += 1
                }
                s.fillStandardNormal(UnsafeMutableBufferPointer(start: vectors + r * D, count: D))
            }
            if m < block {
                (latent + (start + m) * L).update(repeating: 0, count: (block - m) * L)
                (vectors + (start + m) * D).update(repeating: 0, count: (block - m) * D)
            }
            projection.project(latent + start * L, rows: block, noise: vectors + start * D, gemm: gemm)
            start += m
        }
        return (redraws, kept)
    }

    /// One profile: a component (by weight, or given `condition` = (categorical column, level)
    /// by P(k | level) proportional to weight_k p_k(level), with that column fixed), then its
    /// numeric values and categories; z = [scaled values, one-hot categories].
    public func draw(stream s: RandomStream, values: UnsafeMutablePointer<Double>, codes: UnsafeMutablePointer<Int>,
                     latent z: UnsafeMutablePointer<Double>, condition: (column: Int, level: Int)? = nil) {
        let d = model.numeric.count, C = model.categorical.count
        var k = 0
        if let cond = condition {
            var w = model.components.map { $0.weight * $0.probabilities[cond.column][cond.level] }
            let t = w.reduce(0, +)
            if t > 0 { for i in w.indices { w[i] /= t } } else { w = model.components.map(\.weight) }
            let u = s.uniform()
            var acc = 0.0
            k = w.count - 1
            for i in w.indices { acc += w[i]; if u < acc { k = i; break } }
        } else {
            let uk = s.uniform()
            while k < cumulativeWeights.count - 1 && uk >= cumulativeWeights[k] { k += 1 }
        }
        let comp = model.components[k]
        for j in 0..<d {
            let x = min(1, max(-1, comp.mean[j] + sd[k][j] * s.standardNormal()))
            z[j] = x
            let col = model.numeric[j]
            values[j] = col.low + (x + 1) / 2 * (col.high - col.low)
        }
        var off = d
        for q in 0..<C {
            let cum = cumulative[k][q]
            var l = 0
            if let cond = condition, cond.column == q {
                l = cond.level
            } else {
                let uq = s.uniform()
                while l < cum.count - 1 && uq >= cum[l] { l += 1 }
            }
            codes[q] = l
            for t in 0..<cum.count { z[off + t] = t == l ? 1 : 0 }
            off += cum.count
        }
    }
}

/// The modelled values of real rows, for rejecting exact copies: numeric values in the model's
/// scaled units rounded to 1e-9, and level indices.
public struct RowKeys: Sendable {
    var keys: Set<[Int]>
    public var count: Int { keys.count }

    public init(_ rows: EncodedRows) {
        keys = Set((0..<rows.count).map { rows.key($0) })
    }

    public func contains(latent: UnsafePointer<Double>, codes: UnsafePointer<Int>, d: Int, c: Int) -> Bool {
        var key = [Int]()
        key.reserveCapacity(d + c)
        for j in 0..<d { key.append(Int((latent[j] * 1e9).rounded())) }
        for q in 0..<c { key.append(codes[q]) }
        return keys.contains(key)
    }
}
