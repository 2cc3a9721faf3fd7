import Foundation
import GymAgents
import GymCore
import GymData
import GymONNX
import GymRandom
import GymReports
import GymScenario
import GymSim

/// `export onnx`: a checkpoint's policy network (PPO, CQL or BC) as an ONNX graph, and optionally observations
/// recorded on the scenario's evaluation world with the probabilities the Swift network gives
/// them, so that another runtime can be checked against it.
public struct ONNXExportOutcome: Sendable {
    public var path: String
    public var bytes: Int
    public var observationDimension: Int
    public var actions: Int
    public var recorded: Int
}

extension ExportJob {
    public static func onnx(checkpoint: String, scenario: String, out: String, record: Int, recordOut: String?, seed: UInt64,
                            overwrite: Bool) throws -> ONNXExportOutcome {
        // The outputs are checked before any work: never the inputs, never an existing file without --force.
        let inputs = [(flag: "CHECKPOINT", path: checkpoint), (flag: "--scenario", path: scenario)]
        try OutputGuard.checkFile(out, flag: "--out", inputs: inputs, overwrite: overwrite)
        if let recordOut, record > 0 {
            try OutputGuard.checkFile(recordOut, flag: "--record-out", inputs: inputs + [(flag: "--out", path: out)], overwrite: overwrite)
        }
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: checkpoint)) } catch {
            throw DataError(file: checkpoint, message: "cannot read the checkpoint: \((error as NSError).localizedDescription)")
        }
        let sc = try ScenarioBinding.load(path: scenario)
        let loaded = try ModelEvaluation.load(data, label: checkpoint, scenario: sc, seed: seed)
        let agent = loaded.policy
        agent.learning = false
        let policy: ExportablePolicy
        let probabilities: ([Double], [Bool]) -> [Double]
        if let ppo = agent as? PPOAgent {
            do { policy = try ppo.exportablePolicy() } catch let e as ExportError { throw DataError(file: checkpoint, message: e.message) }
            probabilities = { ppo.evaluationProbabilities($0, mask: $1) }
        } else if let offline = agent as? OfflinePolicy {
            policy = offline.exportablePolicy()
            probabilities = { o, m in var p = [Double](repeating: 0, count: m.count); offline.actionProbabilities(observation: o, mask: m, into: &p); return p }
        } else {
            throw DataError(file: checkpoint, message: "\(loaded.modelType) checkpoints have no policy network: ppo, cql and bc checkpoints export to ONNX")
        }
        let bound = try ScenarioBinding.bind(sc)
        let world = JourneyWorld(config: bound.sim)
        let labels = (0..<world.actionLayout.count).map { world.actionLayout.label(of: $0) }
        let doc = "OptimaGym \(loaded.modelType) policy \(loaded.id) for scenario \(sc.name): observation (\(policy.observationDimension) features) and mask in, "
            + "probabilities of the actions \(labels.joined(separator: ", ")) out."
        let bytes = try ONNXExport.model(policy, producerVersion: projectVersion, docString: doc)
        var recorded = 0
        if let recordOut, record > 0 {
            // Observations of the evaluation world under the checkpoint's own policy.
            world.generator = try GeneratorKind.named(bound.generator)
            world.reset(seed: SeedTree(root: seed).child("sim.eval"))
            (agent as? PPOAgent)?.useSampler(SeedTree(root: seed).child("export.onnx").stream(world.generator))
            var lines = ""
            var n = 0
            func list(_ xs: [Double]) -> String { "[" + xs.map { "\($0)" }.joined(separator: ",") + "]" }
            while n < record {
                let o = world.observation, m = world.actionMask
                let p = probabilities(o, m)
                lines += "{\"observation\":\(list(o)),\"mask\":[\(m.map { $0 ? "true" : "false" }.joined(separator: ","))],\"probabilities\":\(list(p))}\n"
                n += 1
                let r = world.step(agent.act(observation: o, mask: m, decision: world.decisionIndex, truth: world.hiddenTruth))
                if r.terminated || r.truncated { break }
            }
            try AtomicFile.write(lines, to: URL(fileURLWithPath: recordOut), overwrite: overwrite)
            recorded = n
        }
        try AtomicFile.write(Array(bytes), to: URL(fileURLWithPath: out), overwrite: overwrite)
        return ONNXExportOutcome(path: out, bytes: bytes.count, observationDimension: policy.observationDimension, actions: labels.count, recorded: recorded)
    }
}
