import Foundation
import GRDB

/// Episodes and signals posted by the live system (`POST /api/ml/episode`, `/reward`): they go to
/// the same tables as a run's logs, under one run row of kind `live` (run id `live`), each in its
/// own transaction, committed before the server acknowledges it.
extension Store {
    public static let liveRunID = "live"

    /// The live run's key, creating its row on first use.
    func liveRunKey(_ db: Database) throws -> Int64 { try serverRunKey(db, id: Store.liveRunID, kind: "live") }

    /// The key of a run row the server writes under (`live`, `synthetic`), created on first use.
    func serverRunKey(_ db: Database, id: String, kind: String) throws -> Int64 {
        if let k = try Int64.fetchOne(db, sql: "SELECT run_key FROM runs WHERE run_id = ?", arguments: [id]) { return k }
        try db.execute(sql: """
            INSERT INTO runs (run_id, kind, scenario, scenario_file, scenario_text, seed, started_at, wall_time_seconds,
                              project_version, report_dir, gate_passed, logged_decisions, registered_at)
            VALUES (?, ?, ?, '', '', '0', ?, 0, '', '', NULL, 0, ?)
            """, arguments: [id, kind, kind, Store.now(), Store.now()])
        return db.lastInsertedRowID
    }

    /// Stores one episode of the live system. Returns false (and stores nothing) when an episode
    /// with this id was logged before.
    public func logEpisode(_ e: RunImport.Episode) throws -> Bool {
        try write { db in
            let key = try liveRunKey(db)
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM training_episodes WHERE run_key = ? AND episode_id = ?", arguments: [key, e.episodeID]) == true {
                return false
            }
            try db.execute(sql: "INSERT INTO training_episodes VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                           arguments: [key, e.episodeID, e.userID, e.contextSnapshot, e.actionTaken, e.outcome, e.rewardScore,
                                       e.timestamp, e.modelVersion, e.propensity, e.journeyStep])
            try db.execute(sql: "UPDATE runs SET logged_decisions = logged_decisions + 1 WHERE run_key = ?", arguments: [key])
            return true
        }
    }

    /// Stores one reward signal for a live episode; the episode must have been logged.
    public func logSignal(_ s: RunImport.Signal) throws {
        try write { db in
            let key = try liveRunKey(db)
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM training_episodes WHERE run_key = ? AND episode_id = ?", arguments: [key, s.episodeID]) == true else {
                throw StoreError.notFound(path: path, what: "episode_id: no live episode '\(s.episodeID)' (post it to /api/ml/episode first)")
            }
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM reward_signals WHERE run_key = ? AND signal_id = ?", arguments: [key, s.signalID]) == true {
                throw StoreError.invalid(path: path, detail: "signal_id: signal '\(s.signalID)' was posted before")
            }
            try db.execute(sql: "INSERT INTO reward_signals VALUES (?, ?, ?, ?, ?, ?, ?)",
                           arguments: [key, s.signalID, s.episodeID, s.signalType, s.value, s.latency, s.confidence])
        }
    }

    /// Live episodes stored (for the tests and the load test's count).
    public func liveEpisodeCount() throws -> Int {
        try read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM training_episodes e JOIN runs r ON r.run_key = e.run_key WHERE r.run_id = ?",
                             arguments: [Store.liveRunID]) ?? 0
        }
    }
}
