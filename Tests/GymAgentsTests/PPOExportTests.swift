import Foundation
import GymCore
import GymRandom
import GymSim
import GymTestSupport
import XCTest
@testable import GymAgents

/// `ExportablePolicy` (what `export onnx` writes as a graph) computes, from its plain arrays, the
/// same probabilities the agent acts by when evaluating: with and without observation
/// normalisation, the shared action head and the evaluation epsilon.
final class PPOExportTests: XCTestCase {
    /// The exported description evaluated directly (the ONNX graph's operations, in Double).
    func probabilities(_ p: ExportablePolicy, _ raw: [Double], _ mask: [Bool]) -> [Double] {
        var x = raw
        if let n = p.normalization {
            for i in 0..<x.count { x[i] = min(n.clip, max(-n.clip, (x[i] - n.mean[i]) * n.scale[i])) }
        }
        let A = p.actionCount
        var rows: [[Double]] = [x]
        if let f = p.features {
            let W = A * f.featureDimension
            var flat = f.offset
            for i in 0..<x.count { for j in 0..<W { flat[j] += x[i] * f.matrix[i * W + j] } }
            rows = (0..<A).map { Array(flat[($0 * f.featureDimension)..<(($0 + 1) * f.featureDimension)]) }
        }
        let widths = p.actor.widths
        let outs: [[Double]] = rows.map { row in
            var h = row, off = 0
            for l in 0..<(widths.count - 1) {
                let nin = widths[l], nout = widths[l + 1]
                var z = [Double](repeating: 0, count: nout)
                for o in 0..<nout {
                    var s = p.parameters[off + nout * nin + o]
                    for i in 0..<nin { s += p.parameters[off + o * nin + i] * h[i] }
                    z[o] = l < widths.count - 2 ? (p.actor.activation == .tanh ? Foundation.tanh(s) : max(0, s)) : s
                }
                off += nout * nin + nout
                h = z
            }
            return h
        }
        let logits = p.features != nil ? outs.map { $0[0] } : outs[0]
        if p.greedy {
            var best = -1
            for a in 0..<A where mask[a] && (best < 0 || logits[a] > logits[best]) { best = a }
            return (0..<A).map { $0 == best ? 1 : 0 }
        }
        let mx = zip(logits, mask).filter { $0.1 }.map { $0.0 }.max()!
        let e = zip(logits, mask).map { $0.1 ? exp($0.0 - mx) : 0 }
        let total = e.reduce(0, +)
        let allowed = Double(mask.filter { $0 }.count)
        return zip(e, mask).map { (1 - p.epsilon) * $0.0 / total + ($0.1 ? p.epsilon / allowed : 0) }
    }

    func check(normalize: Bool, shared: Bool, epsilon: Double, activation: Activation, file: StaticString = #filePath, line: UInt = #line) throws {
        let world = JourneyWorld(config: smallSimConfig(users: 120))
        var c = PPOAgentConfig()
        c.normalizeObservations = normalize
        c.sharedActionHead = shared
        c.evaluationEpsilon = epsilon
        c.ppo.activation = activation
        // Double precision, so that the agent and the arrays compute the same arithmetic (the
        // default single precision is checked against ONNX Runtime by scripts/onnx-test.sh).
        c.ppo.precision = .double
        c.updateEvery = 200; c.rewardLag = 50; c.minibatchSize = 50
        let seeds = SeedTree(root: 17)
        let agent = PPOAgent(config: c, layout: world.observationLayout, actions: world.actionLayout, trainingDecisions: 2000,
                             initStream: RandomStream(seed: 1), shuffle: RandomStream(seed: 2), sampler: RandomStream(seed: 3))
        world.reset(seed: seeds.child("world"))
        // Some learning, so that the weights and the observation statistics are not the initial ones.
        for _ in 0..<1200 {
            let choice = agent.act(observation: world.observation, mask: world.actionMask, decision: world.decisionIndex, truth: nil as HiddenTruth?)
            agent.observe(world.step(choice).feedback)
        }
        agent.learning = false
        let p = try agent.exportablePolicy()
        XCTAssertEqual(p.normalization != nil, normalize, file: file, line: line)
        XCTAssertEqual(p.features != nil, shared, file: file, line: line)
        var worst = 0.0
        for _ in 0..<200 {
            let o = world.observation, m = world.actionMask
            let want = agent.evaluationProbabilities(o, mask: m)
            let got = probabilities(p, o, m)
            for (a, b) in zip(got, want) { worst = max(worst, abs(a - b)) }
            XCTAssertEqual(want.reduce(0, +), 1, accuracy: 1e-12, file: file, line: line)
            _ = world.step(agent.act(observation: o, mask: m, decision: world.decisionIndex, truth: nil as HiddenTruth?))
        }
        XCTAssertLessThan(worst, 1e-12, "normalize \(normalize), shared \(shared), epsilon \(epsilon)", file: file, line: line)
    }

    /// An offline network (CQL or BC) exports as the greedy policy it acts by.
    func testExportedOfflinePolicyIsGreedy() {
        let world = JourneyWorld(config: smallSimConfig(users: 120))
        world.reset(seed: SeedTree(root: 5))
        let policy = OfflinePolicy(kind: "cql", inputs: world.observationLayout.dimension, actions: world.actionLayout.count,
                                   seed: SeedTree(root: 8), hidden: [16, 16])
        let p = policy.exportablePolicy()
        XCTAssertTrue(p.greedy)
        var differ = 0
        for _ in 0..<300 {
            let o = world.observation, m = world.actionMask
            var want = [Double](repeating: 0, count: m.count)
            policy.actionProbabilities(observation: o, mask: m, into: &want)
            if probabilities(p, o, m) != want { differ += 1 }
            _ = world.step(policy.act(observation: o, mask: m, decision: world.decisionIndex, truth: nil as HiddenTruth?))
        }
        XCTAssertEqual(differ, 0)
    }

    func testExportedPolicyReproducesTheAgent() throws {
        try check(normalize: false, shared: true, epsilon: 0.05, activation: .tanh)
        try check(normalize: true, shared: true, epsilon: 0, activation: .relu)
        try check(normalize: true, shared: false, epsilon: 0.1, activation: .tanh)
    }
}
