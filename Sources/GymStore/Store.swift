import Foundation
import GRDB
import GymCore

/// Why the store cannot be used. Every message names the database file.
public enum StoreError: BadInputError, Equatable {
    /// The file exists but is not an SQLite database, or is damaged.
    case corrupt(path: String, detail: String)
    /// The database was written by a newer optima-gym (it has migrations this build lacks).
    case newerSchema(path: String, unknown: [String])
    /// A query found nothing where one thing was expected (a run, a model, an alias).
    case notFound(path: String, what: String)
    /// A reference matches several things (an id prefix, a run name).
    case ambiguous(path: String, what: String, candidates: [String])
    /// No store at the path, for a command that only reads one.
    case missing(path: String)
    /// The request contradicts the store (an alias rollback with no earlier id, ...).
    case invalid(path: String, detail: String)

    public var description: String {
        switch self {
        case let .corrupt(path, detail):
            return "\(path): error: not a usable optima-gym store (\(detail)); move it aside and run again, or name another with --store"
        case let .newerSchema(path, unknown):
            return "\(path): error: written by a newer optima-gym (schema migrations \(unknown.joined(separator: ", ")) are unknown to this build \(Store.schemaVersion))"
        case let .notFound(path, what):
            return "\(path): error: \(what)"
        case let .ambiguous(path, what, candidates):
            return "\(path): error: \(what) matches \(candidates.count): \(candidates.prefix(5).joined(separator: ", "))\(candidates.count > 5 ? ", ..." : "")"
        case let .missing(path):
            return "\(path): error: no store here (runs are registered in reports/optima.sqlite by `optima-gym run`; name another with --store)"
        case let .invalid(path, detail):
            return "\(path): error: \(detail)"
        }
    }
}

/// The embedded SQLite store (GRDB): the blueprint's four tables (training_episodes,
/// reward_signals, model_checkpoints, synthetic_profiles), plus runs, their agents, metrics and
/// paired comparisons, gate verdicts, the model registry's aliases and their history, and sweep
/// cells.
///
/// - The database is in WAL mode: readers (`runs list` while a run registers) read the last
///   committed state and never wait for the writer.
/// - Every registration is one transaction: a run killed part-way leaves no row of itself.
/// - The schema is versioned by named migrations; a database with a migration this build does
///   not know is refused rather than misread.
/// - SQLite's locking needs a local filesystem (WAL's shared memory does not work over NFS), so
///   sweep shards on a cluster never write a shared store: `sweep merge` imports their directories.
public final class Store: @unchecked Sendable {
    public static let defaultPath = "reports/optima.sqlite"
    /// The last migration this build knows.
    public static var schemaVersion: String { migrator.migrations.last ?? "" }

    public let path: String
    let pool: DatabasePool
    /// One read-only connection that asks `PRAGMA data_version` (Store+Version.swift).
    let versionProbe: VersionProbe

    /// Opens (and creates, unless `mustExist`) the store at `path`, applying pending migrations.
    public init(path: String, mustExist: Bool = false) throws {
        self.path = path
        let fm = FileManager.default
        if !fm.fileExists(atPath: path) {
            if mustExist { throw StoreError.missing(path: path) }
            let dir = (path as NSString).deletingLastPathComponent
            if !dir.isEmpty { try? fm.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        } else if let handle = FileHandle(forReadingAtPath: path), let head = try? handle.read(upToCount: 16), !head.isEmpty,
                  Array(head) != Array("SQLite format 3\0".utf8) {
            throw StoreError.corrupt(path: path, detail: "the file does not start with SQLite's header")
        }
        var config = Configuration()
        // A second process registering a run waits for the first instead of failing.
        config.busyMode = .timeout(30)
        config.foreignKeysEnabled = true
        // A registration inserts hundreds of thousands of index entries in one transaction: a
        // 64 MiB page cache keeps the indexes' pages in memory instead of re-reading them.
        config.prepareDatabase { db in try db.execute(sql: "PRAGMA cache_size = -65536; PRAGMA synchronous = NORMAL") }
        do {
            pool = try DatabasePool(path: path, configuration: config)
            try pool.read { db in
                let known = Set(Store.migrator.migrations)
                let applied = try Store.migrator.appliedIdentifiers(db)
                let unknown = applied.subtracting(known).sorted()
                if !unknown.isEmpty { throw StoreError.newerSchema(path: path, unknown: unknown) }
                // Reading every page header of the schema catches a damaged file early.
                _ = try Row.fetchAll(db, sql: "SELECT name FROM sqlite_master")
            }
            try Store.migrator.migrate(pool)
            versionProbe = try VersionProbe(path: path)
        } catch let e as StoreError {
            throw e
        } catch let e as DatabaseError {
            throw Store.classify(e, path: path)
        }
    }

    static func classify(_ e: DatabaseError, path: String) -> Error {
        switch e.resultCode {
        case .SQLITE_NOTADB, .SQLITE_CORRUPT, .SQLITE_FORMAT:
            return StoreError.corrupt(path: path, detail: e.message ?? "\(e.resultCode)")
        case .SQLITE_CONSTRAINT:
            return StoreInternalError(path: path, message: "a constraint of the store failed: \(e.message ?? "\(e.resultCode)")")
        case .SQLITE_CANTOPEN, .SQLITE_READONLY, .SQLITE_PERM:
            return IOFailure(path: path, message: "cannot open the store for writing: \(e.message ?? "\(e.resultCode)")")
        default:
            return IOFailure(path: path, message: e.message ?? "\(e)")
        }
    }

    /// Runs `body` in one write transaction; SQLite errors become store errors naming the file.
    func write<T>(_ body: (Database) throws -> T) throws -> T {
        do { return try pool.write(body) } catch let e as DatabaseError { throw Store.classify(e, path: path) }
    }

    func read<T>(_ body: (Database) throws -> T) throws -> T {
        do { return try pool.read(body) } catch let e as DatabaseError { throw Store.classify(e, path: path) }
    }

    /// The schema, one named migration per version. Never edit a shipped migration: add one.
    static let migrator: DatabaseMigrator = {
        var m = DatabaseMigrator()
        m.registerMigration("v1") { db in try Store.createVersion1(db) }
        // `optima-gym serve`'s background jobs (POST /api/ml/train).
        m.registerMigration("v2-jobs") { db in try Store.createJobs(db) }
        return m
    }()

    static func createVersion1(_ db: Database) throws {
        try db.execute(sql: """
        CREATE TABLE runs (
            run_key INTEGER PRIMARY KEY AUTOINCREMENT,  -- the logs' tables refer to a run by this short key
            run_id TEXT NOT NULL UNIQUE,
            kind TEXT NOT NULL,                 -- run | evaluate | sweep-cell
            scenario TEXT NOT NULL,
            scenario_file TEXT NOT NULL,
            scenario_text TEXT NOT NULL,        -- the YAML as run, so that the gate can rebuild its worlds
            seed TEXT NOT NULL,                 -- UInt64 in decimal (SQLite integers are signed)
            started_at TEXT NOT NULL,
            wall_time_seconds REAL NOT NULL,
            project_version TEXT NOT NULL,
            report_dir TEXT NOT NULL,
            gate_passed INTEGER,
            logged_decisions INTEGER NOT NULL,
            registered_at TEXT NOT NULL
        );
        CREATE INDEX runs_by_scenario ON runs(scenario, started_at);
        CREATE TABLE model_checkpoints (
            checkpoint_id TEXT PRIMARY KEY NOT NULL,   -- content-addressed (SHA-256 of the model)
            model_type TEXT NOT NULL,
            weights_url TEXT NOT NULL,
            performance_metrics TEXT NOT NULL,         -- JSON object
            training_date TEXT NOT NULL,
            active INTEGER NOT NULL DEFAULT 0,         -- 1 for the model the champion alias names
            agent TEXT NOT NULL,
            run_id TEXT NOT NULL REFERENCES runs(run_id),
            scenario TEXT NOT NULL,
            seed TEXT NOT NULL,
            lineage TEXT NOT NULL,                     -- JSON: training data, persona model, parent
            parent_id TEXT,
            payload BLOB NOT NULL                      -- the checkpoint file
        );
        CREATE INDEX checkpoints_by_run ON model_checkpoints(run_id);
        CREATE TABLE run_agents (
            run_id TEXT NOT NULL REFERENCES runs(run_id),
            agent TEXT NOT NULL,
            checkpoint_id TEXT REFERENCES model_checkpoints(checkpoint_id),
            is_upper_bound INTEGER NOT NULL,
            training_decisions INTEGER NOT NULL,
            evaluation_decisions INTEGER NOT NULL,
            PRIMARY KEY (run_id, agent)
        );
        CREATE INDEX run_agents_by_checkpoint ON run_agents(checkpoint_id);
        CREATE TABLE metrics (
            run_id TEXT NOT NULL REFERENCES runs(run_id),
            agent TEXT NOT NULL,
            model_id TEXT,
            name TEXT NOT NULL,
            value REAL, ci_low REAL, ci_high REAL,     -- NULL when not measured
            n INTEGER NOT NULL,
            note TEXT,
            PRIMARY KEY (run_id, agent, name)
        );
        CREATE INDEX metrics_by_model ON metrics(model_id, name);
        CREATE TABLE comparisons (
            run_id TEXT NOT NULL REFERENCES runs(run_id),
            metric TEXT NOT NULL, a TEXT NOT NULL, b TEXT NOT NULL,
            value REAL NOT NULL, ci_low REAL, ci_high REAL, users INTEGER NOT NULL,
            PRIMARY KEY (run_id, metric, a, b)
        );
        CREATE TABLE training_episodes (
            run_key INTEGER NOT NULL REFERENCES runs(run_key),
            episode_id TEXT NOT NULL,
            user_id TEXT NOT NULL,
            context_snapshot TEXT NOT NULL,    -- JSON
            action_taken TEXT NOT NULL,
            outcome TEXT NOT NULL,
            reward_score REAL NOT NULL,
            timestamp TEXT NOT NULL,
            model_version TEXT NOT NULL,       -- the acting model's checkpoint id
            propensity REAL,
            journey_step INTEGER
        );
        CREATE UNIQUE INDEX episodes_by_id ON training_episodes(run_key, episode_id);
        CREATE INDEX episodes_by_user ON training_episodes(user_id, timestamp);
        -- signal_id is unique within a run by construction (the run's seed and the signal's index).
        CREATE TABLE reward_signals (
            run_key INTEGER NOT NULL REFERENCES runs(run_key),
            signal_id TEXT NOT NULL,
            episode_id TEXT NOT NULL,
            signal_type TEXT NOT NULL,
            value REAL NOT NULL,
            latency INTEGER NOT NULL,
            confidence REAL NOT NULL
        );
        CREATE INDEX signals_by_episode ON reward_signals(run_key, episode_id);
        CREATE TABLE synthetic_profiles (
            run_key INTEGER NOT NULL REFERENCES runs(run_key),
            profile_id TEXT NOT NULL,
            persona_vector BLOB NOT NULL,      -- float32 little-endian, the persona dimension long
            traits TEXT NOT NULL,              -- JSON object: the five traits, group, dominant topic
            interaction_history TEXT NOT NULL, -- JSON object: the parameters of the simulated behaviour
            source TEXT NOT NULL               -- generated | augmented | real
        );
        CREATE UNIQUE INDEX profiles_by_id ON synthetic_profiles(run_key, profile_id);
        CREATE TABLE model_aliases (
            name TEXT PRIMARY KEY NOT NULL,
            checkpoint_id TEXT NOT NULL REFERENCES model_checkpoints(checkpoint_id),
            updated_at TEXT NOT NULL
        );
        CREATE TABLE alias_events (
            event_id INTEGER PRIMARY KEY AUTOINCREMENT,
            name TEXT NOT NULL,
            checkpoint_id TEXT,                -- NULL: the alias was removed
            previous_id TEXT,
            kind TEXT NOT NULL,                -- set | promote | rollback
            undoes INTEGER,                    -- a rollback: the event it undoes
            reason TEXT NOT NULL,
            run_id TEXT,
            at TEXT NOT NULL
        );
        CREATE INDEX alias_events_by_name ON alias_events(name, event_id);
        CREATE TABLE gate_verdicts (
            verdict_id INTEGER PRIMARY KEY AUTOINCREMENT,
            run_id TEXT NOT NULL,
            rules_file TEXT NOT NULL,
            mode TEXT NOT NULL,                -- check | promote | watch
            passed INTEGER NOT NULL,
            action TEXT,                       -- what the gate did to the registry, if anything
            at TEXT NOT NULL
        );
        CREATE INDEX gate_verdicts_by_run ON gate_verdicts(run_id);
        CREATE TABLE gate_results (
            verdict_id INTEGER NOT NULL REFERENCES gate_verdicts(verdict_id),
            position INTEGER NOT NULL,
            rule TEXT NOT NULL,
            level TEXT NOT NULL,               -- block | alert
            passed INTEGER NOT NULL,
            measured REAL,
            reason TEXT NOT NULL,
            PRIMARY KEY (verdict_id, position)
        );
        CREATE TABLE sweep_cells (
            sweep_id TEXT NOT NULL,
            cell TEXT NOT NULL,
            parameters TEXT NOT NULL,          -- JSON
            run_id TEXT REFERENCES runs(run_id),
            shard TEXT,
            PRIMARY KEY (sweep_id, cell)
        );
        """)
    }

    /// The current time as the store records it (ISO 8601, UTC).
    static func now() -> String { ISO8601DateFormatter().string(from: Date()) }
}

/// A store operation that broke one of the schema's constraints: a bug, not bad input (exit 70).
public struct StoreInternalError: ClassifiedError, Equatable {
    public let path: String
    public let message: String
    public var failureKind: FailureKind { .internalError }
    public var description: String { "\(path): internal error: \(message)" }
}

/// An I/O failure on the store's file (exit 74).
public struct IOFailure: ClassifiedError, Equatable {
    public let path: String
    public let message: String
    public var failureKind: FailureKind { .ioError }
    public var description: String { "\(path): error: \(message)" }
}
