import ArgumentParser
import Foundation
import GymData
import GymEval
import GymRandom
import GymSynth

struct BenchOPE: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ope",
        abstract: "Off-policy estimation at scale against ../shared/bench/peers/ope_obp.py: IPS, SNIPS and DR with bootstrap intervals on rows resampled from the Open Bandit Dataset's Random log.",
        discussion: "As the peer script: n rows drawn with replacement from random/all/all.csv (80 items, 3 positions), a fixed 80 x 3 target table (softmax over items of standard normal logits), DR with a constant reward model (the mean click). The target is context-free, so nothing of size rows x actions is held. Prints the seconds of each step and the peak resident memory. Build with -c release."
    )

    @Option(help: "The Open Bandit Dataset directory.")
    var data: String = "../shared/data/obd"
    @Option(help: "Logged rows.")
    var n: Int = 1_000_000
    @Option(help: "Bootstrap resamples.")
    var resamples: Int = 1000
    @Option(help: "Worker threads.")
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount
    @Option(help: "Seed.")
    var seed: UInt64 = 1

    func validate() throws {
        guard (1000...100_000_000).contains(n) else { throw ValidationError("--n must be in [1000, 100000000], got \(n)") }
        guard (10...100_000).contains(resamples) else { throw ValidationError("--resamples must be in [10, 100000], got \(resamples)") }
        guard (1...256).contains(threads) else { throw ValidationError("--threads must be in [1, 256], got \(threads)") }
    }

    func run() throws {
        let t0 = DispatchTime.now().uptimeNanoseconds
        func since(_ t: UInt64) -> Double { Double(DispatchTime.now().uptimeNanoseconds - t) / 1e9 }
        let source: LoggedBandit
        do { source = try LogImport.openBandit(directory: data, policy: "random", campaign: "all") } catch let e as DataError {
            printError(e.description); throw Exit.dataError
        }
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
        for (e, p) in zip(est, point) {
            print(String(format: "%@: %.6f [%.6f, %.6f]", e.estimator.title as NSString, p.value, e.ciLow, e.ciHigh))
        }
        print(String(format: "%d rows: build %.2f s, point estimates %.3f s, IPS + SNIPS + DR with %d-resample intervals %.2f s on %d threads; total %.2f s",
                     n, build, pointSeconds, resamples, intervals, threads, since(t0)))
        print(String(format: "peak RSS %.0f MB", Double(usage.ru_maxrss) / 1024))
    }
}
