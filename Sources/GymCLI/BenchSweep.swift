import ArgumentParser
import Foundation
import GymRunner
import GymScenario

struct BenchSweep: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "A sweep on 1 thread, then on --threads: wall times, the speed-up, and a check that both reports are byte-identical.",
        discussion: "Default sweep: scenarios/sweeps/baseline_exposure_distress.yaml (2 parameters x 3 values x 3 seeds of the baseline). Runs into temporary directories that are removed afterwards. Build with -c release."
    )

    @Argument(help: "The sweep file.")
    var file: String = "scenarios/sweeps/baseline_exposure_distress.yaml"

    @Option(help: "Threads of the parallel run.")
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    func validate() throws {
        guard (2...1024).contains(threads) else { throw ValidationError("--threads must be in [2, 1024], got \(threads)") }
    }

    func run() throws {
        let sweep: SweepFile
        do { sweep = try SweepLoader.load(path: file) } catch let e as ScenarioError { printError(e.description); throw Exit.dataError }
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("optima-bench-sweep-\(getpid())")
        defer { try? FileManager.default.removeItem(at: root) }
        var seconds: [Double] = []
        var reports: [[String]] = []
        for t in [1, threads] {
            let dir = root.appendingPathComponent("t\(t)")
            let t0 = DispatchTime.now().uptimeNanoseconds
            _ = try Sweep.run(sweep, dir: dir, shard: (0, 1), threads: t, resume: false, progress: nil)
            try SweepMerge.merge([dir], into: dir)
            seconds.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
            reports.append(try SweepMerge.reportFiles.map { try String(contentsOf: dir.appendingPathComponent($0), encoding: .utf8) })
            print(String(format: "%d thread%@: %d cells in %.2f s", t, t == 1 ? "" : "s", sweep.cellCount, seconds.last!))
        }
        print(String(format: "speed-up %.2fx on %d threads; reports byte-identical: %@", seconds[0] / seconds[1], threads, reports[0] == reports[1] ? "yes" : "NO"))
        if reports[0] != reports[1] { throw Exit.software }
    }
}
