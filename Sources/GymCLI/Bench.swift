import ArgumentParser
import Foundation
import GymAgents
import GymCore
import GymRandom
import GymScenario
import GymSim

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Benchmarks (build with -c release).",
        subcommands: [BenchSim.self, BenchPPOCartPole.self, BenchGemm.self, BenchSynth.self, BenchOPE.self, BenchSweep.self]
    )
}

struct BenchSim: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sim",
        abstract: "Simulated decisions per second: random agent, one thread, then all threads; and the GSL Gaussian ceiling.",
        discussion: "Each thread runs its own world (seeds sim.bench/<thread>), so the multi-thread figure is the aggregate throughput. World resets (population generation) inside the timed loop are included."
    )

    @Option(help: "Scenario whose world is simulated.")
    var scenario: String = "scenarios/baseline.yaml"

    @Option(help: "Decisions per thread and round.")
    var decisions: Int = 500_000

    @Option(help: "Root seed.")
    var seed: UInt64 = 1

    @Option(help: "Rounds; each runs one thread, then all threads. Medians are reported.")
    var rounds: Int = 3

    @Option(help: "Threads for the second measurement (default: all cores).")
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    func validate() throws {
        guard decisions >= 1000 else { throw ValidationError("--decisions must be at least 1000, got \(decisions)") }
        guard threads >= 1 && threads <= 1024 else { throw ValidationError("--threads must be between 1 and 1024, got \(threads)") }
        guard rounds >= 1 && rounds <= 100 else { throw ValidationError("--rounds must be between 1 and 100, got \(rounds)") }
    }

    /// Runs `n` decisions with the random agent; returns (seconds, gaussian draws).
    static func simulate(_ cfg: SimConfig, generator: GeneratorKind, seeds: SeedTree, n: Int) throws -> (Double, Int) {
        let world = JourneyWorld(config: cfg)
        world.generator = generator
        world.recording = false
        let agent = RandomAgent(layout: world.observationLayout, actions: world.actionLayout, stream: seeds.child("agent").stream())
        agent.learning = false
        world.reset(seed: seeds.child("world", 0))
        if world.isDone { throw ValidationError("the scenario's world produces no decision; check sessions.max_days and the arrival weights") }
        var resets = 0
        var draws = 0
        let t0 = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<n {
            if world.isDone {
                draws += world.gaussianDraws
                resets += 1
                world.reset(seed: seeds.child("world", resets))
            }
            let c = agent.act(observation: world.observation, mask: world.actionMask, decision: world.decisionIndex, truth: nil)
            _ = world.step(c)
        }
        let t1 = DispatchTime.now().uptimeNanoseconds
        draws += world.gaussianDraws
        return (Double(t1 - t0) / 1e9, draws)
    }

    func run() throws {
        let cfg: SimConfig
        let generator: GeneratorKind
        do {
            let sc = try ScenarioLoader.load(path: scenario)
            cfg = sc.sim
            generator = try GeneratorKind.named(sc.generator)
        } catch let e as ScenarioError {
            printError(e.description)
            throw Exit.dataError
        }
        // GSL ceiling: raw ziggurat Gaussians from mt19937.
        let s = RandomStream(seed: seed, generator: generator)
        let g = 50_000_000
        var acc = 0.0
        let g0 = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<g { acc += s.standardNormal() }
        let gs = Double(DispatchTime.now().uptimeNanoseconds - g0) / 1e9
        let gaussPerSec = Double(g) / gs
        defer { fflush(stdout) }
        print(String(format: "%.0f gaussian draws/s (GSL %@ gsl_ran_gaussian_ziggurat, %@, 1 thread; checksum %.3f)", gaussPerSec, GSL.version as NSString, generator.name as NSString, acc / Double(g)))
        let root = SeedTree(root: seed).child("sim.bench")
        // Rounds alternate one thread and all threads, so that a noisy neighbour affects both
        // alike; the medians and their ratio are reported.
        var single: [Double] = [], multi: [Double] = []
        var perDecision = 0.0
        for round in 0..<rounds {
            let (t1, draws): (Double, Int)
            do { (t1, draws) = try BenchSim.simulate(cfg, generator: generator, seeds: root.child("round", round).child("t", 0), n: decisions) } catch {
                printError("error: \(scenario): \(error)")
                throw Exit.dataError
            }
            single.append(Double(decisions) / t1)
            perDecision = Double(draws) / Double(decisions)
            let w0 = DispatchTime.now().uptimeNanoseconds
            DispatchQueue.concurrentPerform(iterations: threads) { i in
                _ = try? BenchSim.simulate(cfg, generator: generator, seeds: root.child("round", round).child("t", i + 1), n: decisions)
            }
            let tw = Double(DispatchTime.now().uptimeNanoseconds - w0) / 1e9
            multi.append(Double(decisions * threads) / tw)
            print(String(format: "round %d: %.0f decisions/s on 1 thread, %.0f on %d threads", round + 1, single.last!, multi.last!, threads))
            fflush(stdout)
        }
        func median(_ xs: [Double]) -> Double { let s = xs.sorted(); return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2 }
        let rate1 = median(single), rateN = median(multi)
        print(String(format: "%.0f decisions/s (random agent, %@, 1 thread; median of %d rounds of %d decisions)", rate1, scenario as NSString, rounds, decisions))
        print(String(format: "%.1f gaussian draws/decision; RNG ceiling %.0f decisions/s; at %.0f%% of it", perDecision, gaussPerSec / perDecision, 100 * rate1 / (gaussPerSec / perDecision)))
        print(String(format: "%.0f decisions/s (random agent, %d threads; median of %d rounds; %.2fx one thread)", rateN, threads, rounds, rateN / rate1))
    }
}
