import Foundation
import XCTest
import GymLinalg
import GymRandom
@testable import GymAgents

/// Discrete CQL: the loss and its gradient by hand, the double-DQN targets, the gradient through
/// the network against finite differences, and the conservative term's effect on unseen actions.
final class CQLTests: XCTestCase {
    /// Two rows, three actions, alpha 0.5, huber TD, a mask on the second row:
    /// row 0: Q = (1, 2, 0.5), logged action 1, y = 1.5: error 0.5, huber 0.125;
    ///        logsumexp over all three = log(e + e^2 + e^0.5).
    /// row 1: Q = (0, -1, 3), logged action 0, y = 2.5: error -2.5, huber 2.5 - 0.5 = 2;
    ///        action 2 not allowed: logsumexp = log(1 + e^-1).
    func testLossAndGradientByHand() {
        let q: [Double] = [1, 2, 0.5, 0, -1, 3]
        let allowed = [true, true, true, true, true, false]
        var grad = [Double](repeating: 0, count: 6)
        let s = q.withUnsafeBufferPointer {
            DiscreteCQL.loss(q: $0, action: [1, 0], y: [1.5, 2.5], mask: allowed, actions: 3, alpha: 0.5, huber: true, grad: &grad)
        }
        let z0 = exp(1.0) + exp(2.0) + exp(0.5), z1 = 1 + exp(-1.0)
        XCTAssertEqual(s.td, (0.125 + 2) / 2, accuracy: 1e-15)
        XCTAssertEqual(s.conservative, 0.5 * ((log(z0) - 2) + (log(z1) - 0)) / 2, accuracy: 1e-14)
        XCTAssertEqual(s.meanQ, (2 + 0) / 2, accuracy: 1e-15)
        // dTD/dQ: error / 2 rows on row 0 (inside the huber band), sign(error) / 2 on row 1.
        // dCQL/dQ: alpha / 2 (softmax over the allowed actions - 1 at the logged one).
        let expected: [Double] = [0.25 * exp(1) / z0, 0.25 + 0.25 * exp(2) / z0 - 0.25, 0.25 * exp(0.5) / z0,
                                  -0.5 + 0.25 * 1 / z1 - 0.25, 0.25 * exp(-1) / z1, 0]
        for i in 0..<6 { XCTAssertEqual(grad[i], expected[i], accuracy: 1e-15, "dL/dQ[\(i)]") }
        // Squared error, alpha 0: 0.25 and 6.25 averaged; gradient 2 e / rows.
        let t = q.withUnsafeBufferPointer {
            DiscreteCQL.loss(q: $0, action: [1, 0], y: [1.5, 2.5], mask: allowed, actions: 3, alpha: 0, huber: false, grad: &grad)
        }
        XCTAssertEqual(t.td, (0.25 + 6.25) / 2, accuracy: 1e-15)
        XCTAssertEqual(t.conservative, 0)
        XCTAssertEqual(grad, [0, 0.5, 0, -2.5, 0, 0])
        // A row without a TD target (a truncated journey's last step) keeps only the conservative term.
        _ = q.withUnsafeBufferPointer {
            DiscreteCQL.loss(q: $0, action: [1, 0], y: [.nan, 2.5], mask: allowed, actions: 3, alpha: 0, huber: false, grad: &grad)
        }
        XCTAssertEqual(grad, [0, 0, 0, -5, 0, 0])
    }

    /// Double DQN: the online network picks the next action among the allowed ones, the target
    /// network values it; no bootstrap at a terminal (f = 0); NaN without a next observation.
    func testTargetsAreDoubleDQN() {
        let online: [Double] = [5, 1, 9, 0, 2, 1]   // row 0: action 2 is best but not allowed -> 0
        let target: [Double] = [10, 20, 30, 4, 5, 6]
        let y = online.withUnsafeBufferPointer { on in
            target.withUnsafeBufferPointer { tg in
                DiscreteCQL.targets(reward: [1, 2], discount: [0.5, 0.9], bootstrap: [true, true], nextOnline: on, nextTarget: tg,
                                    mask: [true, true, false, true, true, true], actions: 3)
            }
        }
        XCTAssertEqual(y, [1 + 0.5 * 10, 2 + 0.9 * 5])
        let z = online.withUnsafeBufferPointer { on in
            target.withUnsafeBufferPointer { tg in
                DiscreteCQL.targets(reward: [1, 2], discount: [0, 0.9], bootstrap: [true, false], nextOnline: on, nextTarget: tg,
                                    mask: nil, actions: 3)
            }
        }
        XCTAssertEqual(z[0], 1)
        XCTAssertTrue(z[1].isNaN)
    }

    func tinyData(n: Int, D: Int, A: Int, seed: UInt64, actions: (Int) -> Int) -> Transitions {
        let s = SeedTree(root: seed).stream(.mt19937)
        var obs: [Float] = [], next: [Float] = [], act: [Int32] = [], r: [Float] = [], f: [Float] = [], boot: [Bool] = []
        for i in 0..<n {
            for _ in 0..<D { obs.append(Float(s.standardNormal())); next.append(Float(s.standardNormal())) }
            act.append(Int32(actions(i))); r.append(Float(s.uniform())); f.append(i % 5 == 4 ? 0 : 0.9); boot.append(i % 7 != 6)
        }
        return Transitions(dimension: D, actions: A, observation: obs, nextObservation: next, action: act, reward: r, discount: f, bootstrap: boot)
    }

    /// The gradient the update computes (double precision, learning rate 0 so that the
    /// parameters stay put) equals central finite differences of the loss with the targets held
    /// fixed (the stop-gradient of Q-learning), on a 3-5-4 network, every parameter.
    func testParameterGradientMatchesFiniteDifferences() {
        var c = CQLConfig()
        c.hidden = [5]; c.batchSize = 6; c.learningRate = 0; c.alpha = 0.7
        let data = tinyData(n: 40, D: 3, A: 4, seed: 2) { $0 % 4 }
        let cql = DiscreteCQL(dimension: 3, actions: 4, config: c, seed: SeedTree(root: 1), precision: .double, gemm: SwiftGemm())
        // Move the online network away from the target so that the TD errors are not trivial.
        cql.q.parameters = cql.q.parameters.enumerated().map { $0.element + 0.05 * sin(Double($0.offset)) }
        let rows = [0, 3, 7, 12, 21, 34]
        let before = cql.q.parameters
        cql.update(data, rows: rows)
        XCTAssertEqual(cql.q.parameters, before, "learning rate 0")
        let analytic = cql.q.gradients
        // The targets, held fixed.
        let xn = rows.flatMap { i in (0..<3).map { Double(data.nextObservation[i * 3 + $0]) } }
        let on = xn.withUnsafeBufferPointer { Array(cql.q.forward($0.baseAddress!, batch: 6)) }
        let tg = xn.withUnsafeBufferPointer { Array(cql.target.forward($0.baseAddress!, batch: 6)) }
        let y = on.withUnsafeBufferPointer { o in tg.withUnsafeBufferPointer { t in
            DiscreteCQL.targets(reward: rows.map { Double(data.reward[$0]) }, discount: rows.map { Double(data.discount[$0]) },
                                bootstrap: rows.map { data.bootstrap[$0] }, nextOnline: o, nextTarget: t, mask: nil, actions: 4)
        } }
        let x = rows.flatMap { i in (0..<3).map { Double(data.observation[i * 3 + $0]) } }
        func loss(_ p: [Double]) -> Double {
            cql.q.parameters = p
            var g = [Double](repeating: 0, count: 24)
            let out = x.withUnsafeBufferPointer { cql.q.forward($0.baseAddress!, batch: 6) }
            let s = DiscreteCQL.loss(q: out, action: rows.map { Int(data.action[$0]) }, y: y, mask: nil, actions: 4,
                                     alpha: 0.7, huber: true, grad: &g)
            return s.td + s.conservative
        }
        let h = 1e-6
        for i in before.indices {
            var p = before, m = before
            p[i] += h; m[i] -= h
            let numeric = (loss(p) - loss(m)) / (2 * h)
            XCTAssertEqual(analytic[i], numeric, accuracy: 1e-6 * max(1, abs(numeric)), "parameter \(i)")
        }
    }

    /// The conservative term lowers Q on an action the data never shows: the same data, seeds
    /// and batches with alpha 1 and alpha 0 leave the unseen action's Q far lower with alpha 1,
    /// and below the logged actions' Q.
    func testConservativeTermLowersQOnUnseenActions() {
        let data = tinyData(n: 2000, D: 4, A: 3, seed: 4) { $0 % 2 }   // action 2 never logged
        func train(alpha: Double) -> (unseen: Double, seen: Double) {
            var c = CQLConfig()
            c.hidden = [32]; c.batchSize = 64; c.learningRate = 1e-3; c.alpha = alpha; c.targetUpdateInterval = 100
            let cql = DiscreteCQL(dimension: 4, actions: 3, config: c, seed: SeedTree(root: 9), precision: .double, gemm: SwiftGemm())
            cql.train(data, steps: 1500)
            var unseen = 0.0, seen = 0.0
            for i in 0..<200 {
                let v = cql.values((0..<4).map { Double(data.observation[i * 4 + $0]) })
                unseen += v[2] / 200; seen += (v[0] + v[1]) / 400
            }
            return (unseen, seen)
        }
        let plain = train(alpha: 0), conservative = train(alpha: 1)
        XCTAssertLessThan(conservative.unseen, plain.unseen - 0.3, "alpha 1: \(conservative), alpha 0: \(plain)")
        XCTAssertLessThan(conservative.unseen, conservative.seen - 0.3, "\(conservative)")
    }

    /// Same seed, same parameters after training; the FLOP count of a step by hand.
    func testDeterministicAndFlopCount() {
        var c = CQLConfig()
        c.hidden = [16, 16]; c.batchSize = 32; c.learningRate = 1e-3
        let data = tinyData(n: 500, D: 4, A: 3, seed: 5) { $0 % 3 }
        let a = DiscreteCQL(dimension: 4, actions: 3, config: c, seed: SeedTree(root: 3)), b = DiscreteCQL(dimension: 4, actions: 3, config: c, seed: SeedTree(root: 3))
        a.train(data, steps: 200); b.train(data, steps: 200)
        XCTAssertEqual(a.q.parameters, b.q.parameters)
        // Widths 64-256-256-10 at batch 256: F = 2 * 256 * (64*256 + 256*256 + 256*10) = 43,253,760.
        XCTAssertEqual(DiscreteCQL.flopsPerStep(dimension: 64, hidden: [256, 256], actions: 10, batch: 256), 5 * 43_253_760 - 2 * 256 * 64 * 256)
    }

    /// Behaviour cloning's loss: dLoss/dlogits against central differences (cross-entropy over the
    /// allowed actions plus beta times the mean squared logit), and the clone recovers a
    /// deterministic logging rule from its logs.
    func testBehaviourCloningGradientAndImitation() {
        let logits: [Double] = [0.3, -1.2, 2.0, 0.5, 0.1, -0.4]
        let mask = [true, true, true, true, false, true]
        var grad = [Double](repeating: 0, count: 6)
        let s = logits.withUnsafeBufferPointer { BehaviourCloning.loss(logits: $0, action: [2, 2], mask: mask, actions: 3, beta: 0.5, grad: &grad) }
        // Row 0: -log softmax(0.3, -1.2, 2.0)[2]; row 1 (action 1 masked out): -log softmax over (0.5, -0.4) at action 2.
        let ce0 = log(exp(0.3) + exp(-1.2) + exp(2.0)) - 2.0, ce1 = log(exp(0.5) + exp(-0.4)) + 0.4
        XCTAssertEqual(s.crossEntropy, (ce0 + ce1) / 2, accuracy: 1e-14)
        XCTAssertEqual(s.penalty, 0.5 * logits.reduce(0) { $0 + $1 * $1 } / 6, accuracy: 1e-14)
        func v(_ l: [Double]) -> Double {
            var g = [Double](repeating: 0, count: 6)
            let s = l.withUnsafeBufferPointer { BehaviourCloning.loss(logits: $0, action: [2, 2], mask: mask, actions: 3, beta: 0.5, grad: &g) }
            return s.crossEntropy + s.penalty
        }
        for i in 0..<6 {
            var p = logits, m = logits
            p[i] += 1e-6; m[i] -= 1e-6
            XCTAssertEqual(grad[i], (v(p) - v(m)) / 2e-6, accuracy: 1e-7, "dL/dlogit[\(i)]")
        }
        // Imitation: the logged action is the argmax of x W (3 actions, 4-D x).
        let st = SeedTree(root: 6).stream(.mt19937)
        let W = (0..<12).map { _ in st.standardNormal() }
        var obs: [Float] = [], act: [Int32] = []
        for _ in 0..<3000 {
            let x = (0..<4).map { _ in st.standardNormal() }
            obs += x.map { Float($0) }
            let z = (0..<3).map { a in (0..<4).reduce(0.0) { $0 + x[$1] * W[$1 * 3 + a] } }
            act.append(Int32(z.indices.max { z[$0] < z[$1] }!))
        }
        let data = Transitions(dimension: 4, actions: 3, observation: obs, nextObservation: obs, action: act, reward: [Float](repeating: 0, count: 3000),
                               discount: [Float](repeating: 0, count: 3000), bootstrap: [Bool](repeating: true, count: 3000))
        var c = BCConfig()
        c.hidden = [32]
        let bc = BehaviourCloning(dimension: 4, actions: 3, config: c, seed: SeedTree(root: 2))
        bc.train(data, steps: 1500)
        var agree = 0, p = [Double](repeating: 0, count: 3)
        for i in 0..<500 {
            bc.actionProbabilities(observation: (0..<4).map { Double(obs[i * 4 + $0]) }, mask: [true, true, true], into: &p)
            if p.indices.max(by: { p[$0] < p[$1] })! == Int(act[i]) { agree += 1 }
        }
        XCTAssertGreaterThan(agree, 450, "the clone's most likely action matches the logged one on \(agree) of 500")
    }
}
