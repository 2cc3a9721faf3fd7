import ArgumentParser
import Foundation
import GymAgents
import GymLinalg
import GymRandom
import GymRunner
import GymSynth

struct BenchPPOCartPoleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ppo-cartpole",
        abstract: "Train PPO on CartPole-v1 with CleanRL's ppo.py settings on one thread; print steps/s and the mean return of the last 20 episodes.",
        discussion: "Settings: 4 environments x 128 steps, learning rate 2.5e-4 linearly annealed, 4 minibatches x 4 epochs, gamma 0.99, lambda 0.95, clip 0.2, entropy 0.01, value 0.5, max grad norm 0.5, a 64-64 tanh network. Seeds: env/<i>, agent.init, agent.shuffle, agent.sample under the root seed. The peer: bench/peers/ppo_cleanrl.py. Build with -c release."
    )

    @Option(help: "Total environment steps.")
    var steps: Int = 500_000

    @OptionGroup var seed: SeedOption

    @Option(help: "Matrix-product backend: openblas, gslcblas or swift (default: openblas when installed, else swift).")
    var gemm: String?

    @Option(help: "Precision of the networks' forward and backward passes: double or float (parameters and Adam stay in double; see docs/blas.md).")
    var precision: String = "float"

    @Option(help: "Write the per-update learning curve (CSV) to this file (an existing directory, or an existing file without --force, exits 73 before training).")
    var curve: String?

    @OptionGroup var force: ForceOption

    func validate() throws {
        guard steps >= 512 else { throw ValidationError("--steps must be at least 512 (one rollout of 4 x 128), got \(steps)") }
        guard NetPrecision(rawValue: precision) != nil else { throw ValidationError("--precision must be double or float, got '\(precision)'") }
        if let g = gemm, !["openblas", "gslcblas", "swift"].contains(g) {
            throw ValidationError("--gemm must be openblas, gslcblas or swift, got '\(g)'")
        }
    }

    func run() throws {
        let backend: GemmBackend
        do { backend = try CartPoleBenchmark.backend(gemm) } catch let e as CartPoleBenchmark.BackendError {
            throw ValidationError("--gemm \(gemm ?? ""): \(e.description)")
        }
        var cfg = PPOConfig()
        cfg.totalSteps = steps
        cfg.precision = NetPrecision(rawValue: precision)
        let s = seed.seed ?? 1
        let r = try CartPoleBenchmark.train(config: cfg, seed: s, gemm: backend, curve: curve, overwrite: force.force)
        print(String(format: "%.0f steps/s (PPO, CartPole-v1, CleanRL settings, %d steps, 1 thread, gemm %@, %@ precision, %.2f s)",
                     Double(r.steps) / r.seconds, r.steps, backend.name as NSString, precision as NSString, r.seconds))
        print(String(format: "mean return %.1f (last 20 episodes; %d episodes in all; seed %llu)", r.lastMeanReturn, r.episodes, s))
    }
}

struct BenchSynthCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "synth",
        abstract: "Persona generation speed against bench/peers/persona_numpy.py: profiles/s on one thread and on all threads, the GSL Gaussian rate, and writing profiles as CSV.",
        discussion: "The profiles have the peer's structure: 5 Beta traits, 16-topic Dirichlet interests, one of 3 groups, a 512-D vector normalize(W z + 0.1 N(0, I)) with z = [traits, interests, onehot(group)]. Chunks of 10,000 profiles, each from its own seed (chunk c uses synth.chunk/c), so the output does not depend on the thread count. The CSV has the peer's 535 columns (id, group, trait_0..4, interest_0..15, vec_0..511). Build with -c release."
    )

    @Option(help: "Profiles per round.")
    var n: Int = 1_000_000

    @Option(help: "Rounds (each: one thread, then all threads); medians are reported.")
    var rounds: Int = 3

    @OptionGroup var threads: ThreadsOption

    @Option(help: "GSL generator (e.g. taus2, mt19937).")
    var generator: String = "taus2"

    @Option(help: "Profiles written as CSV (0: skip the CSV measurement).")
    var csv: Int = 100_000

    @Option(help: "Directory for the temporary CSV file.")
    var tmpdir: String = NSTemporaryDirectory()

    @OptionGroup var seed: SeedOption

    func validate() throws {
        guard n >= 10_000 && n <= 1_000_000_000 else { throw ValidationError("--n must be in [10000, 1000000000], got \(n)") }
        guard rounds >= 1 && rounds <= 100 else { throw ValidationError("--rounds must be in [1, 100], got \(rounds)") }
        guard csv >= 0 && csv <= 100_000_000 else { throw ValidationError("--csv must be in [0, 100000000], got \(csv)") }
        do { _ = try GeneratorKind.named(generator) } catch { throw ValidationError("--generator: \(error)") }
    }

    func run() throws {
        defer { fflush(stdout) }
        let kind = try GeneratorKind.named(generator)
        let s = seed.seed ?? 1
        let root = SeedTree(root: s)
        let ref = ReferencePersonas(seed: root)
        let gaussRate = SynthBenchmark.gaussianRate(seed: s, generator: kind)
        print(String(format: "%.0f gaussian draws/s (GSL %@ gsl_ran_gaussian_ziggurat, %@, 1 thread)", gaussRate, GSL.version as NSString, kind.name as NSString))
        var single: [Double] = [], multi: [Double] = []
        var checksum = 0.0
        for k in 1...rounds {
            let r = SynthBenchmark.round(ref, root: root, generator: kind, n: n, threads: threads.threads)
            single.append(r.single); multi.append(r.multi); checksum = r.checksum
            print(String(format: "round %d: %.0f profiles/s on 1 thread, %.0f on %d threads", k, r.single, r.multi, threads.threads))
            fflush(stdout)
        }
        let r1 = median(single), rN = median(multi)
        let perProfile = Double(ref.projection.dimension)
        print(String(format: "%.0f profiles/s (512-D personas, %d profiles, 1 thread, %@, median of %d; checksum %.6f)", r1, n, kind.name as NSString, rounds, checksum))
        print(String(format: "%.0f profiles/s on %d threads (%.2fx one thread)", rN, threads.threads, rN / r1))
        print(String(format: "gaussian ceiling %.0f profiles/s (%.0f draws per profile): at %.0f%% of it", gaussRate / perProfile, perProfile, 100 * r1 / (gaussRate / perProfile)))
        if csv > 0 {
            let w = try SynthBenchmark.writeCSV(ref, root: root, generator: kind, count: csv, directory: tmpdir)
            print(String(format: "csv: %d profiles x 535 columns, %.1f MB: writing %.2f s (%.0f rows/s, %.0f MB/s), with generation %.2f s (1 thread)",
                         csv, Double(w.bytes) / 1e6, w.writing, Double(csv) / w.writing, Double(w.bytes) / 1e6 / w.writing, w.total))
        }
    }
}

struct BenchOPECommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ope",
        abstract: "Off-policy estimation at scale against bench/peers/ope_obp.py: IPS, SNIPS and DR with bootstrap intervals on rows resampled from the Open Bandit Dataset's Random log.",
        discussion: "As the peer script: n rows drawn with replacement from random/all/all.csv (80 items, 3 positions), a fixed 80 x 3 target table (softmax over items of standard normal logits), DR with a constant reward model (the mean click). The target is context-free, so nothing of size rows x actions is held. Prints the seconds of each step and the peak resident memory. Build with -c release."
    )

    @Option(help: "The Open Bandit Dataset directory (scripts/get-obd.sh fetches it).")
    var data: String = "data/obd"
    @Option(help: "Logged rows.")
    var n: Int = 1_000_000
    @Option(help: "Bootstrap resamples.")
    var resamples: Int = 1000
    @OptionGroup var threads: ThreadsOption
    @OptionGroup var seed: SeedOption

    func validate() throws {
        guard (1000...100_000_000).contains(n) else { throw ValidationError("--n must be in [1000, 100000000], got \(n)") }
        guard (10...100_000).contains(resamples) else { throw ValidationError("--resamples must be in [10, 100000], got \(resamples)") }
    }

    func run() throws {
        let r = try OPEBenchmark.run(data: data, n: n, resamples: resamples, threads: threads.threads, seed: seed.seed ?? 1)
        for (e, p) in zip(r.estimates, r.points) {
            print(String(format: "%@: %.6f [%.6f, %.6f]", e.estimator.title as NSString, p.value, e.ciLow, e.ciHigh))
        }
        print(String(format: "%d rows: build %.2f s, point estimates %.3f s, IPS + SNIPS + DR with %d-resample intervals %.2f s on %d threads; total %.2f s",
                     n, r.buildSeconds, r.pointSeconds, resamples, r.intervalSeconds, threads.threads, r.totalSeconds))
        print(String(format: "peak RSS %.0f MB", r.peakRSSMegabytes))
    }
}

struct BenchPPOJourneyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ppo-journey",
        abstract: "Train the scenario's PPO agent over journeys on its world, one thread; print decisions/s against the same training loop driven by the random agent (the world's own cost).",
        discussion: "Both passes run the training loop of `optima-gym run` (journeys, truncation at the horizon, late signals) over --decisions decisions on worlds seeded sim.train under the root seed. The random pass is the ceiling: PPO's rate over it is the share of time left to the simulator. Build with -c release."
    )

    @Option(help: "Scenario with a ppo agent (its settings and world are used).")
    var scenario: String = "scenarios/long_horizon.yaml"

    @Option(help: "Training decisions per pass.")
    var decisions: Int = 100_000

    @OptionGroup var seed: SeedOption

    func validate() throws {
        guard decisions >= 1000 && decisions <= 100_000_000 else {
            throw ValidationError("--decisions must be between 1000 and 100000000, got \(decisions)")
        }
    }

    func run() throws {
        let s = seed.seed ?? 1
        let r = try PPOJourneyBenchmark.run(scenarioPath: scenario, decisions: decisions, seed: s)
        print(String(format: "%.0f decisions/s (PPO over journeys, %@, %d decisions, 1 thread, %.2f s; %@)",
                     Double(r.decisions) / r.ppoSeconds, scenario as NSString, r.decisions, r.ppoSeconds, r.settings as NSString))
        print(String(format: "%.0f decisions/s (random agent, same loop and worlds: the ceiling); PPO at %.0f%% of it",
                     Double(r.decisions) / r.randomSeconds, 100 * r.randomSeconds / r.ppoSeconds))
        print(String(format: "%d updates, %d rows trained (block decisions and late corrections), mean block reward %.4f; seed %llu",
                     r.updates, r.rows, r.meanBlockReward, s))
        print(String(format: "%.2f GFLOP/s of network arithmetic (%.1f GFLOP: acting, critic values, update epochs; compare `bench gemm`)",
                     r.networkFlops / r.ppoSeconds / 1e9, r.networkFlops / 1e9))
    }
}

struct BenchStoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store",
        abstract: "Registering a run's logs in the SQLite store against the run itself: both times, and the store's size.",
        discussion: "The run: random and epsilon_greedy on the baseline world, --decisions logged evaluation decisions in all (half each) after as many training decisions, with contexts captured as `run` does when it logs. The registration: every row (decisions, signals, metrics, checkpoints) into a fresh store in one transaction. Build with -c release."
    )

    @Option(help: "Logged evaluation decisions in all (split between the two agents).")
    var decisions: Int = 100_000

    @OptionGroup var seed: SeedOption
    @OptionGroup var threads: ThreadsOption

    func validate() throws {
        guard (1000...10_000_000).contains(decisions) else { throw ValidationError("--decisions must be in [1000, 10000000], got \(decisions)") }
    }

    func run() throws {
        let r = try StoreBenchmark.run(decisions: decisions, seed: seed.seed ?? 1, threads: threads.threads)
        print(String(format: "run: %.2f s (%d logged decisions, %d threads)", r.runSeconds, r.decisions, threads.threads))
        print(String(format: "store registration: %.2f s (%d decisions, %d signals, %.0f rows/s; %.1f MB on disk)", r.registerSeconds, r.decisions, r.signals,
                     Double(r.decisions + r.signals) / r.registerSeconds, Double(r.storeBytes) / 1e6))
        print(String(format: "registration / run: %.2f", r.registerSeconds / r.runSeconds))
    }
}

struct BenchSequentialOPECommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ope-sequential",
        abstract: "Sequential off-policy estimation at scale against bench/peers/ope_scope_rl.py: TIS, SNTIS, PDIS, SNPDIS and DR (given the exact Q) with bootstrap intervals over trajectories, and tabular FQE, on the log the peer writes with --write-logs FILE (FILE.mdp.json beside it).",
        discussion: "Times reading the log, then the five estimators' point estimates and --resamples-resample intervals together (including the per-row discount and Q lookup), then tabular time-indexed FQE; prints the peak resident memory after reading and at the end. Build with -c release."
    )

    @Option(help: "The peer's trajectory CSV (with FILE.mdp.json beside it).")
    var logs: String
    @Option(help: "Bootstrap resamples.")
    var resamples: Int = 1000
    @Option(name: .customLong("fqe-steps"), help: "Then MLP FQE as the peer's (one hidden layer of 100, batch 100, one network on all rows) for this many steps, and Q on every row; 0 skips it.")
    var fqeSteps: Int = 10_000
    @OptionGroup var threads: ThreadsOption
    @OptionGroup var seed: SeedOption

    func validate() throws {
        guard (0...10_000_000).contains(fqeSteps) else { throw ValidationError("--fqe-steps must be in [0, 10000000], got \(fqeSteps)") }
        guard (0...100_000).contains(resamples) else { throw ValidationError("--resamples must be in [0, 100000], got \(resamples)") }
    }

    func run() throws {
        let r = try SequentialOPEBenchmark.run(logs: logs, resamples: resamples, threads: threads.threads, seed: seed.seed ?? 1, mlpSteps: fqeSteps)
        for e in r.estimates {
            print(String(format: "%@: %.9f [%.6f, %.6f]", e.estimator.rawValue as NSString, e.value, e.ciLow, e.ciHigh))
        }
        print(String(format: "tabular fqe: %.9f (true value %.9f)", r.fqeValue, r.trueValue))
        print(String(format: "%d trajectories x %d steps (%d rows): read %.2f s; five estimators with %d-resample intervals %.3f s on %d threads; tabular FQE %.3f s",
                     r.trajectories, r.horizon, r.rows, r.readSeconds, resamples, r.estimateSeconds, threads.threads, r.fqeSeconds))
        if let f = r.mlpFQE, let d = r.mlpDR {
            print(String(format: "mlp fqe: %.9f, dr with it %.9f; fit %d steps %.2f s (%.0f steps/s), Q on every row %.2f s, together %.2f s",
                         f, d, r.mlpSteps, r.mlpFitSeconds, Double(r.mlpSteps) / r.mlpFitSeconds, r.mlpPredictSeconds, r.mlpFitSeconds + r.mlpPredictSeconds))
        }
        print(String(format: "peak RSS after reading %.0f MB; at the end %.0f MB", r.peakRSSAfterRead, r.peakRSS))
    }
}
