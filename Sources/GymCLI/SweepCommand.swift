import ArgumentParser
import Foundation
import GymRunner

struct SweepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "Run a scenario sweep (parameters x seeds) on all cores, or one shard of it, and merge the results into one report.",
        discussion: """
        The sweep file (scenarios/sweeps/*.yaml) names a base scenario, the parameters to vary by key path (grid lists or random draws), the seeds and the metrics to rank by; `optima-gym check FILE` validates it. Every cell (setting x seed) runs the base scenario with its overrides on one thread; cells run in parallel on --threads. Each finished cell is written atomically to <out>/cells/NNNNNN.json (a JSON object whose "checksum" field covers the rest); the report (report.md, cells.csv, settings.csv, charts/*.svg) is written at the end. It depends only on the cells: any thread count or sharding gives the same bytes.
        Sharding: --shard i/n runs cells k with k % n == i. Without --shard, the slice comes from JOB_COMPLETION_INDEX with OPTIMA_SHARD_COUNT (a Kubernetes Indexed Job) or from SLURM_ARRAY_TASK_ID - SLURM_ARRAY_TASK_MIN and SLURM_ARRAY_TASK_COUNT (a Slurm job array). A shard writes its cells and no report; `optima-gym sweep merge DIR... --out DEST` checks that the shards are one complete sweep, writes the report and imports every cell into the store. Shards never write the store themselves: SQLite's locking and write-ahead log need a local filesystem, and a cluster's shared directories are usually NFS or Lustre, so the one machine that merges imports them.
        Resume: after a crash (even kill -9), run the same command with --resume --out DIR: finished cells are kept, damaged or missing ones are run again, and the result equals an uninterrupted run.
        """,
        subcommands: [SweepRunCommand.self, SweepMergeCommand.self],
        defaultSubcommand: SweepRunCommand.self
    )
}

struct SweepRunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "run", abstract: "Run a sweep (the default: `optima-gym sweep FILE`).")

    @Argument(help: "The sweep file.")
    var file: String

    @Option(help: "Output directory. Default: reports/<sweep>/<run-id>/ (a shard: reports/<sweep>/shard-<i>-of-<n>/). Must not hold anything but this sweep's own cells (with --resume).")
    var out: String?

    @Option(help: "Run only slice i of n (0-based), e.g. 2/4.")
    var shard: String?

    @Flag(help: "Continue an interrupted sweep in --out: keep finished cells, run the rest.")
    var resume = false

    @OptionGroup var threads: ThreadsOption
    @OptionGroup var quiet: QuietOption
    @OptionGroup var store: StoreOption

    func resolvedShard() throws -> (Int, Int) {
        switch SweepJob.resolveShard(flag: shard, environment: ProcessInfo.processInfo.environment) {
        case .success(let s): return s
        case .failure(let e): throw ValidationError(e.description)
        }
    }

    func validate() throws {
        if resume && out == nil { throw ValidationError("--resume needs --out, the directory of the interrupted sweep") }
        if let out, out.isEmpty { throw ValidationError("--out must not be empty") }
        _ = try resolvedShard()
    }

    func run() throws {
        let s = try resolvedShard()
        // A shard never writes the store (it may sit on a network filesystem); `sweep merge` imports it.
        let o = try SweepJob.run(file: file, out: out, shard: s, threads: threads.threads, resume: resume, progress: Progress(enabled: !quiet.quiet),
                                 storePath: s.1 == 1 ? store.path : nil)
        if s.1 == 1 {
            print("sweep \(o.sweep): \(o.cellCount) cells in \(String(format: "%.1f", o.seconds)) s; report in \(o.destination.path)/report.md")
        } else {
            print("sweep \(o.sweep) shard \(s.0)/\(s.1): done in \(String(format: "%.1f", o.seconds)) s; cells in \(o.destination.path); merge with `optima-gym sweep merge DIR... --out DEST`")
        }
    }
}

struct SweepMergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Merge sweep shards into one report (identical to the same sweep run in one process).",
        discussion: "Checks that every directory holds the same sweep (fingerprint of the sweep file, its base scenario and the optima-gym version) and that together they hold every cell exactly once (a cell present twice must be identical). A missing shard, a shard of another sweep or version, or a corrupt cell file exits 65 naming it; nothing in the shard directories is changed. The cells are then registered in the store (one run of kind sweep-cell per cell, with its parameters in sweep_cells), in one transaction."
    )

    @Argument(help: "Shard output directories.")
    var dirs: [String]

    @Option(help: "Destination directory (must not exist or be empty).")
    var out: String

    @OptionGroup var store: StoreOption
    @OptionGroup var quiet: QuietOption

    func validate() throws {
        if dirs.isEmpty { throw ValidationError("give at least one shard directory") }
        if out.isEmpty { throw ValidationError("--out must not be empty") }
    }

    func run() throws {
        let m = try SweepJob.merge(dirs, out: out, storePath: store.path, progress: Progress(enabled: !quiet.quiet))
        print("merged \(dirs.count) director\(dirs.count == 1 ? "y" : "ies") of sweep \(m.sweep) (\(m.cellCount) cells) into \(out)/report.md")
    }
}
