import Foundation
import GRDB

/// Profiles made by `optima-gym serve` (`POST /api/ml/synthetic/generate` and `/augment`): rows
/// of `synthetic_profiles` under one run row of kind `synthetic` (run id `synthetic`). A profile's
/// id is derived from the request's seed, so asking twice with the same seed stores it once.
extension Store {
    public static let syntheticRunID = "synthetic"

    /// Stores `profiles` in one transaction; returns how many were new.
    public func storeSynthetic(_ profiles: [RunImport.Profile]) throws -> Int {
        try write { db in
            let key = try serverRunKey(db, id: Store.syntheticRunID, kind: "synthetic")
            let st = try db.makeStatement(sql: "INSERT OR IGNORE INTO synthetic_profiles VALUES (?, ?, ?, ?, ?, ?)")
            var added = 0
            for p in profiles {
                try st.execute(arguments: [key, p.profileID, p.personaVector, p.traits, p.interactionHistory, p.source])
                added += db.changesCount
            }
            return added
        }
    }

    /// Stored profiles by source: those the server made, and all (runs' simulated users too).
    public func syntheticCounts() throws -> (server: [String: Int], all: [String: Int]) {
        try read { db in
            var server: [String: Int] = [:], all: [String: Int] = [:]
            for row in try Row.fetchAll(db, sql: """
                SELECT p.source AS source, r.run_id = ? AS mine, COUNT(*) AS n
                FROM synthetic_profiles p JOIN runs r ON r.run_key = p.run_key GROUP BY p.source, mine
                """, arguments: [Store.syntheticRunID]) {
                let source: String = row["source"], n: Int = row["n"]
                all[source, default: 0] += n
                if row["mine"] as Bool { server[source, default: 0] += n }
            }
            return (server, all)
        }
    }
}
