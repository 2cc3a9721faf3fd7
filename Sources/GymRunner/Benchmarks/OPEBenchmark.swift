import Foundation
import GymData
import GymEval
import GymRandom

/// `bench ope`: IPS, SNIPS and DR with bootstrap intervals at scale, on rows resampled from the
/// Open Bandit Dataset's Random log (the workload of bench/peers/ope_obp.py).
public enum OPEBenchmark {
    public struct Result: Sendable {
        public var estimates: [OPEEstimate]
        public var points: [OPEEstimate]
        public var buildSeconds: Double, pointSeconds: Double, intervalSeconds: Double, totalSeconds: Double
        public var peakRSSMegabytes: Double
    }

    public static func run(data: String, n: Int, resamples: Int, threads: Int, seed: UInt64) throws -> Result {
        let t0 = DispatchTime.now().uptimeNanoseconds
        func since(_ t: UInt64) -> Double { Double(DispatchTime.now().uptimeNanoseconds - t) / 1e9 }
        let source = try LogImport.openBandit(directory: data, policy: "random", campaign: "all")
        let root = SeedTree(root: seed)
        let s = root.child("bench.ope.rows").stream(.taus2)
        var action = [Int32](repeating: 0, count: n), position = action
        var reward = [Double](repeating: 0, count: n), pscore = reward
        for i in 0..<n {
            let j = s.uniformInt(source.count)
            action[i] = source.action[j]; position[i] = source.position[j]; reward[i] = source.reward[j]; pscore[i] = source.pscore[j]
        }
        let log = LoggedBandit(actions: 80, positions: 3, action: action, position: position, reward: reward, pscore: pscore,
                               context: [], contextDimension: 0, source: "resampled random/all")
        let ls = root.child("bench.ope.table").stream()
        var table = [Double](repeating: 0, count: 80 * 3)
        for a in 0..<80 { for p in 0..<3 { table[a * 3 + p] = exp(ls.standardNormal()) } }
        for p in 0..<3 { let z = (0..<80).reduce(0) { $0 + table[$1 * 3 + p] }; for a in 0..<80 { table[a * 3 + p] /= z } }
        let target = ContextFreePolicy(actions: 80, positions: 3, table: table, name: "softmax")
        let build = since(t0)
        let t1 = DispatchTime.now().uptimeNanoseconds
        let q = log.meanReward
        let w = OPERows.weights(log, target)
        let rows = OPERows(w: w, r: log.reward, dm: [Double](repeating: q, count: n), q: [Double](repeating: q, count: n))
        let point = OPE.estimate(rows, estimators: [.ips, .snips, .dr], resamples: 10, seed: root, threads: 1)
        let pointSeconds = since(t1)
        let t2 = DispatchTime.now().uptimeNanoseconds
        let est = OPE.estimate(rows, estimators: [.ips, .snips, .dr], resamples: resamples, seed: root, threads: threads)
        let intervals = since(t2)
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Result(estimates: est, points: point, buildSeconds: build, pointSeconds: pointSeconds, intervalSeconds: intervals,
                      totalSeconds: since(t0), peakRSSMegabytes: Double(usage.ru_maxrss) / 1024)
    }
}
