import Foundation
import GymData
import GymScenario

/// `sweep` and `sweep merge` from start to finish.
public enum SweepJob {
    /// The slice to run: `flag` ("i/n"), else a Kubernetes Indexed Job's JOB_COMPLETION_INDEX with
    /// OPTIMA_SHARD_COUNT, else a Slurm array's SLURM_ARRAY_TASK_ID - SLURM_ARRAY_TASK_MIN with
    /// SLURM_ARRAY_TASK_COUNT, else the whole sweep (0, 1). nil with a message when malformed.
    public static func resolveShard(flag: String?, environment env: [String: String]) -> Result<(Int, Int), ShardError> {
        if let flag {
            let p = flag.split(separator: "/")
            guard p.count == 2, let i = Int(p[0]), let n = Int(p[1]), n >= 1, n <= 100_000, i >= 0, i < n else {
                return .failure(ShardError("--shard must be i/n with 0 <= i < n, got '\(flag)'"))
            }
            return .success((i, n))
        }
        if let idx = env["JOB_COMPLETION_INDEX"] {
            guard let i = Int(idx), let n = env["OPTIMA_SHARD_COUNT"].flatMap(Int.init), i >= 0, i < n else {
                return .failure(ShardError("JOB_COMPLETION_INDEX=\(idx) needs OPTIMA_SHARD_COUNT (the Indexed Job's completions) with 0 <= index < count"))
            }
            return .success((i, n))
        }
        if let id = env["SLURM_ARRAY_TASK_ID"] {
            let min = env["SLURM_ARRAY_TASK_MIN"].flatMap(Int.init) ?? 0
            guard let t = Int(id), let n = env["SLURM_ARRAY_TASK_COUNT"].flatMap(Int.init), t - min >= 0, t - min < n else {
                return .failure(ShardError("SLURM_ARRAY_TASK_ID=\(id) needs SLURM_ARRAY_TASK_COUNT (and SLURM_ARRAY_TASK_MIN) with 0 <= id - min < count"))
            }
            return .success((t - min, n))
        }
        return .success((0, 1))
    }

    public struct ShardError: Error, CustomStringConvertible {
        public let description: String
        init(_ d: String) { description = d }
    }

    public struct Outcome: Sendable {
        public var sweep: String
        public var cellCount: Int
        public var shard: (Int, Int)
        public var destination: URL
        public var seconds: Double
    }

    /// Runs a sweep (or one shard) into `out` (default reports/<sweep>/<run-id>, a shard
    /// reports/<sweep>/shard-<i>-of-<n>); a whole sweep is merged into its report at the end.
    public static func run(file: String, out: String?, shard: (Int, Int), threads: Int, resume: Bool, progress: Progress,
                           storePath: String? = nil) throws -> Outcome {
        let sweep = try SweepLoader.load(path: file)
        let started = Date()
        let dest = URL(fileURLWithPath: out ?? (shard.1 > 1 ? "reports/\(sweep.name)/shard-\(shard.0)-of-\(shard.1)"
                                                 : "reports/\(sweep.name)/\(makeRunID(started: started, seed: sweep.seed))"))
        progress.note("optima-gym \(projectVersion): sweep \(sweep.name), \(sweep.cellCount) cells"
                      + (shard.1 > 1 ? ", shard \(shard.0)/\(shard.1) (\(Sweep.cells(of: sweep.cellCount, shard: shard).count) cells)" : "")
                      + ", \(threads) threads, into \(dest.path)")
        do {
            defer { progress.finish() }
            _ = try Sweep.run(sweep, dir: dest, shard: shard, threads: threads, resume: resume, progress: progress)
        }
        if shard.1 == 1 {
            let m = try SweepMerge.merge([dest], into: dest)
            if let storePath { try register(merged: dest, manifest: m, storePath: storePath, progress: progress) }
        }
        return Outcome(sweep: sweep.name, cellCount: sweep.cellCount, shard: shard, destination: dest, seconds: Date().timeIntervalSince(started))
    }

    /// Merges shard directories into `out`, through a temporary directory renamed into place: a
    /// failed merge leaves nothing behind, and the shard directories are never changed.
    public static func merge(_ dirs: [String], out: String, storePath: String? = nil, progress: Progress? = nil) throws -> SweepManifest {
        let dest = URL(fileURLWithPath: out)
        let dir = try AtomicDirectory(destination: dest)
        let m = try SweepMerge.merge(dirs.map { URL(fileURLWithPath: $0) }, into: dir.temporaryURL)
        try dir.commit()
        if let storePath { try register(merged: dest, manifest: m, storePath: storePath, progress: progress) }
        return m
    }
}
