import Foundation
import GymAgents
import GymLinalg
import GymRandom

/// `bench cql`: discrete CQL's gradient steps per second on the workload of
/// bench/peers/offline_rl_d3rlpy.py: N transitions in episodes of a fixed length, observations an
/// AR(1) process per episode (o_0 ~ N(0, I), o_{t+1} = 0.9 o_t + 0.436 N(0, I)), actions from a
/// softmax over o W_b, reward 1 when the action is the argmax of o W_r (W_b, W_r ~ N(0, 1/D)), a
/// terminal on each episode's last step. The same distributions as the peer's numpy generator,
/// drawn from GSL (the figure of interest is the step rate, not the data).
public enum CQLBenchmark {
    public struct Result: Sendable {
        public var steps: Int, batch: Int, hidden: [Int]
        public var generateSeconds: Double, trainSeconds: Double
        public var stepsPerSecond: Double { Double(steps) / trainSeconds }
        public var gflops: Double
        public var last: CQLStepStats
        public var peakRSS: Double
    }

    public static func data(transitions n: Int, dimension D: Int, actions A: Int, episodeLength L: Int, seed: UInt64) -> Transitions {
        let s = SeedTree(root: seed).child("bench.cql.data").stream(.taus2)
        let scale = 1 / Double(D).squareRoot()
        let wb = (0..<(D * A)).map { _ in s.standardNormal() * scale }, wr = (0..<(D * A)).map { _ in s.standardNormal() * scale }
        var obs = [Float](repeating: 0, count: n * D), act = [Int32](repeating: 0, count: n), rew = [Float](repeating: 0, count: n)
        var o = [Double](repeating: 0, count: D), logits = [Double](repeating: 0, count: A), value = logits
        for i in 0..<n {
            if i % L == 0 { for d in 0..<D { o[d] = s.standardNormal() } } else { for d in 0..<D { o[d] = 0.9 * o[d] + 0.436 * s.standardNormal() } }
            for d in 0..<D { obs[i * D + d] = Float(o[d]) }
            for a in 0..<A {
                var z = 0.0, v = 0.0
                for d in 0..<D { z += Double(obs[i * D + d]) * wb[d * A + a]; v += Double(obs[i * D + d]) * wr[d * A + a] }
                logits[a] = z; value[a] = v
            }
            let m = logits.max()!
            let p = logits.map { exp($0 - m) }, total = p.reduce(0, +)
            var u = s.uniform() * total, a = 0
            while a < A - 1 && u >= p[a] { u -= p[a]; a += 1 }
            act[i] = Int32(a)
            rew[i] = a == value.indices.max(by: { value[$0] < value[$1] })! ? 1 : 0
        }
        var next = [Float](repeating: 0, count: n * D), discount = [Float](repeating: 0.99, count: n)
        for i in 0..<n {
            let last = i % L == L - 1 || i == n - 1
            if last { discount[i] = 0 } else { for d in 0..<D { next[i * D + d] = obs[(i + 1) * D + d] } }
        }
        return Transitions(dimension: D, actions: A, observation: obs, nextObservation: next, action: act, reward: rew, discount: discount,
                           bootstrap: [Bool](repeating: true, count: n))
    }

    public static func run(transitions: Int, dimension: Int, actions: Int, episodeLength: Int, hidden: [Int], batch: Int, steps: Int,
                           seed: UInt64, progress: Progress?) -> Result {
        func since(_ t: UInt64) -> Double { Double(DispatchTime.now().uptimeNanoseconds - t) / 1e9 }
        let t0 = DispatchTime.now().uptimeNanoseconds
        let d = data(transitions: transitions, dimension: dimension, actions: actions, episodeLength: episodeLength, seed: seed)
        let generate = since(t0)
        var c = CQLConfig()
        c.hidden = hidden; c.batchSize = batch
        let cql = DiscreteCQL(dimension: dimension, actions: actions, config: c, seed: SeedTree(root: seed).child("bench.cql"))
        var last = CQLStepStats(td: 0, conservative: 0, meanQ: 0)
        progress?.begin(total: steps)
        let t1 = DispatchTime.now().uptimeNanoseconds
        cql.train(d, steps: steps) { k, s in
            last = s
            if k % 1000 == 0 { progress?.update("bench cql", done: k, total: steps) }
        }
        let train = since(t1)
        progress?.finish()
        let flops = DiscreteCQL.flopsPerStep(dimension: dimension, hidden: hidden, actions: actions, batch: batch) * Double(steps)
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Result(steps: steps, batch: batch, hidden: hidden, generateSeconds: generate, trainSeconds: train, gflops: flops / train / 1e9,
                      last: last, peakRSS: Double(usage.ru_maxrss) / 1024)
    }
}
