import Foundation
import GRDB

/// A registered model as `models list|show` shows it.
public struct ModelEntry: Sendable, Equatable {
    public var id: String
    public var modelType: String
    public var agent: String
    public var runID: String
    public var scenario: String
    public var seed: String
    public var trainingDate: String
    public var active: Bool
    public var aliases: [String]
    public var lineage: String
    public var parentID: String?
    public var performanceMetrics: String
}

/// One change of an alias.
public struct AliasEvent: Sendable, Equatable {
    public var eventID: Int64
    /// set | promote | rollback; "unchanged" when the alias already named the model (no event).
    public var kind: String = "set"
    public var name: String
    public var checkpointID: String?
    public var previousID: String?
    public var reason: String
    public var runID: String?
    public var at: String
}

/// The model registry: content-addressed checkpoints and named aliases (`champion`,
/// `challenger`, any name) in place of stages, as MLflow recommends since 2.9. Every alias change
/// is an event with its reason; `rollback` moves an alias back to the id it named before.
/// The `active` column of model_checkpoints marks the model `champion` names.
extension Store {
    public static let championAlias = "champion"

    /// Resolves a model reference: an alias, an exact checkpoint id, or a unique id prefix (at
    /// least 4 characters).
    public func resolveModel(_ ref: String) throws -> String {
        try read { db in try resolveModel(ref, db) }
    }

    func resolveModel(_ ref: String, _ db: Database) throws -> String {
        if let id = try String.fetchOne(db, sql: "SELECT checkpoint_id FROM model_aliases WHERE name = ?", arguments: [ref]) { return id }
        if try Bool.fetchOne(db, sql: "SELECT 1 FROM model_checkpoints WHERE checkpoint_id = ?", arguments: [ref]) == true { return ref }
        if ref.count >= 4 {
            let ids = try String.fetchAll(db, sql: "SELECT checkpoint_id FROM model_checkpoints WHERE substr(checkpoint_id, 1, ?) = ? ORDER BY checkpoint_id",
                                          arguments: [ref.count, ref])
            if ids.count == 1 { return ids[0] }
            if ids.count > 1 { throw StoreError.ambiguous(path: path, what: "model '\(ref)'", candidates: ids) }
        }
        let aliases = try String.fetchAll(db, sql: "SELECT name FROM model_aliases ORDER BY name")
        throw StoreError.notFound(path: path, what: "no model or alias '\(ref)' (aliases: \(aliases.isEmpty ? "none yet" : aliases.joined(separator: ", ")); see `optima-gym models list`)")
    }

    /// Whether `name` is an alias now.
    public func aliasTarget(_ name: String) throws -> String? {
        try read { db in try String.fetchOne(db, sql: "SELECT checkpoint_id FROM model_aliases WHERE name = ?", arguments: [name]) }
    }

    /// A model's columns but its payload (the checkpoint file, up to megabytes: listings and
    /// lookups never need it).
    static let entryColumns = "c.checkpoint_id, c.model_type, c.agent, c.run_id, c.scenario, c.seed, c.training_date, c.active, c.lineage, c.parent_id, c.performance_metrics"

    /// Every registered model, newest first.
    public func models(limit: Int = 100) throws -> [ModelEntry] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT \(Store.entryColumns) FROM model_checkpoints c JOIN runs r ON r.run_id = c.run_id ORDER BY r.run_key DESC, c.rowid DESC LIMIT ?",
                             arguments: [limit]).map { try entry($0, db) }
        }
    }

    /// One model by reference.
    public func model(_ ref: String) throws -> ModelEntry {
        try read { db in
            try model(ref, db)
        }
    }

    func model(_ ref: String, _ db: Database) throws -> ModelEntry {
        let id = try resolveModel(ref, db)
        guard let row = try Row.fetchOne(db, sql: "SELECT \(Store.entryColumns) FROM model_checkpoints c WHERE c.checkpoint_id = ?", arguments: [id]) else {
            throw StoreError.notFound(path: path, what: "no model '\(id)'")
        }
        return try entry(row, db)
    }

    func entry(_ r: Row, _ db: Database) throws -> ModelEntry {
        let id: String = r["checkpoint_id"]
        let aliases = try String.fetchAll(db, sql: "SELECT name FROM model_aliases WHERE checkpoint_id = ? ORDER BY name", arguments: [id])
        return ModelEntry(id: id, modelType: r["model_type"], agent: r["agent"], runID: r["run_id"], scenario: r["scenario"], seed: r["seed"],
                          trainingDate: r["training_date"], active: r["active"], aliases: aliases, lineage: r["lineage"],
                          parentID: r["parent_id"], performanceMetrics: r["performance_metrics"])
    }

    /// The checkpoint file of a model.
    public func checkpointPayload(_ ref: String) throws -> (id: String, payload: Data) {
        try read { db in
            let id = try resolveModel(ref, db)
            guard let data = try Data.fetchOne(db, sql: "SELECT payload FROM model_checkpoints WHERE checkpoint_id = ?", arguments: [id]) else {
                throw StoreError.notFound(path: path, what: "model '\(id)' has no checkpoint payload")
            }
            return (id, data)
        }
    }

    /// Points `name` at `ref` (a model reference), recording why. Returns the event.
    @discardableResult
    public func setAlias(_ name: String, to ref: String, reason: String, runID: String? = nil) throws -> AliasEvent {
        guard Store.validAliasName(name) else {
            throw StoreError.invalid(path: path, detail: "alias '\(name)': use letters, digits, '_' and '-' (not a checkpoint id)")
        }
        return try write { db in
            let id = try resolveModel(ref, db)
            return try moveAlias(name, to: id, reason: reason, runID: runID, db)
        }
    }

    static func validAliasName(_ name: String) -> Bool {
        !name.isEmpty && name.count <= 64 && name.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }
            && !(name.count == 36 && name.filter({ $0 == "-" }).count == 4)
    }

    func moveAlias(_ name: String, to id: String, reason: String, runID: String?, kind: String = "set", undoes: Int64? = nil,
                   _ db: Database) throws -> AliasEvent {
        let previous = try String.fetchOne(db, sql: "SELECT checkpoint_id FROM model_aliases WHERE name = ?", arguments: [name])
        let at = Store.now()
        // Naming the model it already names changes nothing and records nothing (an event would
        // hide the real predecessor from rollback and watch).
        if previous == id {
            return AliasEvent(eventID: 0, kind: "unchanged", name: name, checkpointID: id, previousID: previous, reason: reason, runID: runID, at: at)
        }
        try db.execute(sql: "INSERT OR REPLACE INTO model_aliases (name, checkpoint_id, updated_at) VALUES (?, ?, ?)", arguments: [name, id, at])
        try db.execute(sql: "INSERT INTO alias_events (name, checkpoint_id, previous_id, kind, undoes, reason, run_id, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                       arguments: [name, id, previous, kind, undoes, reason, runID, at])
        if name == Store.championAlias {
            try db.execute(sql: "UPDATE model_checkpoints SET active = (checkpoint_id = ?)", arguments: [id])
        }
        return AliasEvent(eventID: db.lastInsertedRowID, kind: kind, name: name, checkpointID: id, previousID: previous, reason: reason, runID: runID, at: at)
    }

    /// The change a rollback of `name` undoes: the latest change that is not itself a rollback and
    /// that no rollback has undone yet (history as a stack: rolling back twice goes back twice,
    /// never to a model a rollback rejected). nil when nothing is left to undo.
    func changeToUndo(_ name: String, _ db: Database) throws -> (eventID: Int64, previousID: String)? {
        guard let row = try Row.fetchOne(db, sql: """
            SELECT event_id, previous_id FROM alias_events e
            WHERE name = ? AND kind != 'rollback' AND previous_id IS NOT NULL
              AND NOT EXISTS (SELECT 1 FROM alias_events r WHERE r.kind = 'rollback' AND r.undoes = e.event_id)
            ORDER BY event_id DESC LIMIT 1
            """, arguments: [name]) else { return nil }
        return (row["event_id"], row["previous_id"])
    }

    /// Every change of `name`, oldest first.
    public func aliasHistory(_ name: String) throws -> [AliasEvent] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM alias_events WHERE name = ? ORDER BY event_id", arguments: [name]).map {
                AliasEvent(eventID: $0["event_id"], kind: $0["kind"], name: $0["name"], checkpointID: $0["checkpoint_id"], previousID: $0["previous_id"],
                           reason: $0["reason"], runID: $0["run_id"], at: $0["at"])
            }
        }
    }

    /// What `gate --watch` judges: the alias's current model and the one it replaced, when the
    /// current one came from a change (set or promotion) that no rollback undid. nil when the alias
    /// was last restored by a rollback (the model it names was already judged) or never moved.
    public func watchPair(_ name: String) throws -> (current: String, previous: String)? {
        try read { db in
            guard let last = try Row.fetchOne(db, sql: "SELECT kind, checkpoint_id, previous_id FROM alias_events WHERE name = ? ORDER BY event_id DESC LIMIT 1",
                                              arguments: [name]) else { return nil }
            guard (last["kind"] as String) != "rollback", let current: String = last["checkpoint_id"], let previous: String = last["previous_id"] else { return nil }
            return (current, previous)
        }
    }

    /// Moves `name` back to the model it named before the latest change not yet undone, recording
    /// `reason`.
    @discardableResult
    public func rollback(_ name: String, reason: String, runID: String? = nil) throws -> AliasEvent {
        try write { db in
            guard let current = try String.fetchOne(db, sql: "SELECT checkpoint_id FROM model_aliases WHERE name = ?", arguments: [name]) else {
                throw StoreError.notFound(path: path, what: "no alias '\(name)' to roll back")
            }
            guard let change = try changeToUndo(name, db) else {
                throw StoreError.invalid(path: path, detail: "alias '\(name)' names \(current) and has no earlier change left to undo")
            }
            return try moveAlias(name, to: change.previousID, reason: reason, runID: runID, kind: "rollback", undoes: change.eventID, db)
        }
    }
}

/// A gate verdict as the store records it.
public struct VerdictRecord: Sendable {
    public struct Result: Sendable {
        public var rule: String, level: String, passed: Bool, measured: Double?, reason: String
        public init(rule: String, level: String, passed: Bool, measured: Double?, reason: String) {
            self.rule = rule; self.level = level; self.passed = passed; self.measured = measured; self.reason = reason
        }
    }
    public var runID: String, rulesFile: String, mode: String, passed: Bool, action: String?
    public var results: [Result]
    public init(runID: String, rulesFile: String, mode: String, passed: Bool, action: String?, results: [Result]) {
        self.runID = runID; self.rulesFile = rulesFile; self.mode = mode; self.passed = passed; self.action = action; self.results = results
    }
}

extension Store {
    /// Records a verdict and, in the same transaction, the registry change it decided: a
    /// promotion (`name` to `to`, expecting `name` to still name `expected`) or a rollback
    /// (expecting `name` to still name `expected` and to go back to `target`). Either both are
    /// recorded or neither; if the alias moved while the gate ran, nothing is.
    @discardableResult
    public func recordVerdict(_ v: VerdictRecord, promote: (name: String, to: String, expected: String?)? = nil,
                              rollback: (name: String, expected: String, target: String)? = nil, reason: String = "") throws -> AliasEvent? {
        try write { db in
            func check(_ name: String, _ expected: String?) throws {
                let now = try String.fetchOne(db, sql: "SELECT checkpoint_id FROM model_aliases WHERE name = ?", arguments: [name])
                guard now == expected else {
                    throw StoreError.invalid(path: path, detail: "alias '\(name)' moved while the gate ran (it named \(expected ?? "nothing"), now \(now ?? "nothing")); run the gate again")
                }
            }
            if let p = promote { try check(p.name, p.expected) }
            var undo: (eventID: Int64, previousID: String)?
            if let r = rollback {
                try check(r.name, r.expected)
                undo = try changeToUndo(r.name, db)
                guard let u = undo, u.previousID == r.target else {
                    throw StoreError.invalid(path: path, detail: "alias '\(r.name)' has no change left that leads back to \(r.target)")
                }
            }
            try db.execute(sql: "INSERT INTO gate_verdicts (run_id, rules_file, mode, passed, action, at) VALUES (?, ?, ?, ?, ?, ?)",
                           arguments: [v.runID, v.rulesFile, v.mode, v.passed, v.action, Store.now()])
            let vid = db.lastInsertedRowID
            let st = try db.makeStatement(sql: "INSERT INTO gate_results VALUES (?, ?, ?, ?, ?, ?, ?)")
            for (i, r) in v.results.enumerated() {
                try st.execute(arguments: [vid, i, r.rule, r.level, r.passed, finite(r.measured), r.reason])
            }
            if let p = promote { return try moveAlias(p.name, to: p.to, reason: reason, runID: v.runID, kind: "promote", db) }
            if let r = rollback, let u = undo {
                return try moveAlias(r.name, to: r.target, reason: reason, runID: v.runID, kind: "rollback", undoes: u.eventID, db)
            }
            return nil
        }
    }
}
