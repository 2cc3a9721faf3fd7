import Foundation
import GRDB
import GRDBSQLite

/// The logs' rows go through SQLite's C interface directly, on a statement GRDB prepared, inside
/// GRDB's transaction: GRDB's per-row argument boxing cost more than SQLite's own insert (1.4 s
/// for 90k decisions, 1.6 s for 123k signals on `bench store`, against ~0.5 s each this way).
struct BulkInsert {
    let statement: Statement
    let db: Database
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    init(_ db: Database, sql: String) throws {
        self.db = db
        statement = try db.makeStatement(sql: sql)
    }

    func text(_ i: Int32, _ s: String) {
        var s = s
        s.withUTF8 { buf in _ = sqlite3_bind_text(statement.sqliteStatement, i, buf.baseAddress, Int32(buf.count), BulkInsert.transient) }
    }

    func real(_ i: Int32, _ x: Double?) {
        if let x, x.isFinite { sqlite3_bind_double(statement.sqliteStatement, i, x) } else { sqlite3_bind_null(statement.sqliteStatement, i) }
    }

    func integer(_ i: Int32, _ x: Int?) {
        if let x { sqlite3_bind_int64(statement.sqliteStatement, i, Int64(x)) } else { sqlite3_bind_null(statement.sqliteStatement, i) }
    }

    /// Inserts the bound row; a failure (a duplicate key, a full disk) becomes GRDB's error.
    func step() throws {
        let h = statement.sqliteStatement
        let rc = sqlite3_step(h)
        sqlite3_reset(h)
        guard rc == SQLITE_DONE else {
            throw DatabaseError(resultCode: ResultCode(rawValue: rc), message: String(cString: sqlite3_errmsg(db.sqliteConnection)), sql: statement.sql)
        }
    }
}
