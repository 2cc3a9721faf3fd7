import Foundation
import GymAgents
import GymCore
import GymEval
import GymRandom
import GymScenario
import GymSim

extension Runner {
    /// `transfer` (blueprint section 10): agent A trains on the source world for
    /// `training.episodes` decisions, then fine-tunes `fine_tune_episodes` on the target world;
    /// agent B trains on the target world alone for the same total. Both are evaluated on the
    /// scenario's evaluation world; transfer = mean reward of A / mean reward of B. The interval
    /// is a cluster bootstrap (users) of each evaluation, independently, of the ratio.
    static func transfer(_ spec: AgentSpec, scenario: Scenario, transfer tr: TransferConfig, seeds: SeedTree,
                         generator: GeneratorKind, progress: Progress?) throws -> MetricValue {
        switch spec {
        case .epsilonGreedy, .pacedBandit, .ppo:
            return try transferMeasured(spec, scenario: scenario, transfer: tr, seeds: seeds, generator: generator, progress: progress)
        case .random, .oracle, .lookahead:
            return MetricValue(name: "transfer", value: .nan, ciLow: .nan, ciHigh: .nan, count: 0,
                               note: "not measured: \(spec.name) does not learn")
        case .offline:
            return MetricValue(name: "transfer", value: .nan, ciLow: .nan, ciHigh: .nan, count: 0,
                               note: "not measured: \(spec.name) learns offline, from logged journeys")
        }
    }

    static func transferMeasured(_ spec: AgentSpec, scenario: Scenario, transfer tr: TransferConfig, seeds: SeedTree,
                                 generator: GeneratorKind, progress: Progress?) throws -> MetricValue {
        let name = spec.name
        let n = scenario.training.episodes, f = tr.fineTuneEpisodes
        let threshold = scenario.sim.pairing.matchThreshold
        let base = seeds.child("transfer").child(name)
        // A: source, then fine-tune on the target.
        let source = JourneyWorld(config: tr.sourceSim)
        source.generator = generator
        let target = JourneyWorld(config: scenario.sim)
        target.generator = generator
        let a = makePolicy(spec, layout: target.observationLayout, actions: target.actionLayout, seeds: base.child("A"),
                           generator: generator, trainingDecisions: n + f, discount: scenario.sim.journeyDiscount)
        let ta = try train(a, world: source, worldSeed: seeds.child("sim.transfer.source"), decisions: n, matchThreshold: threshold,
                           scenario: scenario.name, label: "\(name) transfer: source", progress: progress)
        _ = try train(a, world: target, worldSeed: seeds.child("sim.transfer.target"), decisions: f, matchThreshold: threshold,
                      scenario: scenario.name, label: "\(name) transfer: fine-tune", progress: progress, startIndex: ta.decisionsUsed)
        // B: target alone, the same total budget.
        let b = makePolicy(spec, layout: target.observationLayout, actions: target.actionLayout, seeds: base.child("B"),
                           generator: generator, trainingDecisions: n + f, discount: scenario.sim.journeyDiscount)
        _ = try train(b, world: target, worldSeed: seeds.child("sim.transfer.target"), decisions: n + f, matchThreshold: threshold,
                      scenario: scenario.name, label: "\(name) transfer: target only", progress: progress)
        func evaluate(_ p: Policy) throws -> RunRecords {
            p.learning = false
            target.recording = true
            target.reset(seed: seeds.child("sim.eval"))
            if target.isDone { throw RunError.noDecisions(scenario: scenario.name, phase: "evaluation") }
            var k = 0
            while k < scenario.evaluation.episodes && !target.isDone {
                let c = p.act(observation: target.observation, mask: target.actionMask, decision: target.decisionIndex, truth: nil)
                _ = target.step(c)
                k += 1
            }
            return target.finish(surveySeed: seeds.child("sim.survey"))
        }
        let ra = try evaluate(a), rb = try evaluate(b)
        let evaluator = Evaluator(config: scenario.evaluation.eval, matchThreshold: threshold)
        var m = evaluator.transferRatio(transferred: ra, targetOnly: rb, fineTune: f,
                                        stream: seeds.child("eval.transfer").child(name).stream(generator))
        if case .ppo(let c) = spec, f < c.updateEvery + c.rewardLag {
            m.note = (m.note.map { $0 + "; " } ?? "") + "PPO's fine-tuning of \(f) decisions is shorter than update_every + reward_lag (\(c.updateEvery + c.rewardLag)): its updates during fine-tuning train on source decisions"
        }
        return m
    }
}
