import Foundation
import GymAgents
import GymCore
import GymEval
import GymRandom
import GymScenario
import GymSim

/// `bench sim`: simulated decisions per second of the random agent, one thread then all threads,
/// against the GSL Gaussian ceiling.
public enum SimBenchmark {
    public struct Result: Sendable {
        public var gaussiansPerSecond: Double
        public var generator: String
        public var checksum: Double
        public var single: [Double] = []
        public var multi: [Double] = []
        public var drawsPerDecision = 0.0
    }

    /// Runs `n` decisions with the random agent on one world; returns (seconds, Gaussian draws).
    /// With `detectors`, the anomaly detectors of `run --detect` watch the stream (a fresh set per
    /// world); with `explainer`, an untrained model of that kind explains every decision as
    /// `run --explain` does (the context summary, the attributions, the adjustment's terms).
    public static func simulate(_ cfg: SimConfig, generator: GeneratorKind, seeds: SeedTree, n: Int, scenario: String,
                                detectors: DetectorConfig? = nil, groups: [String] = [], explainer: ExplainerKind? = nil) throws -> (Double, Int) {
        let world = JourneyWorld(config: cfg)
        world.generator = generator
        world.recording = false
        let agent = RandomAgent(layout: world.observationLayout, actions: world.actionLayout, stream: seeds.child("agent").stream())
        agent.learning = false
        world.reset(seed: seeds.child("world", 0))
        if world.isDone { throw RunError.noDecisions(scenario: scenario, phase: "benchmark") }
        var resets = 0
        var draws = 0
        let labels = (0..<world.actionLayout.count).map { world.actionLayout.label(of: $0) }
        var suite = detectors.map { DetectorSuite(config: $0, actionLabels: labels, groupNames: groups) }
        let model = explainer.map { $0.make(world: world, seeds: seeds.child("explainer")) }
        var kept = 0.0
        var k = 0
        let t0 = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<n {
            if world.isDone {
                draws += world.gaussianDraws
                resets += 1
                world.reset(seed: seeds.child("world", resets))
                suite = detectors.map { DetectorSuite(config: $0, actionLabels: labels, groupNames: groups) }
                k = 0
            }
            let c = agent.act(observation: world.observation, mask: world.actionMask, decision: world.decisionIndex, truth: nil)
            if let model {
                let o = world.observation
                let row = Runner.explanationRow(world.decisionIndex, observation: o, layout: world.observationLayout,
                                                explanation: model.explain(observation: o, mask: world.actionMask, action: c.action, propensity: c.propensity))
                kept += row.attributionSum
            }
            let r = world.step(c)
            if suite != nil {
                let e = world.lastEpisode
                suite!.observe(decision: k, action: e.action, user: e.user, group: e.group, isIntervention: e.kind == .intervention, feedback: r.feedback)
                k += 1
            }
        }
        let t1 = DispatchTime.now().uptimeNanoseconds
        draws += world.gaussianDraws
        if kept.isNaN { draws += 0 }   // keeps the explanations' work observable
        return (Double(t1 - t0) / 1e9, draws)
    }

    /// Rounds alternate one thread and `threads` threads, so that a noisy neighbour affects both
    /// alike. `round` is called after each round with its two rates.
    public static func run(scenarioPath: String, decisions: Int, rounds: Int, threads: Int, seed: UInt64, detect: Bool = false,
                           explain: ExplainerKind? = nil, round report: (Int, Double, Double) -> Void) throws -> Result {
        let sc = try ScenarioBinding.load(path: scenarioPath)
        let generator = try GeneratorKind.named(sc.generator)
        let s = RandomStream(seed: seed, generator: generator)
        let g = 50_000_000
        var acc = 0.0
        let g0 = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<g { acc += s.standardNormal() }
        let gs = Double(DispatchTime.now().uptimeNanoseconds - g0) / 1e9
        var r = Result(gaussiansPerSecond: Double(g) / gs, generator: generator.name, checksum: acc / Double(g))
        let root = SeedTree(root: seed).child("sim.bench")
        let detectors = detect ? DetectorConfig() : nil
        let groups = sc.sim.population.groups.map { $0.name }
        for k in 0..<rounds {
            let (t1, draws) = try simulate(sc.sim, generator: generator, seeds: root.child("round", k).child("t", 0), n: decisions, scenario: sc.name,
                                           detectors: detectors, groups: groups, explainer: explain)
            r.single.append(Double(decisions) / t1)
            r.drawsPerDecision = Double(draws) / Double(decisions)
            let w0 = DispatchTime.now().uptimeNanoseconds
            DispatchQueue.concurrentPerform(iterations: threads) { i in
                _ = try? simulate(sc.sim, generator: generator, seeds: root.child("round", k).child("t", i + 1), n: decisions, scenario: sc.name,
                                  detectors: detectors, groups: groups, explainer: explain)
            }
            let tw = Double(DispatchTime.now().uptimeNanoseconds - w0) / 1e9
            r.multi.append(Double(decisions * threads) / tw)
            report(k, r.single.last!, r.multi.last!)
        }
        return r
    }
}

/// The model `bench sim --explain` explains the random agent's decisions with.
public enum ExplainerKind: String, CaseIterable, Sendable {
    case linear, ppo
    func make(world: JourneyWorld, seeds: SeedTree) -> Explaining {
        switch self {
        case .linear:
            return EpsilonGreedyAgent(config: EpsilonGreedyConfig(), layout: world.observationLayout, actions: world.actionLayout, stream: seeds.stream())
        case .ppo:
            let p = PPOAgent(config: PPOAgentConfig(), layout: world.observationLayout, actions: world.actionLayout, trainingDecisions: 20_000,
                             initStream: seeds.child("init").stream(), shuffle: seeds.child("shuffle").stream(), sampler: seeds.child("sample").stream())
            p.learning = false
            return p
        }
    }
}

public func median(_ xs: [Double]) -> Double {
    let s = xs.sorted()
    guard !s.isEmpty else { return .nan }
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}
