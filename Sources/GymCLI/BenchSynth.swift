import ArgumentParser
import Foundation
import GymData
import GymLinalg
import GymRandom
import GymSynth

struct BenchSynth: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "synth",
        abstract: "Persona generation speed against ../shared/bench/peers/persona_numpy.py: profiles/s on one thread and on all threads, the GSL Gaussian rate, and writing profiles as CSV.",
        discussion: "The profiles have the peer's structure: 5 Beta traits, 16-topic Dirichlet interests, one of 3 groups, a 512-D vector normalize(W z + 0.1 N(0, I)) with z = [traits, interests, onehot(group)]. Chunks of 10,000 profiles, each from its own seed (chunk c uses synth.chunk/c), so the output does not depend on the thread count. The CSV has the peer's 535 columns (id, group, trait_0..4, interest_0..15, vec_0..511). Build with -c release."
    )

    @Option(help: "Profiles per round.")
    var n: Int = 1_000_000

    @Option(help: "Rounds (each: one thread, then all threads); medians are reported.")
    var rounds: Int = 3

    @Option(help: "Worker threads for the parallel rounds.")
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    @Option(help: "GSL generator (e.g. taus2, mt19937).")
    var generator: String = "taus2"

    @Option(help: "Profiles written as CSV (0: skip the CSV measurement).")
    var csv: Int = 100_000

    @Option(help: "Directory for the temporary CSV file.")
    var tmpdir: String = NSTemporaryDirectory()

    @Option(help: "Root seed.")
    var seed: UInt64 = 1

    func validate() throws {
        guard n >= 10_000 && n <= 1_000_000_000 else { throw ValidationError("--n must be in [10000, 1000000000], got \(n)") }
        guard rounds >= 1 && rounds <= 100 else { throw ValidationError("--rounds must be in [1, 100], got \(rounds)") }
        guard threads >= 1 && threads <= 256 else { throw ValidationError("--threads must be in [1, 256], got \(threads)") }
        guard csv >= 0 && csv <= 100_000_000 else { throw ValidationError("--csv must be in [0, 100000000], got \(csv)") }
        do { _ = try GeneratorKind.named(generator) } catch { throw ValidationError("--generator: \(error)") }
    }

    static let chunkSize = 10_000

    /// Generates chunks [first, first + count) and returns the checksum of each.
    static func generate(_ ref: ReferencePersonas, root: SeedTree, generator: GeneratorKind, chunks: Range<Int>, total: Int) -> Double {
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

    func run() throws {
        let kind = try GeneratorKind.named(generator)
        let root = SeedTree(root: seed)
        let ref = ReferencePersonas(seed: root)
        defer { fflush(stdout) }
        // The GSL ceiling: raw ziggurat Gaussians.
        let s = RandomStream(seed: seed, generator: kind)
        let draws = 20_000_000
        let buf = UnsafeMutableBufferPointer<Double>.allocate(capacity: 1_000_000)
        defer { buf.deallocate() }
        let t0 = DispatchTime.now().uptimeNanoseconds
        var acc = 0.0
        for _ in 0..<(draws / buf.count) { s.fillStandardNormal(buf); acc += buf[0] }
        let gaussRate = Double(draws) / (Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
        print(String(format: "%.0f gaussian draws/s (GSL %@ gsl_ran_gaussian_ziggurat, %@, 1 thread)", gaussRate, GSL.version as NSString, kind.name as NSString))
        let chunks = (n + BenchSynth.chunkSize - 1) / BenchSynth.chunkSize
        var single: [Double] = [], multi: [Double] = []
        var checksum = 0.0
        for round in 1...rounds {
            let a = DispatchTime.now().uptimeNanoseconds
            checksum = BenchSynth.generate(ref, root: root, generator: kind, chunks: 0..<chunks, total: n)
            single.append(Double(n) / (Double(DispatchTime.now().uptimeNanoseconds - a) / 1e9))
            let b = DispatchTime.now().uptimeNanoseconds
            let T = threads
            let parts = UnsafeMutableBufferPointer<Double>.allocate(capacity: T)
            parts.initialize(repeating: 0)
            DispatchQueue.concurrentPerform(iterations: T) { t in
                let lo = chunks * t / T, hi = chunks * (t + 1) / T
                parts[t] = BenchSynth.generate(ref, root: root, generator: kind, chunks: lo..<hi, total: n)
            }
            multi.append(Double(n) / (Double(DispatchTime.now().uptimeNanoseconds - b) / 1e9))
            parts.deallocate()
            print(String(format: "round %d: %.0f profiles/s on 1 thread, %.0f on %d threads", round, single.last!, multi.last!, T))
            fflush(stdout)
        }
        func median(_ xs: [Double]) -> Double { let s = xs.sorted(); return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2 }
        let r1 = median(single), rN = median(multi)
        let gaussPerProfile = Double(ref.projection.dimension)
        print(String(format: "%.0f profiles/s (512-D personas, %d profiles, 1 thread, %@, median of %d; checksum %.6f)", r1, n, kind.name as NSString, rounds, checksum))
        print(String(format: "%.0f profiles/s on %d threads (%.2fx one thread)", rN, threads, rN / r1))
        print(String(format: "gaussian ceiling %.0f profiles/s (%.0f draws per profile): at %.0f%% of it", gaussRate / gaussPerProfile, gaussPerProfile, 100 * r1 / (gaussRate / gaussPerProfile)))
        if csv > 0 { try writeCSV(ref, root: root, kind: kind) }
    }

    /// Generates `csv` profiles and writes them with the peer's columns; times the writing alone
    /// (generation is measured above) and the whole.
    func writeCSV(_ ref: ReferencePersonas, root: SeedTree, kind: GeneratorKind) throws {
        let path = URL(fileURLWithPath: tmpdir).appendingPathComponent("optima-bench-personas-\(getpid()).csv").path
        let w = try StreamWriter(path: path)
        let d = ReferencePersonas.latentDimension, D = ref.projection.dimension, cs = BenchSynth.chunkSize
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
        for c in 0..<((csv + cs - 1) / cs) {
            let rows = min(cs, csv - c * cs)
            let a = DispatchTime.now().uptimeNanoseconds
            ref.chunk(rows: rows, stream: root.child("synth.chunk", c).stream(kind), z: z, group: g, vectors: v)
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
        let bytes = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        try? FileManager.default.removeItem(atPath: path)
        let writing = total - genSeconds
        print(String(format: "csv: %d profiles x 535 columns, %.1f MB: writing %.2f s (%.0f rows/s, %.0f MB/s), with generation %.2f s (1 thread)",
                     csv, Double(bytes) / 1e6, writing, Double(csv) / writing, Double(bytes) / 1e6 / writing, total))
    }
}
