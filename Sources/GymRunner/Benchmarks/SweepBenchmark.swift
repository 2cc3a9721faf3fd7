import Foundation
import GymData
import GymScenario

/// `bench sweep`: a sweep on 1 thread, then on `threads`, with a byte comparison of the reports.
public enum SweepBenchmark {
    public static func run(file: String, threads: Int, report: (Int, Int, Double) -> Void) throws -> (seconds: [Double], identical: Bool) {
        let sweep = try SweepLoader.load(path: file)
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("optima-bench-sweep-\(getpid())")
        defer { try? FileManager.default.removeItem(at: root) }
        var seconds: [Double] = []
        var reports: [[Data]] = []
        for t in [1, threads] {
            let dir = root.appendingPathComponent("t\(t)")
            let t0 = DispatchTime.now().uptimeNanoseconds
            _ = try Sweep.run(sweep, dir: dir, shard: (0, 1), threads: t, resume: false, progress: nil)
            try SweepMerge.merge([dir], into: dir)
            seconds.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
            reports.append(SweepMerge.reportFiles.map { FileManager.default.contents(atPath: dir.appendingPathComponent($0).path) ?? Data() })
            report(t, sweep.cellCount, seconds.last!)
        }
        return (seconds, reports[0] == reports[1])
    }
}
