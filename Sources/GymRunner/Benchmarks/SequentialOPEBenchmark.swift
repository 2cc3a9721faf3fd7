import Foundation
import GymData
import GymEval
import GymRandom

/// `bench ope-sequential`: the sequential estimators at scale on the log that
/// bench/peers/ope_scope_rl.py writes (`--write-logs FILE`, with FILE.mdp.json beside it).
public enum SequentialOPEBenchmark {
    public struct Result: Sendable {
        public var rows: Int, trajectories: Int, horizon: Int
        public var estimates: [SequentialEstimate]
        /// Seconds: reading the log, the five estimators' points and intervals (DR given the exact
        /// Q), tabular FQE.
        /// (the per-row discount included; the exact Q per row, as the peer's, built before).
        public var readSeconds: Double, estimateSeconds: Double, fqeSeconds: Double
        public var fqeValue: Double
        /// MLP FQE (one network on all rows, as the peer's): seconds to fit and to predict Q on every
        /// row, its fqe and dr values (nil when skipped), peak memory after it.
        public var mlpFitSeconds = 0.0, mlpPredictSeconds = 0.0
        public var mlpFQE: Double?, mlpDR: Double?
        public var mlpSteps = 0
        public var trueValue: Double
        public var peakRSSAfterRead: Double, peakRSS: Double
    }

    static func peakRSS() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_maxrss) / 1024
    }

    public static func run(logs: String, resamples: Int, threads: Int, seed: UInt64, mlpSteps: Int = 0) throws -> Result {
        func since(_ t: UInt64) -> Double { Double(DispatchTime.now().uptimeNanoseconds - t) / 1e9 }
        let metaPath = logs + ".mdp.json"
        guard let data = FileManager.default.contents(atPath: metaPath),
              let meta = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let pie = meta["evaluation_policy"] as? [[Double]], let exact = meta["exact_q"] as? [[[Double]]],
              let gamma = meta["gamma"] as? Double, let truth = meta["true_value"] as? Double else {
            throw DataError(file: metaPath, message: "not the peer's .mdp.json (evaluation_policy, exact_q, gamma, true_value)")
        }
        let t0 = DispatchTime.now().uptimeNanoseconds
        let log = try LogImport.trajectoryCSV(path: logs, actions: pie[0].count)
        let read = since(t0)
        let rssRead = peakRSS()
        let A = pie[0].count
        let target = TrajectoryTarget(actions: A, table: pie.flatMap { $0 }, byState: true, name: "pi_e")
        // The exact Q per row is built outside the timing, as the peer builds it before timing.
        let discount = Discounting.perStep(gamma)
        var q = StepQ(logged: [Double](repeating: 0, count: log.rows.count), value: [Double](repeating: 0, count: log.rows.count), model: "exact")
        for i in 0..<log.count {
            for j in log.offsets[i]..<log.offsets[i + 1] {
                let row = exact[j - log.offsets[i]][Int(log.state[j])]
                q.logged[j] = row[Int(log.rows.action[j])]
                var v = 0.0
                for a in 0..<A { v += target.table[Int(log.state[j]) * A + a] * row[a] }
                q.value[j] = v
            }
        }
        let t1 = DispatchTime.now().uptimeNanoseconds
        let d = discount.factors(log)
        var o = SequentialOPE.Options(seed: SeedTree(root: seed))
        o.resamples = resamples; o.threads = threads
        let (est, _) = SequentialOPE.run(log, target: target, q: q, discount: d, options: o)
        let estimateSeconds = since(t1)
        let t2 = DispatchTime.now().uptimeNanoseconds
        let fitted = TabularFQE.fit(log, target: target, nextFactor: discount.nextFactors(log))
        var fqe = 0.0
        for i in 0..<log.count { fqe += fitted.value[log.offsets[i]] }
        let fqeSeconds = since(t2)
        var r = Result(rows: log.rows.count, trajectories: log.count, horizon: log.horizon, estimates: est, readSeconds: read,
                       estimateSeconds: estimateSeconds, fqeSeconds: fqeSeconds, fqeValue: fqe / Double(log.count), trueValue: truth,
                       peakRSSAfterRead: rssRead, peakRSS: 0)
        if mlpSteps > 0 {
            // The peer's FQE workload: one network (no cross-fitting), mlpSteps steps of batch 100,
            // then Q on every row; the prediction's share is timed by a zero-step fit.
            var m = MLPFQE.Settings()
            m.folds = 1; m.steps = mlpSteps
            let next = discount.nextFactors(log)
            let t3 = DispatchTime.now().uptimeNanoseconds
            let fitted = MLPFQE.fit(log, target: target, nextFactor: next, settings: m, seed: SeedTree(root: seed))
            let total = since(t3)
            m.steps = 0
            let t4 = DispatchTime.now().uptimeNanoseconds
            _ = MLPFQE.fit(log, target: target, nextFactor: next, settings: m, seed: SeedTree(root: seed))
            r.mlpPredictSeconds = since(t4); r.mlpFitSeconds = total - r.mlpPredictSeconds; r.mlpSteps = mlpSteps
            var v = 0.0
            for i in 0..<log.count { v += fitted.value[log.offsets[i]] }
            r.mlpFQE = v / Double(log.count)
            var o2 = SequentialOPE.Options(seed: SeedTree(root: seed))
            o2.resamples = 0; o2.threads = threads
            r.mlpDR = SequentialOPE.run(log, target: target, q: fitted, discount: d, options: o2).estimates.first { $0.estimator == .dr }?.value
        }
        r.peakRSS = peakRSS()
        return r
    }
}
