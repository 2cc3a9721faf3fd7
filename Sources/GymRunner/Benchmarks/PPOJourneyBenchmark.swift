import Foundation
import GymAgents
import GymCore
import GymRandom
import GymScenario
import GymSim

/// `bench ppo-journey`: PPO training over journeys on a scenario's world, in decisions per
/// second, against the same training loop driven by the random agent (the world's own cost: the
/// ceiling PPO's rate can reach).
public enum PPOJourneyBenchmark {
    public struct Result: Sendable {
        /// Wall seconds of PPO's training and of the random agent's pass over as many decisions.
        public var ppoSeconds: Double
        public var randomSeconds: Double
        public var decisions: Int
        public var updates: Int
        /// Rows trained in all (block decisions and corrections).
        public var rows: Int
        public var meanBlockReward: Double
        public var settings: String
        /// Floating-point operations of the networks' arithmetic, counted as 2 per weight per row
        /// for a forward pass and 6 for forward and backward: acting (the actor over every
        /// action's row), the critic's values for each update's window, and the update epochs.
        public var networkFlops: Double
    }

    public enum BenchError: BadInputError {
        case noPPO(String)
        public var description: String {
            switch self { case .noPPO(let s): return "\(s): the scenario has no ppo agent to benchmark" }
        }
    }

    public static func run(scenarioPath: String, decisions: Int, seed: UInt64) throws -> Result {
        let sc = try ScenarioBinding.load(path: scenarioPath)
        guard let spec = sc.agents.first(where: { if case .ppo = $0 { return true } else { return false } }) else {
            throw BenchError.noPPO(scenarioPath)
        }
        let generator = try GeneratorKind.named(sc.generator)
        let root = SeedTree(root: seed)
        func timed(_ s: AgentSpec) throws -> (Double, Policy) {
            let world = JourneyWorld(config: sc.sim)
            world.generator = generator
            let policy = makePolicy(s, layout: world.observationLayout, actions: world.actionLayout,
                                    seeds: root.child("agent").child(s.name), generator: generator,
                                    trainingDecisions: decisions, discount: sc.sim.journeyDiscount)
            let t0 = DispatchTime.now().uptimeNanoseconds
            _ = try Runner.train(policy, world: world, worldSeed: root.child("sim.train"), decisions: decisions,
                                 matchThreshold: sc.sim.pairing.matchThreshold, scenario: sc.name, label: "", progress: nil)
            return (Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9, policy)
        }
        let (tr, _) = try timed(.random)
        let (tp, p) = try timed(spec)
        let ppo = p as! PPOAgent
        let rows = ppo.updates.reduce(0) { $0 + $1.episodes }
        let mean = ppo.updates.isEmpty ? .nan : ppo.updates.map(\.meanEpisodeReturn).reduce(0, +) / Double(ppo.updates.count)
        let c = ppo.config
        let settings = "update every \(c.updateEvery), reward lag \(c.rewardLag), minibatch \(c.minibatchSize), \(c.ppo.updateEpochs) epochs, hidden \(c.ppo.hidden), \(c.ppo.networkPrecision.rawValue), returns \(c.returns.rawValue)"
        let A = Double(ppo.ppo.featurizer == nil ? 1 : ppo.ppo.actDim)
        let pa = Double(ppo.ppo.actor.parameters.count), pc = Double(ppo.ppo.critic.parameters.count)
        let window = Double(c.updateEvery + c.rewardLag)
        let flops = Double(decisions) * 2 * A * pa + Double(ppo.updates.count) * window * 2 * pc
            + Double(rows * c.ppo.updateEpochs) * 6 * (A * pa + pc)
        return Result(ppoSeconds: tp, randomSeconds: tr, decisions: decisions, updates: ppo.updates.count, rows: rows,
                      meanBlockReward: mean, settings: settings, networkFlops: flops)
    }
}
