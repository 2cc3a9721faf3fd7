import ArgumentParser
import Foundation
import GymRunner

struct BenchCQLCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cql",
        abstract: "Discrete CQL's gradient steps per second on the workload of bench/peers/offline_rl_d3rlpy.py (200,000 transitions of 64-D observations, 10 actions, batch 256), one thread.",
        discussion: "Prints steps/s, the achieved GFLOP/s (three forward passes and one backward pass per step; compare with `optima-gym bench gemm` at the same width and batch) and the last step's losses. Build with -c release."
    )

    @Option(help: "Hidden layer widths, comma-separated (d3rlpy's default encoder is 256,256).")
    var hidden: String = "256,256"
    @Option(help: "Gradient steps.")
    var steps: Int = 2000
    @Option(help: "Batch size.")
    var batch: Int = 256
    @Option(help: "Logged transitions.")
    var transitions: Int = 200_000
    @Option(name: .customLong("obs-dim"), help: "Observation dimension.")
    var obsDim: Int = 64
    @Option(help: "Actions.")
    var actions: Int = 10
    @Option(name: .customLong("episode-length"), help: "Steps per logged episode (a terminal on the last).")
    var episodeLength: Int = 100
    @OptionGroup var seed: SeedOption

    func widths() throws -> [Int] { try hiddenWidths(hidden) }

    func validate() throws {
        guard try !widths().isEmpty else { throw ValidationError("--hidden needs at least one width") }
        guard (1...10_000_000).contains(steps) else { throw ValidationError("--steps must be in [1, 10000000], got \(steps)") }
        guard (1...65_536).contains(batch) else { throw ValidationError("--batch must be in [1, 65536], got \(batch)") }
        guard (1...10_000_000).contains(transitions) else { throw ValidationError("--transitions must be in [1, 10000000], got \(transitions)") }
        guard (1...4096).contains(obsDim) else { throw ValidationError("--obs-dim must be in [1, 4096], got \(obsDim)") }
        guard (2...1024).contains(actions) else { throw ValidationError("--actions must be in [2, 1024], got \(actions)") }
        guard episodeLength >= 1 else { throw ValidationError("--episode-length must be at least 1, got \(episodeLength)") }
    }

    func run() throws {
        let h = try widths()
        let r = CQLBenchmark.run(transitions: transitions, dimension: obsDim, actions: actions, episodeLength: episodeLength, hidden: h,
                                 batch: batch, steps: steps, seed: seed.seed ?? 1, progress: Progress(enabled: true))
        print(String(format: "discrete CQL, %@ hidden, batch %d, %d transitions of %d-D, %d actions: %d steps in %.2f s = %.0f steps/s, %.1f GFLOP/s",
                     h.map(String.init).joined(separator: "-") as NSString, batch, transitions, obsDim, actions, steps, r.trainSeconds, r.stepsPerSecond, r.gflops))
        print(String(format: "last step: TD %.4f, conservative %.4f, mean Q %.4f; data %.2f s; peak RSS %.0f MB", r.last.td, r.last.conservative, r.last.meanQ,
                     r.generateSeconds, r.peakRSS))
    }
}
