import Foundation
import GymData
import GymRandom
import GymSynth

/// `bench synth`: persona generation with the numpy peer's structure (bench/peers/persona_numpy.py),
/// chunk-seeded so the output does not depend on the thread count, and CSV writing.
public enum SynthBenchmark {
    public static let chunkSize = 10_000

    /// Generates chunks `chunks` of a run of `total` profiles; returns a checksum.
    public static func generate(_ ref: ReferencePersonas, root: SeedTree, generator: GeneratorKind, chunks: Range<Int>, total: Int) -> Double {
        let d = ReferencePersonas.latentDimension, D = ref.projection.dimension
        let z = UnsafeMutablePointer<Double>.allocate(capacity: chunkSize * d)
        let v = UnsafeMutablePointer<Double>.allocate(capacity: chunkSize * D)
        let g = UnsafeMutablePointer<Int>.allocate(capacity: chunkSize)
        defer { z.deallocate(); v.deallocate(); g.deallocate() }
        var sum = 0.0
        for c in chunks {
            let rows = min(chunkSize, total - c * chunkSize)
            let s = root.child("synth.chunk", c).stream(generator)
            ref.chunk(rows: rows, stream: s, z: z, group: g, vectors: v)
            for r in 0..<rows { sum += v[r * D] + z[r * d] + Double(g[r]) }
        }
        return sum
    }

    /// The raw ziggurat Gaussian rate of one stream (draws per second).
    public static func gaussianRate(seed: UInt64, generator: GeneratorKind, draws: Int = 20_000_000) -> Double {
        let s = RandomStream(seed: seed, generator: generator)
        let buf = UnsafeMutableBufferPointer<Double>.allocate(capacity: 1_000_000)
        defer { buf.deallocate() }
        let t0 = DispatchTime.now().uptimeNanoseconds
        var acc = 0.0
        for _ in 0..<(draws / buf.count) { s.fillStandardNormal(buf); acc += buf[0] }
        if acc.isNaN { return 0 }
        return Double(draws) / (Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
    }

    /// One round: `n` profiles on one thread, then on `threads` threads; returns the two rates and the checksum.
    public static func round(_ ref: ReferencePersonas, root: SeedTree, generator: GeneratorKind, n: Int, threads T: Int) -> (single: Double, multi: Double, checksum: Double) {
        let chunks = (n + chunkSize - 1) / chunkSize
        let a = DispatchTime.now().uptimeNanoseconds
        let checksum = generate(ref, root: root, generator: generator, chunks: 0..<chunks, total: n)
        let single = Double(n) / (Double(DispatchTime.now().uptimeNanoseconds - a) / 1e9)
        let b = DispatchTime.now().uptimeNanoseconds
        let parts = UnsafeMutableBufferPointer<Double>.allocate(capacity: T)
        parts.initialize(repeating: 0)
        defer { parts.deallocate() }
        DispatchQueue.concurrentPerform(iterations: T) { t in
            let lo = chunks * t / T, hi = chunks * (t + 1) / T
            parts[t] = generate(ref, root: root, generator: generator, chunks: lo..<hi, total: n)
        }
        return (single, Double(n) / (Double(DispatchTime.now().uptimeNanoseconds - b) / 1e9), checksum)
    }

    /// Generates `count` profiles and writes them with the peer's 535 columns to a temporary file
    /// in `directory` (removed afterwards); times the writing alone and the whole.
    public static func writeCSV(_ ref: ReferencePersonas, root: SeedTree, generator: GeneratorKind, count: Int, directory: String) throws -> (bytes: Int, writing: Double, total: Double) {
        let path = URL(fileURLWithPath: directory).appendingPathComponent("optima-bench-personas-\(getpid()).csv").path
        let w = try StreamWriter(path: path, flag: "--tmpdir")
        let d = ReferencePersonas.latentDimension, D = ref.projection.dimension, cs = chunkSize
        w.write("id,group")
        for i in 0..<5 { w.write(",trait_\(i)") }
        for i in 0..<16 { w.write(",interest_\(i)") }
        for i in 0..<D { w.write(",vec_\(i)") }
        w.byte(10)
        let z = UnsafeMutablePointer<Double>.allocate(capacity: cs * d)
        let v = UnsafeMutablePointer<Double>.allocate(capacity: cs * D)
        let g = UnsafeMutablePointer<Int>.allocate(capacity: cs)
        defer { z.deallocate(); v.deallocate(); g.deallocate() }
        var genSeconds = 0.0
        let t0 = DispatchTime.now().uptimeNanoseconds
        for c in 0..<((count + cs - 1) / cs) {
            let rows = min(cs, count - c * cs)
            let a = DispatchTime.now().uptimeNanoseconds
            ref.chunk(rows: rows, stream: root.child("synth.chunk", c).stream(generator), z: z, group: g, vectors: v)
            genSeconds += Double(DispatchTime.now().uptimeNanoseconds - a) / 1e9
            for r in 0..<rows {
                w.write(c * cs + r); w.byte(44); w.write(g[r])
                for j in 0..<21 { w.byte(44); w.write(z[r * d + j]) }
                for j in 0..<D { w.byte(44); w.write(v[r * D + j]) }
                w.byte(10)
                try w.endRecord()
            }
        }
        try w.commit()
        let total = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
        let bytes = w.bytesWritten
        unlink(path)
        return (bytes, total - genSeconds, total)
    }
}
