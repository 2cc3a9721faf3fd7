import XCTest
import GymCore
import GymLinalg
import GymRandom
import GymSim
@testable import GymAgents

/// Explanations (`run --explain`): the bandit's attributions are exact, PPO's integrated
/// gradients are complete, and the adjustments are what an update does.
final class ExplanationTests: XCTestCase {
    /// A small journey world and `n` decisions of `policy` on it, learning; then `check` on the
    /// next `m` decisions with learning frozen.
    func drive(_ policy: Policy, world: JourneyWorld, n: Int, m: Int, check: ([Double], [Bool], ActionChoice) -> Void) {
        world.recording = false
        world.reset(seed: SeedTree(root: 7).child("world"))
        policy.learning = true
        var k = 0
        while k < n + m && !world.isDone {
            if k == n { policy.learning = false }
            if let j = policy as? JourneyAware { j.willAct(in: world.decisionContext) }
            let o = world.observation, mask = world.actionMask
            let c = policy.act(observation: o, mask: mask, decision: world.decisionIndex, truth: nil)
            if k >= n { check(o, mask, c) }
            let r = world.step(c)
            if let j = policy as? JourneyAware, !r.endedJourneys.isEmpty { j.journeysEnded(r.endedJourneys) }
            policy.observe(r.feedback)
            k += 1
        }
        XCTAssertEqual(k, n + m, "the world ended early")
    }

    func world() -> JourneyWorld {
        var c = SimConfig()
        c.population.size = 300
        return JourneyWorld(config: c)
    }

    /// The linear bandit: attributions w_i phi_i sum, in the prediction's own order, to the
    /// prediction minus the baseline (0) bit for bit; the adjustment equals a real ridge refit
    /// with the decision's row and reward.
    func testLinearAttributionsAreExact() {
        let w = world()
        let agent = EpsilonGreedyAgent(config: EpsilonGreedyConfig(), layout: w.observationLayout, actions: w.actionLayout, stream: RandomStream(seed: 3))
        var checked = 0, families = Set<Int>()
        drive(agent, world: w, n: 3000, m: 400) { o, mask, c in
            let x = agent.explain(observation: o, mask: mask, action: c.action, propensity: c.propensity)
            let prediction = agent.predict(o, c.action)
            var sum = 0.0
            for a in x.attributions { sum += a.attribution }
            XCTAssertEqual(sum - x.baselineScore, prediction, "decision with action \(c.action)")
            XCTAssertEqual(x.score, prediction)
            XCTAssertEqual(x.completenessError, 0)
            XCTAssertEqual(x.attributions.count, agent.features.featureNames(family: w.actionLayout.family(of: c.action), action: c.action).count)
            // The adjustment against a refit of a copy of the family's model.
            var phi = [Double](repeating: 0, count: agent.maxDim)
            let f = phi.withUnsafeMutableBufferPointer { agent.features.features(o, action: c.action, into: $0) }
            families.insert(f)
            let d = agent.features.dimensions[f]
            var model = agent.models[f]
            let y = 0.37
            phi.withUnsafeBufferPointer { p in
                let row = UnsafeBufferPointer(rebasing: p[0..<d])
                model.addDesign(row); model.addTarget(row, y); model.refit()
                XCTAssertEqual(model.predict(row) - prediction, x.adjustmentBase + x.adjustmentSlope * y, accuracy: 1e-9)
            }
            checked += 1
        }
        XCTAssertEqual(checked, 400)
        XCTAssertGreaterThanOrEqual(families.count, 3, "pairings, events and interventions explained")
    }

    /// PPO: the integrated gradients of the action's logit sum to the logit minus the baseline's
    /// within 1% (the completeness axiom), on decisions of a PPO trained for 3,000 decisions, with
    /// the shared action head and without; the score is the network's own logit.
    func testPPOIntegratedGradientsAreComplete() {
        for shared in [true, false] {
            let w = world()
            var c = PPOAgentConfig()
            c.updateEvery = 500; c.rewardLag = 250; c.minibatchSize = 64
            c.sharedActionHead = shared
            c.ppo.precision = .double
            let agent = PPOAgent(config: c, layout: w.observationLayout, actions: w.actionLayout, trainingDecisions: 3000,
                                 initStream: RandomStream(seed: 11), shuffle: RandomStream(seed: 12), sampler: RandomStream(seed: 13))
            var worst = 0.0, measured = 0
            drive(agent, world: w, n: 3000, m: 200) { o, mask, choice in
                let x = agent.explain(observation: o, mask: mask, action: choice.action, propensity: choice.propensity)
                let delta = x.score - x.baselineScore
                let sum = x.attributions.reduce(0) { $0 + $1.attribution }
                if abs(delta) > 1e-3 {
                    worst = max(worst, abs(sum - delta) / abs(delta))
                    measured += 1
                }
                XCTAssertLessThanOrEqual(abs(sum - delta), 0.01 * max(abs(delta), 1e-3))
                // The score is the actor's logit of the action on the normalised observation.
                agent.normalize(o)
                let logits = agent.normalized.withUnsafeBufferPointer { Array(agent.ppo.actorLogits($0.baseAddress!, batch: 1)) }
                XCTAssertEqual(x.score, logits[choice.action], accuracy: 1e-9 * max(1, abs(x.score)))
                XCTAssertEqual(x.expectedOutcome, agent.ppo.critic.forward(agent.normalized)[0], accuracy: 1e-9)
            }
            XCTAssertGreaterThan(agent.updates.count, 0, "PPO trained")
            XCTAssertGreaterThanOrEqual(measured, 150, "shared \(shared)")
            XCTAssertLessThan(worst, 0.01, "shared \(shared): worst completeness error \(worst)")
            print("integrated gradients, shared head \(shared): worst completeness error \(worst) over \(measured) decisions")
        }
    }

    /// CQL and BC networks: integrated gradients of the action's score are complete within 1%,
    /// the score is the network's, BC's expected outcome is a probability, and nothing adjusts.
    func testOfflinePolicyIntegratedGradientsAreComplete() {
        for kind in ["cql", "bc"] {
            let w = world()
            let policy = OfflinePolicy(kind: kind, inputs: w.observationLayout.dimension, actions: w.actionLayout.count,
                                       seed: SeedTree(root: 21), hidden: [32, 32])
            // Larger weights than the initial 0.01 head, so that scores vary between observations,
            // and non-zero biases (with zero biases a ReLU network is homogeneous, f(a x) = a f(x),
            // and the path integral would be trivially exact).
            policy.net.parameters = policy.net.parameters.enumerated().map { $0.element * 3 + 0.05 * sin(Double($0.offset)) }
            var worst = 0.0, measured = 0
            drive(policy, world: w, n: 0, m: 200) { o, mask, choice in
                let x = policy.explain(observation: o, mask: mask, action: choice.action, propensity: choice.propensity)
                let delta = x.score - x.baselineScore
                let sum = x.attributions.reduce(0) { $0 + $1.attribution }
                if abs(delta) > 1e-3 { worst = max(worst, abs(sum - delta) / abs(delta)); measured += 1 }
                XCTAssertLessThanOrEqual(abs(sum - delta), 0.01 * max(abs(delta), 1e-3))
                XCTAssertEqual(x.score, policy.net.forward(o)[choice.action], accuracy: 1e-9 * max(1, abs(x.score)))
                XCTAssertEqual(x.attributions.count, o.count)
                XCTAssertEqual(x.adjustmentSlope, 0)
                if kind == "bc" { XCTAssertTrue(x.expectedOutcome > 0 && x.expectedOutcome <= 1, "\(x.expectedOutcome)") } else { XCTAssertEqual(x.expectedOutcome, x.score) }
            }
            XCTAssertGreaterThanOrEqual(measured, 150, kind)
            XCTAssertLessThan(worst, 0.01, "\(kind): worst completeness error \(worst)")
            print("integrated gradients, \(kind): worst completeness error \(worst) over \(measured) decisions")
        }
    }

    /// The MLP's input gradients against central finite differences, tanh and ReLU.
    func testInputGradientsMatchFiniteDifferences() {
        for activation in Activation.allCases {
            let net = MLP(shape: MLPShape(inputs: 5, hidden: [7, 4], outputs: 3, activation: activation), precision: .double)
            net.initializeOrthogonal(gains: [1.4, 1.4, 1], bias: 0.05, stream: RandomStream(seed: 5))
            let x = [0.3, -1.2, 0.7, 0.05, 2.0]
            for j in 0..<3 {
                let (out, g) = net.inputGradients(x, rows: 1, output: j)
                for (a, b) in zip(out, net.forward(x)) { XCTAssertEqual(a, b, accuracy: 1e-12, "forward agrees") }
                for i in 0..<5 {
                    var xp = x, xm = x
                    xp[i] += 1e-6; xm[i] -= 1e-6
                    let fd = (net.forward(xp)[j] - net.forward(xm)[j]) / 2e-6
                    XCTAssertEqual(g[i], fd, accuracy: 1e-6, "\(activation) output \(j) input \(i)")
                }
            }
        }
    }

    /// Integrated gradients of a network that is linear along the path (ReLU units that stay
    /// active) are exactly the gradient times the displacement.
    func testIntegratedGradientsOfALinearPathAreExact() {
        let net = MLP(shape: MLPShape(inputs: 3, hidden: [4], outputs: 1, activation: .relu), precision: .double)
        // Positive weights and inputs: every hidden unit stays active along the path from 0.
        net.parameters = [0.5, 0.2, 0.1, 0.3, 0.4, 0.6, 0.2, 0.2, 0.2, 0.9, 0.1, 0.3,   // W1 (4x3)
                          0.1, 0.1, 0.1, 0.1,                                            // b1
                          1.0, -0.5, 0.25, 2.0,                                          // W2 (1x4)
                          0.3]                                                           // b2
        let x = [1.0, 2.0, 0.5]
        let ig = net.integratedGradients(x, baseline: [0, 0, 0], output: 0, minSteps: 4)
        let (_, g) = net.inputGradients(x, rows: 1, output: 0)
        for i in 0..<3 { XCTAssertEqual(ig.attributions[i], g[i] * x[i], accuracy: 1e-12) }
        XCTAssertLessThan(ig.completenessError, 1e-12)
        XCTAssertEqual(ig.steps, 4)
    }
}
