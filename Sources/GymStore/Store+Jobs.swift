import Foundation
import GRDB

/// Background jobs of `optima-gym serve` (`POST /api/ml/train`): one row per job, its state moved
/// queued -> running -> succeeded | failed | interrupted, each move one transaction. A job found
/// queued or running when a server starts or stops was cut short by a crash or a shutdown and is
/// marked interrupted: no job is left looking alive.
public struct JobRecord: Sendable, Equatable {
    public var jobID: String
    /// run | sweep
    public var kind: String
    /// The scenario or sweep name the job was asked for.
    public var target: String
    public var seed: UInt64?
    /// queued | running | succeeded | failed | interrupted | cancelled
    public var status: String
    public var createdAt: String
    public var startedAt: String?
    public var finishedAt: String?
    /// The registered run (or sweep) the job made.
    public var runID: String?
    public var gatePassed: Bool?
    /// Why it failed or was interrupted.
    public var message: String?

    public init(jobID: String, kind: String, target: String, seed: UInt64?, createdAt: String) {
        self.jobID = jobID; self.kind = kind; self.target = target; self.seed = seed; status = "queued"; self.createdAt = createdAt
    }

    public var finished: Bool { ["succeeded", "failed", "interrupted", "cancelled"].contains(status) }
}

extension Store {
    static func createJobs(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE jobs (
                job_id TEXT PRIMARY KEY NOT NULL,
                kind TEXT NOT NULL,              -- run | sweep
                target TEXT NOT NULL,            -- the scenario or sweep name
                seed TEXT,
                status TEXT NOT NULL,            -- queued | running | succeeded | failed | interrupted | cancelled
                created_at TEXT NOT NULL,
                started_at TEXT,
                finished_at TEXT,
                run_id TEXT,
                gate_passed INTEGER,
                message TEXT
            );
            """)
    }

    static func job(_ row: Row) -> JobRecord {
        var j = JobRecord(jobID: row["job_id"], kind: row["kind"], target: row["target"], seed: (row["seed"] as String?).flatMap { UInt64($0) },
                          createdAt: row["created_at"])
        j.status = row["status"]; j.startedAt = row["started_at"]; j.finishedAt = row["finished_at"]
        j.runID = row["run_id"]; j.gatePassed = row["gate_passed"]; j.message = row["message"]
        return j
    }

    /// Records a new queued job.
    public func addJob(_ j: JobRecord) throws {
        try write { db in
            try db.execute(sql: "INSERT INTO jobs (job_id, kind, target, seed, status, created_at) VALUES (?, ?, ?, ?, 'queued', ?)",
                           arguments: [j.jobID, j.kind, j.target, j.seed.map(String.init), j.createdAt])
        }
    }

    /// Moves a job on: to running (with its start time), or to a finished state with its outcome.
    /// A job already finished is never changed again.
    @discardableResult
    public func updateJob(_ j: JobRecord) throws -> Bool {
        try write { db in
            try db.execute(sql: """
                UPDATE jobs SET status = ?, started_at = ?, finished_at = ?, run_id = ?, gate_passed = ?, message = ?
                WHERE job_id = ? AND status IN ('queued', 'running')
                """, arguments: [j.status, j.startedAt, j.finishedAt, j.runID, j.gatePassed, j.message, j.jobID])
            return db.changesCount == 1
        }
    }

    public func job(_ id: String) throws -> JobRecord {
        try read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM jobs WHERE job_id = ?", arguments: [id]) else {
                throw StoreError.notFound(path: path, what: "no job '\(id)'")
            }
            return Store.job(row)
        }
    }

    /// The newest jobs first.
    public func jobs(limit: Int = 100) throws -> [JobRecord] {
        try read { db in try Row.fetchAll(db, sql: "SELECT * FROM jobs ORDER BY created_at DESC, job_id DESC LIMIT ?", arguments: [limit]).map(Store.job) }
    }

    /// Marks every queued or running job interrupted (a server starting after a crash, or stopping).
    @discardableResult
    public func interruptJobs(reason: String) throws -> Int {
        let at = Store.now()
        return try write { db in
            try db.execute(sql: "UPDATE jobs SET status = 'interrupted', finished_at = ?, message = ? WHERE status IN ('queued', 'running')",
                           arguments: [at, reason])
            return db.changesCount
        }
    }

    /// The run registered from a report directory (a sweep's merged report), if any.
    public func runID(reportDir: String) throws -> String? {
        try read { db in try String.fetchOne(db, sql: "SELECT run_id FROM runs WHERE report_dir = ? ORDER BY run_key DESC LIMIT 1", arguments: [reportDir]) }
    }
}
