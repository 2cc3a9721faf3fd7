import Foundation
import GymAgents
import GymEval
import GymRandom
import GymScenario
import GymSim

/// A checkpoint (any agent kind) evaluated on a scenario's held-out world, learning frozen: what
/// `evaluate` runs, and what the gate runs to compare two registered models on the same users
/// (the same scenario and seed give the same `sim.eval` world, so both meet the same users in
/// the same sessions).
public enum ModelEvaluation {
    /// Loads a checkpoint for the scenario's world; errors name `label`.
    public static func load(_ data: Data, label: String, scenario: Scenario, seed: UInt64) throws -> Checkpoints.Loaded {
        let sc = try ScenarioBinding.bind(scenario)
        let generator = try GeneratorKind.named(sc.generator)
        let world = JourneyWorld(config: sc.sim)
        return try Checkpoints.load(data: data, path: label, layout: world.observationLayout, actions: world.actionLayout,
                                    sampler: SeedTree(root: seed).child("agent").child("checkpoint").stream(generator))
    }

    /// Evaluates a loaded checkpoint; its metrics carry the run-level metrics' "not measured" notes
    /// and its model_version is the checkpoint's id.
    public static func evaluate(_ loaded: Checkpoints.Loaded, data: Data, scenario: Scenario, seed: UInt64, captureContexts: Bool,
                                progress: Progress?, note: String) throws -> AgentRun {
        let sc = try ScenarioBinding.bind(scenario)
        let generator = try GeneratorKind.named(sc.generator)
        let world = JourneyWorld(config: sc.sim)
        world.generator = generator
        var run = try Runner.evaluate(loaded.policy, spec: loaded.spec, scenario: sc, seeds: SeedTree(root: seed), generator: generator,
                                      world: world, captureContexts: captureContexts, progress: progress, trainingDate: "",
                                      training: ([], [], nil, [note]))
        run.metrics = MetricCatalog.ordered(run.metrics) { Runner.notMeasured($0, scenario: sc, isUpperBound: run.isUpperBound, hasOracle: false, checkpoint: true) }
            + Runner.safetyMetrics(run)
        if !loaded.id.isEmpty {
            run.checkpointID = loaded.id
            run.checkpoint = data
            run.checkpointType = loaded.modelType
        }
        return run
    }
}
