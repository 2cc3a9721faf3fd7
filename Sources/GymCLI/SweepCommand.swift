import ArgumentParser
import Foundation
import GymRunner
import GymScenario

struct SweepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "Run a scenario sweep (parameters x seeds) on all cores, or one shard of it, and merge the results into one report.",
        discussion: """
        The sweep file (scenarios/sweeps/*.yaml) names a base scenario, the parameters to vary by key path (grid lists or random draws), the seeds and the metrics to rank by; `optima-gym check FILE` validates it. Every cell (setting x seed) runs the base scenario with its overrides on one thread; cells run in parallel on --threads. Each finished cell is written atomically to <out>/cells/NNNNNN.json with a checksum; the report (report.md, cells.csv, settings.csv, charts/*.svg) is written at the end. It depends only on the cells: any thread count or sharding gives the same bytes.
        Sharding: --shard i/n runs cells k with k % n == i. Without --shard, the slice comes from JOB_COMPLETION_INDEX with OPTIMA_SHARD_COUNT (a Kubernetes Indexed Job) or from SLURM_ARRAY_TASK_ID - SLURM_ARRAY_TASK_MIN and SLURM_ARRAY_TASK_COUNT (a Slurm job array). A shard writes its cells and no report; `optima-gym sweep merge DIR... --out DEST` checks that the shards are one complete sweep and writes the report.
        Resume: after a crash (even kill -9), run the same command with --resume --out DIR: finished cells are kept, damaged or missing ones are run again, and the result equals an uninterrupted run.
        """,
        subcommands: [SweepRun.self, SweepMergeCommand.self],
        defaultSubcommand: SweepRun.self
    )
}

struct SweepRun: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "run", abstract: "Run a sweep (the default: `optima-gym sweep FILE`).")

    @Argument(help: "The sweep file.")
    var file: String

    @Option(help: "Output directory. Default: reports/<sweep>/<run-id>/ (a shard: reports/<sweep>/shard-<i>-of-<n>/).")
    var out: String?

    @Option(help: "Run only slice i of n (0-based), e.g. 2/4.")
    var shard: String?

    @Flag(help: "Continue an interrupted sweep in --out: keep finished cells, run the rest.")
    var resume = false

    @Option(help: "Cells run in parallel. Results do not depend on it. Default: all cores.")
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    @Flag(help: "No progress output on stderr.")
    var quiet = false

    static func parseShard(_ s: String) -> (Int, Int)? {
        let p = s.split(separator: "/")
        guard p.count == 2, let i = Int(p[0]), let n = Int(p[1]), n >= 1, n <= 100_000, i >= 0, i < n else { return nil }
        return (i, n)
    }

    /// --shard, else the cluster's environment, else the whole sweep.
    func resolveShard() throws -> (Int, Int) {
        if let shard {
            guard let s = Self.parseShard(shard) else { throw ValidationError("--shard must be i/n with 0 <= i < n, got '\(shard)'") }
            return s
        }
        let env = ProcessInfo.processInfo.environment
        if let idx = env["JOB_COMPLETION_INDEX"] {
            guard let i = Int(idx), let n = env["OPTIMA_SHARD_COUNT"].flatMap(Int.init), i >= 0, i < n else {
                throw ValidationError("JOB_COMPLETION_INDEX=\(idx) needs OPTIMA_SHARD_COUNT (the Indexed Job's completions) with 0 <= index < count")
            }
            return (i, n)
        }
        if let id = env["SLURM_ARRAY_TASK_ID"] {
            let min = env["SLURM_ARRAY_TASK_MIN"].flatMap(Int.init) ?? 0
            guard let t = Int(id), let n = env["SLURM_ARRAY_TASK_COUNT"].flatMap(Int.init), t - min >= 0, t - min < n else {
                throw ValidationError("SLURM_ARRAY_TASK_ID=\(id) needs SLURM_ARRAY_TASK_COUNT (and SLURM_ARRAY_TASK_MIN) with 0 <= id - min < count")
            }
            return (t - min, n)
        }
        return (0, 1)
    }

    func validate() throws {
        guard (1...1024).contains(threads) else { throw ValidationError("--threads must be in [1, 1024], got \(threads)") }
        if resume && out == nil { throw ValidationError("--resume needs --out, the directory of the interrupted sweep") }
        _ = try resolveShard()
    }

    func run() throws {
        let sweep: SweepFile
        do { sweep = try SweepLoader.load(path: file) } catch let e as ScenarioError { printError(e.description); throw Exit.dataError }
        let shard = try resolveShard()
        let started = Date()
        let dest = URL(fileURLWithPath: out ?? (shard.1 > 1 ? "reports/\(sweep.name)/shard-\(shard.0)-of-\(shard.1)"
                                                 : "reports/\(sweep.name)/\(makeRunID(started: started, seed: sweep.seed))"))
        let progress = Progress(enabled: !quiet)
        progress.note("optima-gym \(projectVersion): sweep \(sweep.name), \(sweep.cellCount) cells"
                      + (shard.1 > 1 ? ", shard \(shard.0)/\(shard.1) (\(Sweep.cells(of: sweep.cellCount, shard: shard).count) cells)" : "")
                      + ", \(threads) threads, into \(dest.path)")
        do {
            _ = try Sweep.run(sweep, dir: dest, shard: shard, threads: threads, resume: resume, progress: progress)
            progress.finish()
            if shard.1 == 1 {
                try SweepMerge.merge([dest], into: dest)
                print("sweep \(sweep.name): \(sweep.cellCount) cells in \(String(format: "%.1f", Date().timeIntervalSince(started))) s; report in \(dest.path)/report.md")
            } else {
                print("sweep \(sweep.name) shard \(shard.0)/\(shard.1): done in \(String(format: "%.1f", Date().timeIntervalSince(started))) s; cells in \(dest.path); merge with `optima-gym sweep merge DIR... --out DEST`")
            }
        } catch let e as OutputError {
            progress.finish()
            printError("error: \(e)" + (resume ? "" : " (to continue an interrupted sweep, add --resume)"))
            throw Exit.usage
        } catch let e as SweepError {
            progress.finish(); printError(e.description); throw Exit.dataError
        } catch let e as ScenarioError {
            progress.finish(); printError(e.description); throw Exit.dataError
        } catch {
            progress.finish(); printError("error: \(file): \(error)"); throw Exit.dataError
        }
    }
}

struct SweepMergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Merge sweep shards into one report (identical to the same sweep run in one process).",
        discussion: "Checks that every directory holds the same sweep (fingerprint of the sweep file, its base scenario and the optima-gym version) and that together they hold every cell exactly once (a cell present twice must be identical). A missing shard, a shard of another sweep or version, or a corrupt cell file exits 65 naming it; nothing in the shard directories is changed."
    )

    @Argument(help: "Shard output directories.")
    var dirs: [String]

    @Option(help: "Destination directory (must not exist or be empty).")
    var out: String

    func validate() throws {
        if dirs.isEmpty { throw ValidationError("give at least one shard directory") }
        try requireEmptyOutput(out)
    }

    func run() throws {
        let dest = URL(fileURLWithPath: out)
        // Merge into a hidden sibling, then rename: a failed merge leaves nothing behind.
        let tmp = dest.deletingLastPathComponent().appendingPathComponent(".tmp-merge-\(dest.lastPathComponent)-\(getpid())")
        try? FileManager.default.removeItem(at: tmp)
        do {
            try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
            let m = try SweepMerge.merge(dirs.map { URL(fileURLWithPath: $0) }, into: tmp)
            try? FileManager.default.removeItem(at: dest)
            try FileManager.default.moveItem(at: tmp, to: dest)
            print("merged \(dirs.count) director\(dirs.count == 1 ? "y" : "ies") of sweep \(m.sweep) (\(m.cellCount) cells) into \(dest.path)/report.md")
        } catch let e as SweepError {
            try? FileManager.default.removeItem(at: tmp); printError(e.description); throw Exit.dataError
        } catch {
            try? FileManager.default.removeItem(at: tmp); printError("error: \(error)"); throw Exit.dataError
        }
    }
}
