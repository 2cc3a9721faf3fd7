import XCTest
import GymCore
import GymLinalg
import GymRandom
import GymSim
@testable import GymAgents

final class PPOTests: XCTestCase {
    /// A PPO learner whose rollout buffer holds synthetic data: some masked actions, old
    /// log-probabilities off by up to +-0.6 (so some ratios are clipped), values off the returns.
    /// A shared-head featurizer for the test: row of action a = [o0, o1, o2, o0 * (a + 1), onehot(a)].
    struct TestFeaturizer: ActionFeaturizer {
        let featureDimension = 8, actionCount = 4
        func features(_ o: UnsafePointer<Double>, into out: UnsafeMutablePointer<Double>) {
            for a in 0..<4 {
                let r = out + a * 8
                r[0] = o[0]; r[1] = o[1]; r[2] = o[2]; r[3] = o[0] * Double(a + 1)
                for j in 0..<4 { r[4 + j] = j == a ? 1 : 0 }
            }
        }
    }

    func synthetic(epsilon: Double, shared: Bool = false) -> (PPO, [Int], [Double]) {
        var cfg = PPOConfig()
        cfg.numEnvs = 2; cfg.numSteps = 6; cfg.hidden = [5, 4]
        cfg.precision = .double   // finite differences need double's precision
        let s = RandomStream(seed: 11)
        let ppo = PPO(config: cfg, obsDim: 3, actDim: 4, initStream: s, shuffle: RandomStream(seed: 12), sampler: RandomStream(seed: 13),
                      featurizer: shared ? TestFeaturizer() : nil)
        for i in ppo.actor.parameters.indices { ppo.actor.parameters[i] += 0.3 * s.standardNormal() }
        for i in ppo.critic.parameters.indices { ppo.critic.parameters[i] += 0.3 * s.standardNormal() }
        let n = cfg.batchSize
        for i in 0..<(n * 3) { ppo.obs[i] = s.standardNormal() }
        for r in 0..<n {
            for j in 0..<4 { ppo.masks[r * 4 + j] = !(j == r % 4 && r % 3 == 0) }
            var a = s.uniformInt(4)
            while !ppo.masks[r * 4 + a] { a = s.uniformInt(4) }
            ppo.actions[r] = a
            ppo.returns[r] = s.standardNormal()
        }
        // Old log-probs and values near the current ones.
        let idx = Array(0..<n)
        let probs = ppo.obs.withUnsafeBufferPointer { o in ppo.masks.withUnsafeBufferPointer { m -> [Double] in
            var p = [Double](repeating: 0, count: n * 4)
            p.withUnsafeMutableBufferPointer { pb in ppo.policy(o.baseAddress!, m.baseAddress!, batch: n, epsilon: epsilon, into: pb.baseAddress!) }
            return p
        } }
        let v = ppo.obs.withUnsafeBufferPointer { Array(ppo.critic.forward($0.baseAddress!, batch: n)) }
        for r in 0..<n {
            ppo.logprobs[r] = log(probs[r * 4 + ppo.actions[r]]) + 0.6 * (2 * s.uniform() - 1)
            ppo.values[r] = v[r] + 0.4 * (2 * s.uniform() - 1)
        }
        // Actions were taken under epsilon, except every fourth row under 0.3 (an older schedule
        // point): the ratio must use each row's own epsilon. (The offsets are chosen so that no
        // ratio sits within a finite-difference step of a clip boundary, where the loss has a kink.)
        for r in 0..<n { ppo.rowEpsilon[r] = r % 4 == 0 ? 0.3 : epsilon }
        for r in 0..<n where r % 4 == 0 {
            ppo.logprobs[r] = log(0.7 * (probs[r * 4 + ppo.actions[r]] - epsilon / 4) / max(1e-9, 1 - epsilon) + 0.3 / 4 + 1e-12) + 0.25 * (2 * s.uniform() - 1)
        }
        let adv = idx.map { _ in s.standardNormal() }
        return (ppo, idx, adv)
    }

    func checkLossGradients(epsilon: Double, shared: Bool = false) {
        let (ppo, idx, adv) = synthetic(epsilon: epsilon, shared: shared)
        let l = ppo.minibatchLoss(idx, advantages: adv)
        XCTAssertGreaterThan(l.clipFraction, 0, "some ratios are clipped")
        XCTAssertLessThan(l.clipFraction, 1, "some are not")
        let ga = ppo.actor.gradients, gc = ppo.critic.gradients
        func loss() -> Double { ppo.minibatchLoss(idx, advantages: adv).total }
        var worst = 0.0
        for net in [ppo.actor, ppo.critic] {
            let analytic = net === ppo.actor ? ga : gc
            for i in net.parameters.indices {
                let p = net.parameters[i], h = 1e-6 * max(1, abs(p))
                net.parameters[i] = p + h; let up = loss()
                net.parameters[i] = p - h; let down = loss()
                net.parameters[i] = p
                let numeric = (up - down) / (2 * h)
                worst = max(worst, abs(numeric - analytic[i]) / max(1e-8, abs(numeric) + abs(analytic[i])))
            }
        }
        XCTAssertLessThan(worst, 1e-6, "PPO loss gradient (epsilon \(epsilon)): worst relative error \(worst)")
    }

    func testPPOLossGradientsMatchFiniteDifferences() { checkLossGradients(epsilon: 0) }
    func testPPOLossGradientsWithExplorationMixture() { checkLossGradients(epsilon: 0.2) }
    func testPPOLossGradientsThroughSharedActionHead() { checkLossGradients(epsilon: 0.1, shared: true) }

    /// Real learning on CartPole (CI-sized): with CleanRL's settings and seed 1, the mean return of
    /// the last 20 episodes within 100k steps is at least 195 (a random policy averages about 22),
    /// with the networks in float (the default) and in double.
    func testPPOLearnsCartPole() throws {
        #if DEBUG
        throw XCTSkip("needs a release build (scripts/test.sh builds the tests with -c release)")
        #else
        for precision in NetPrecision.allCases {
            var cfg = PPOConfig()
            cfg.totalSteps = 100_000
            cfg.precision = precision
            let root = SeedTree(root: 1)
            let envs: [CartPole] = (0..<cfg.numEnvs).map { i in let e = CartPole(); e.reset(seed: root.child("env", i)); return e }
            let ppo = PPO(config: cfg, obsDim: 4, actDim: 2, initStream: root.child("agent.init").stream(),
                          shuffle: root.child("agent.shuffle").stream(), sampler: root.child("agent.sample").stream())
            var returns: [Double] = []
            var stats: [PPOUpdateStats] = []
            ppo.train(envs: envs, onEpisode: { returns.append($0) }) { stats.append($0) }
            let last = returns.suffix(20)
            let mean = last.reduce(0, +) / Double(last.count)
            XCTAssertGreaterThanOrEqual(mean, 195, "\(precision): mean return of the last 20 episodes: \(mean)")
            XCTAssertEqual(stats.count, 100_000 / 512)
            XCTAssertTrue(stats.allSatisfy { $0.approxKL.isFinite && $0.entropy > 0 && $0.entropy <= log(2) + 1e-12 })
        }
        #endif
    }

    /// The same seed gives the same weights after training; another seed gives other weights (so
    /// the equality is not vacuous: the seed reaches the initialisation, the shuffles and the sampler).
    func testSameSeedSameWeightsAndAnotherSeedOtherWeights() {
        func weights(_ seed: UInt64 = 5) -> [Double] {
            var cfg = PPOConfig()
            cfg.totalSteps = 1024
            cfg.hidden = [8, 8]
            let root = SeedTree(root: seed)
            let envs: [CartPole] = (0..<cfg.numEnvs).map { i in let e = CartPole(); e.reset(seed: root.child("env", i)); return e }
            let ppo = PPO(config: cfg, obsDim: 4, actDim: 2, initStream: root.child("agent.init").stream(),
                          shuffle: root.child("agent.shuffle").stream(), sampler: root.child("agent.sample").stream())
            ppo.train(envs: envs) { _ in }
            return ppo.actor.parameters + ppo.critic.parameters
        }
        let a = weights()
        XCTAssertEqual(a, weights())
        let b = weights(6)
        XCTAssertEqual(a.count, b.count)
        XCTAssertNotEqual(a, b)
        // Every layer moved: not one shared parameter equal between the two seeds.
        XCTAssertLessThan(zip(a, b).filter { $0 == $1 }.count, a.count / 100)
    }
}
