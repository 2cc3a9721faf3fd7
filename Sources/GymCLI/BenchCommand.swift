import ArgumentParser
import Foundation
import GymCore
import GymLinalg
import GymRandom
import GymRunner

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmarks (build with -c release). Peer figures come from the scripts in bench/peers/, run in the same sitting.",
        subcommands: [BenchSimCommand.self, BenchPPOCartPoleCommand.self, BenchPPOJourneyCommand.self, BenchGemmCommand.self, BenchSynthCommand.self, BenchOPECommand.self, BenchSequentialOPECommand.self, BenchSweepCommand.self, BenchStoreCommand.self, BenchCQLCommand.self]
    )
}

struct BenchSimCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sim",
        abstract: "Simulated decisions per second: random agent, one thread, then all threads; and the GSL Gaussian ceiling.",
        discussion: "Each thread runs its own world (seeds sim.bench/<thread>), so the multi-thread figure is the aggregate throughput. World resets (population generation) inside the timed loop are included."
    )

    @Option(help: "Scenario whose world is simulated.")
    var scenario: String = "scenarios/baseline.yaml"

    @Option(help: "Decisions per thread and round.")
    var decisions: Int = 500_000

    @OptionGroup var seed: SeedOption

    @Option(help: "Rounds; each runs one thread, then all threads. Medians are reported.")
    var rounds: Int = 3

    @OptionGroup var threads: ThreadsOption

    @Flag(help: "Feed the anomaly detectors of `run --detect` with every decision and the signals that arrive (their cost).")
    var detect = false

    @Option(help: "Explain every decision as `run --explain` does, with an untrained model of this kind: linear (the bandits' exact attributions) or ppo (integrated gradients of PPO's actor). The acting agent stays the random one, so the simulated stream is the same.")
    var explain: String?

    func validate() throws {
        guard decisions >= 1000 else { throw ValidationError("--decisions must be at least 1000, got \(decisions)") }
        if let e = explain, ExplainerKind(rawValue: e) == nil { throw ValidationError("--explain must be linear or ppo, got '\(e)'") }
        guard rounds >= 1 && rounds <= 100 else { throw ValidationError("--rounds must be between 1 and 100, got \(rounds)") }
    }

    func run() throws {
        defer { fflush(stdout) }
        let T = threads.threads
        let r = try SimBenchmark.run(scenarioPath: scenario, decisions: decisions, rounds: rounds, threads: T, seed: seed.seed ?? 1, detect: detect,
                                     explain: explain.flatMap(ExplainerKind.init(rawValue:))) { k, one, all in
            print(String(format: "round %d: %.0f decisions/s on 1 thread, %.0f on %d threads", k + 1, one, all, T))
            fflush(stdout)
        }
        print(String(format: "%.0f gaussian draws/s (GSL %@ gsl_ran_gaussian_ziggurat, %@, 1 thread; checksum %.3f)", r.gaussiansPerSecond, GSL.version as NSString, r.generator as NSString, r.checksum))
        let rate1 = median(r.single), rateN = median(r.multi)
        print(String(format: "%.0f decisions/s (random agent, %@, 1 thread; median of %d rounds of %d decisions%@)", rate1, scenario as NSString, rounds, decisions,
                     ((detect ? "; anomaly detectors on" : "") + (explain.map { "; explained by a \($0) model" } ?? "")) as NSString))
        let ceiling = r.gaussiansPerSecond / r.drawsPerDecision
        print(String(format: "%.1f gaussian draws/decision; RNG ceiling %.0f decisions/s; at %.0f%% of it", r.drawsPerDecision, ceiling, 100 * rate1 / ceiling))
        print(String(format: "%.0f decisions/s (random agent, %d threads; median of %d rounds; %.2fx one thread)", rateN, T, rounds, rateN / rate1))
    }
}

struct BenchGemmCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gemm",
        abstract: "Matrix-product backends at the networks' sizes: one dense layer's forward and backward (three gemm calls) per backend, in double (dgemm) and float (sgemm), width x width weights, batch rows; prints a markdown table of GFLOP/s.",
        discussion: "Backends: swift (plain loops), gslcblas (GSL's reference CBLAS), openblas (loaded at run time, one thread). Build with -c release."
    )

    @Option(help: "Layer widths to measure (comma-separated).")
    var widths: String = "64,128,256"

    @Option(help: "Batch sizes to measure (comma-separated).")
    var batches: String = "64,128,256,512,1024"

    @Option(help: "Minimum seconds per measurement.")
    var seconds: Double = 0.2

    func parse(_ s: String, _ flag: String) throws -> [Int] {
        let parts = s.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !parts.isEmpty, parts.allSatisfy({ ($0 ?? 0) >= 1 && ($0 ?? 0) <= 8192 }) else {
            throw ValidationError("\(flag) must be comma-separated integers in 1...8192, got '\(s)'")
        }
        return parts.map { $0! }
    }

    func validate() throws {
        _ = try parse(widths, "--widths"); _ = try parse(batches, "--batches")
        guard seconds > 0 && seconds <= 60 else { throw ValidationError("--seconds must be in (0, 60], got \(seconds)") }
    }

    func run() throws {
        let ws = try parse(widths, "--widths"), bs = try parse(batches, "--batches")
        let backends = GemmBenchmark.backends
        if !backends.contains(where: { $0.name == "openblas" }) { printError("note: OpenBLAS is not installed; skipped") }
        let s = RandomStream(seed: 1)
        print("| width | batch | " + backends.map { "\($0.name) f64 | \($0.name) f32" }.joined(separator: " | ") + " |")
        print("|---|---|" + backends.map { _ in "---|---" }.joined(separator: "|") + "|")
        for w in ws {
            for b in bs {
                let x = (0..<(b * w)).map { _ in s.standardNormal() }
                let W = (0..<(w * w)).map { _ in s.standardNormal() }
                let dz = (0..<(b * w)).map { _ in s.standardNormal() }
                var cells: [String] = []
                for backend in backends {
                    cells.append(String(format: "%.2f", GemmBenchmark.layerGFLOPs(backend, Double.self, x, W, dz, w: w, b: b, seconds: seconds)))
                    cells.append(String(format: "%.2f", GemmBenchmark.layerGFLOPs(backend, Float.self, x.map(Float.init), W.map(Float.init),
                                                                                 dz.map(Float.init), w: w, b: b, seconds: seconds)))
                }
                print("| \(w) | \(b) | " + cells.joined(separator: " | ") + " |")
                fflush(stdout)
            }
        }
    }
}

struct BenchSweepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "A sweep on 1 thread, then on --threads: wall times, the speed-up, and a check that both reports are byte-identical.",
        discussion: "Default sweep: scenarios/sweeps/baseline_exposure_distress.yaml. Runs into temporary directories that are removed afterwards. Build with -c release."
    )

    @Argument(help: "The sweep file.")
    var file: String = "scenarios/sweeps/baseline_exposure_distress.yaml"

    @Option(help: "Threads of the parallel run.")
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    func validate() throws {
        guard (2...1024).contains(threads) else { throw ValidationError("--threads must be in [2, 1024], got \(threads)") }
    }

    func run() throws {
        let r = try SweepBenchmark.run(file: file, threads: threads) { t, cells, s in
            print(String(format: "%d thread%@: %d cells in %.2f s", t, t == 1 ? "" : "s", cells, s))
        }
        print(String(format: "speed-up %.2fx on %d threads; reports byte-identical: %@", r.seconds[0] / r.seconds[1], threads, r.identical ? "yes" : "NO"))
        if !r.identical { throw AlreadyReported(failureKind: .internalError) }
    }
}
