import Foundation
import GRDB

/// A cheap "has the store changed?" probe for caches over the store (the server's GET responses).
///
/// SQLite's `PRAGMA data_version` changes, on one connection, whenever any other connection (this
/// process's writer or another process such as `optima-gym run` registering a run) has committed
/// since that connection last asked. One dedicated read-only connection asks it, so a value is
/// the same exactly while nothing was committed.
final class VersionProbe: @unchecked Sendable {
    let queue: DatabaseQueue
    init(path: String) throws {
        var config = Configuration()
        config.readonly = true
        config.busyMode = .timeout(30)
        queue = try DatabaseQueue(path: path, configuration: config)
    }
}

extension Store {
    /// A number that stays the same while nothing is committed to the store and changes when
    /// anything is (by this process or another).
    public func dataVersion() throws -> Int64 {
        do {
            return try versionProbe.queue.read { db in try Int64.fetchOne(db, sql: "PRAGMA data_version") ?? 0 }
        } catch let e as DatabaseError { throw Store.classify(e, path: path) }
    }
}
