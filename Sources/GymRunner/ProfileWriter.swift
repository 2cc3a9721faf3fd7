import Foundation
import GymData
import GymRandom
import GymReports
import GymSynth

/// What `synth generate` asks for.
public struct GenerateRequest: Sendable {
    public var modelPath: String
    public var count: Int
    /// A file (.csv or .jsonl) or `-` for standard output.
    public var out: String
    public var jsonl: Bool
    public var varianceScale = 1.0
    public var edgeCases = false
    public var seed: UInt64 = 1
    public var threads = 1
    /// Real rows whose exact copies are drawn again.
    public var realPath: String?
    public var overwrite = false

    public init(modelPath: String, count: Int, out: String, jsonl: Bool) {
        self.modelPath = modelPath; self.count = count; self.out = out; self.jsonl = jsonl
    }
}

public struct GenerateOutcome: Sendable {
    public var count: Int
    public var bytes: Int
    public var seconds: Double
    /// Exact copies of real rows drawn again (with a real table), and the real table's distinct rows.
    public var redraws: Int
    public var realRows: Int?
}

/// Streams synthetic profiles in the blueprint's `synthetic_profiles` schema to CSV or JSON
/// Lines, in constant memory: chunks of `PersonaSampler.chunkSize` profiles are drawn and
/// formatted in parallel, one per thread, and written in chunk order, so the bytes do not depend
/// on the thread count. profile_id is a UUID derived from the seed and the profile's index.
public enum ProfileWriter {
    public static func generate(_ q: GenerateRequest, progress: Progress?) throws -> GenerateOutcome {
        var inputs = [(flag: "--model", path: q.modelPath)]
        if let r = q.realPath { inputs.append((flag: "--real", path: r)) }
        let w = try StreamWriter(path: q.out, flag: "--out", inputs: inputs, overwrite: q.overwrite)
        let m = try PersonaModel.load(path: q.modelPath)
        let root = SeedTree(root: q.seed)
        let sampler = PersonaSampler(model: m, seed: root, varianceScale: q.varianceScale, edgeCases: q.edgeCases)
        let keys = try q.realPath.map { RowKeys(try EncodedRows.load(path: $0, model: m)) }
        let d = m.numeric.count, C = m.categorical.count, L = m.latentDimension, D = sampler.projection.dimension
        let jsonl = q.jsonl
        if !jsonl {
            w.write("profile_id,source")
            for c in m.numeric { w.byte(44); w.write(CSVFormat.escape(c.name)) }
            for c in m.categorical { w.byte(44); w.write(CSVFormat.escape(c.name)) }
            for j in 0..<D { w.write(",persona_\(j)") }
            w.byte(10)
        }
        let levelText = m.categorical.map { $0.levels.map { jsonl ? JSON.escape($0) : CSVFormat.escape($0) } }
        let nameText = (m.numeric.map(\.name) + m.categorical.map(\.name)).map(JSON.escape)
        let cs = PersonaSampler.chunkSize
        let count = q.count
        let chunks = (count + cs - 1) / cs
        let T = q.threads
        // Per-thread buffers: memory does not grow with the count.
        let values = (0..<T).map { _ in UnsafeMutablePointer<Double>.allocate(capacity: cs * max(d, 1)) }
        let codes = (0..<T).map { _ in UnsafeMutablePointer<Int>.allocate(capacity: cs * max(C, 1)) }
        let vectors = (0..<T).map { _ in UnsafeMutablePointer<Double>.allocate(capacity: cs * D) }
        let latent = (0..<T).map { _ in UnsafeMutablePointer<Double>.allocate(capacity: cs * L) }
        defer { for t in 0..<T { values[t].deallocate(); codes[t].deallocate(); vectors[t].deallocate(); latent[t].deallocate() } }
        let buffers = (0..<T).map { _ in ByteBuffer(capacity: 1 << 22) }
        let redraws = UnsafeMutableBufferPointer<Int>.allocate(capacity: 2 * T)
        redraws.initialize(repeating: 0)
        defer { redraws.deallocate() }
        var totalRedraws = 0
        let start = DispatchTime.now().uptimeNanoseconds
        progress?.begin(total: count)
        var wave = 0
        while wave * T < chunks {
            let first = wave * T
            let n = min(T, chunks - first)
            DispatchQueue.concurrentPerform(iterations: n) { t in
                let c = first + t
                let rows = min(cs, count - c * cs)
                let rj = sampler.chunk(c, rows: rows, root: root, values: values[t], codes: codes[t], vectors: vectors[t], latent: latent[t], reject: keys)
                redraws[2 * t] = rj.redraws; redraws[2 * t + 1] = rj.copiesKept
                let b = buffers[t]
                b.clear()
                for r in 0..<rows {
                    let id = c * cs + r
                    if jsonl {
                        b.write("{\"profile_id\":\""); DeterministicUUID.write(seed: q.seed, label: "profile/\(id)", to: b)
                        b.write("\",\"source\":\"generated\",\"traits\":{")
                        for j in 0..<d { if j > 0 { b.byte(44) }; b.write(nameText[j]); b.byte(58); b.write(values[t][r * d + j]) }
                        for k in 0..<C { if d + k > 0 { b.byte(44) }; b.write(nameText[d + k]); b.byte(58); b.write(levelText[k][codes[t][r * C + k]]) }
                        b.write("},\"interaction_history\":[],\"persona_vector\":[")
                        for j in 0..<D { if j > 0 { b.byte(44) }; b.write(vectors[t][r * D + j]) }
                        b.write("]}\n")
                    } else {
                        DeterministicUUID.write(seed: q.seed, label: "profile/\(id)", to: b)
                        b.write(",generated")
                        for j in 0..<d { b.byte(44); b.write(values[t][r * d + j]) }
                        for k in 0..<C { b.byte(44); b.write(levelText[k][codes[t][r * C + k]]) }
                        for j in 0..<D { b.byte(44); b.write(vectors[t][r * D + j]) }
                        b.byte(10)
                    }
                }
            }
            for t in 0..<n {
                if redraws[2 * t + 1] > 0 {
                    throw DataError(file: q.modelPath, message: "chunk \(first + t): a profile was still a copy of a real row after 1,000 draws; the model reproduces the real rows too closely to generate without copies")
                }
                totalRedraws += redraws[2 * t]
                try w.append(buffers[t])
            }
            wave += 1
            progress?.update("synth generate", done: min(count, wave * T * cs), total: count)
        }
        progress?.finish()
        try w.commit()
        return GenerateOutcome(count: count, bytes: w.bytesWritten, seconds: Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9,
                               redraws: totalRedraws, realRows: keys?.count)
    }

    /// `synth augment`: the real rows (source = real, in file order, their original text), then
    /// synthetic rows (source = augmented) up to `targetSize` rows, or until every level of the
    /// categorical column `balance` has the most frequent level's count (drawn conditioned on
    /// the level). Synthetic rows equal to a real row in every modelled column are drawn again.
    /// profile_id is a UUID derived from the seed and `real/<i>` or `augment/<i>`.
    public static func augment(real: String, model: String, out: String, targetSize: Int?, balance: String?, seed: UInt64,
                               overwrite: Bool) throws -> (real: Int, augmented: Int, redraws: Int) {
        let inputs = [(flag: "--real", path: real), (flag: "--model", path: model)]
        let w = try StreamWriter(path: out, flag: "--out", inputs: inputs, overwrite: overwrite)
        let m = try PersonaModel.load(path: model)
        let rows = try EncodedRows.load(path: real, model: m)
        let csv = try CSVText.read(path: real)
        let keys = RowKeys(rows)
        var plan: [((column: Int, level: Int)?, Int)] = []
        if let t = targetSize {
            guard t >= rows.count else { throw DataError(file: real, message: "--target-size \(t) is below the \(rows.count) real rows") }
            plan = [(nil, t - rows.count)]
        } else if let b = balance {
            guard let q = m.categorical.firstIndex(where: { $0.name == b }) else {
                throw DataError(file: model, column: b, message: "--balance must name a categorical column of the model (\(m.categorical.map(\.name).joined(separator: ", ")))")
            }
            var counts = [Int](repeating: 0, count: m.categorical[q].levels.count)
            for i in 0..<rows.count where rows.codes[i * rows.c + q] >= 0 { counts[rows.codes[i * rows.c + q]] += 1 }
            let top = counts.max() ?? 0
            plan = counts.enumerated().filter { $0.element < top }.map { ((q, $0.offset), top - $0.element) }
        }
        let root = SeedTree(root: seed)
        let sampler = PersonaSampler(model: m, seed: root)
        w.write("profile_id,source")
        for c in m.numeric { w.byte(44); w.write(CSVFormat.escape(c.name)) }
        for c in m.categorical { w.byte(44); w.write(CSVFormat.escape(c.name)) }
        w.byte(10)
        var index: [String: Int] = [:]
        for (j, h) in csv.header.enumerated() { index[h] = j }
        let cols = m.numeric.map { index[$0.name]! } + m.categorical.map { index[$0.name]! }
        for (i, row) in csv.rows.enumerated() {
            w.write(DeterministicUUID.string(seed: seed, label: "real/\(i)")); w.write(",real")
            for j in cols { w.byte(44); w.write(CSVFormat.escape(row[j])) }
            w.byte(10)
            try w.endRecord()
        }
        let d = m.numeric.count, C = m.categorical.count
        var v = [Double](repeating: 0, count: max(d, 1)), k = [Int](repeating: 0, count: max(C, 1)), z = [Double](repeating: 0, count: m.latentDimension)
        let levelText = m.categorical.map { $0.levels.map(CSVFormat.escape) }
        var made = 0, redraws = 0
        for (p, (cond, n)) in plan.enumerated() {
            let s = root.child("synth.augment", p).stream(.taus2)
            for _ in 0..<n {
                var attempts = 0
                repeat {
                    v.withUnsafeMutableBufferPointer { vb in k.withUnsafeMutableBufferPointer { kb in z.withUnsafeMutableBufferPointer { zb in
                        sampler.draw(stream: s, values: vb.baseAddress!, codes: kb.baseAddress!, latent: zb.baseAddress!, condition: cond)
                    } } }
                    attempts += 1
                    let copy = z.withUnsafeBufferPointer { zb in k.withUnsafeBufferPointer { kb in
                        keys.contains(latent: zb.baseAddress!, codes: kb.baseAddress!, d: d, c: C)
                    } }
                    if !copy { break }
                    if attempts >= 1000 {
                        throw DataError(file: model, message: "a synthetic row was still a copy of a real row after 1,000 draws\(cond.map { " (level '\(m.categorical[$0.column].levels[$0.level])')" } ?? ""): the model reproduces the real rows too closely")
                    }
                    redraws += 1
                } while true
                w.write(DeterministicUUID.string(seed: seed, label: "augment/\(made)")); w.write(",augmented")
                for j in 0..<d { w.byte(44); w.write(v[j]) }
                for q in 0..<C { w.byte(44); w.write(levelText[q][k[q]]) }
                w.byte(10)
                try w.endRecord()
                made += 1
            }
        }
        try w.commit()
        return (rows.count, made, redraws)
    }
}
