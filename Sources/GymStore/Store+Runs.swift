import Foundation
import GRDB

/// A finished run as the store registers it, in one transaction.
public struct RunImport: Sendable {
    public struct Agent: Sendable {
        public var name: String
        public var checkpointID: String?
        public var isUpperBound: Bool
        public var trainingDecisions: Int
        public var evaluationDecisions: Int
        public init(name: String, checkpointID: String?, isUpperBound: Bool, trainingDecisions: Int, evaluationDecisions: Int) {
            self.name = name; self.checkpointID = checkpointID; self.isUpperBound = isUpperBound
            self.trainingDecisions = trainingDecisions; self.evaluationDecisions = evaluationDecisions
        }
    }
    public struct Metric: Sendable, Equatable {
        public var agent: String, name: String
        public var value: Double?, ciLow: Double?, ciHigh: Double?
        public var n: Int
        public var note: String?
        public init(agent: String, name: String, value: Double?, ciLow: Double?, ciHigh: Double?, n: Int, note: String?) {
            self.agent = agent; self.name = name; self.value = value; self.ciLow = ciLow; self.ciHigh = ciHigh; self.n = n; self.note = note
        }
    }
    public struct Comparison: Sendable {
        public var metric: String, a: String, b: String
        public var value: Double, ciLow: Double?, ciHigh: Double?, users: Int
        public init(metric: String, a: String, b: String, value: Double, ciLow: Double?, ciHigh: Double?, users: Int) {
            self.metric = metric; self.a = a; self.b = b; self.value = value; self.ciLow = ciLow; self.ciHigh = ciHigh; self.users = users
        }
    }
    public struct Checkpoint: Sendable {
        public var id: String, modelType: String, agent: String, weightsURL: String
        public var performanceMetrics: String, trainingDate: String, lineage: String, parentID: String?
        public var payload: Data
        public init(id: String, modelType: String, agent: String, weightsURL: String, performanceMetrics: String, trainingDate: String,
                    lineage: String, parentID: String?, payload: Data) {
            self.id = id; self.modelType = modelType; self.agent = agent; self.weightsURL = weightsURL
            self.performanceMetrics = performanceMetrics; self.trainingDate = trainingDate; self.lineage = lineage
            self.parentID = parentID; self.payload = payload
        }
    }
    /// One `training_episodes` row. Field order is the blueprint's.
    public struct Episode: Sendable {
        public var episodeID: String, userID: String, contextSnapshot: String, actionTaken: String, outcome: String
        public var rewardScore: Double, timestamp: String, modelVersion: String, propensity: Double?, journeyStep: Int?
        public init(episodeID: String, userID: String, contextSnapshot: String, actionTaken: String, outcome: String, rewardScore: Double,
                    timestamp: String, modelVersion: String, propensity: Double?, journeyStep: Int?) {
            self.episodeID = episodeID; self.userID = userID; self.contextSnapshot = contextSnapshot; self.actionTaken = actionTaken
            self.outcome = outcome; self.rewardScore = rewardScore; self.timestamp = timestamp; self.modelVersion = modelVersion
            self.propensity = propensity; self.journeyStep = journeyStep
        }
    }
    public struct Signal: Sendable {
        public var signalID: String, episodeID: String, signalType: String, value: Double, latency: Int, confidence: Double
        public init(signalID: String, episodeID: String, signalType: String, value: Double, latency: Int, confidence: Double) {
            self.signalID = signalID; self.episodeID = episodeID; self.signalType = signalType; self.value = value
            self.latency = latency; self.confidence = confidence
        }
    }
    public struct Profile: Sendable {
        public var profileID: String, personaVector: Data, traits: String, interactionHistory: String, source: String
        public init(profileID: String, personaVector: Data, traits: String, interactionHistory: String, source: String) {
            self.profileID = profileID; self.personaVector = personaVector; self.traits = traits
            self.interactionHistory = interactionHistory; self.source = source
        }
    }

    public var runID: String
    public var kind: String
    public var scenario: String
    public var scenarioFile: String
    public var scenarioText: String
    public var seed: UInt64
    public var startedAt: String
    public var wallTimeSeconds: Double
    public var projectVersion: String
    public var reportDir: String
    public var gatePassed: Bool?
    public var agents: [Agent] = []
    public var metrics: [Metric] = []
    public var comparisons: [Comparison] = []
    public var checkpoints: [Checkpoint] = []
    public var episodes: [Episode] = []
    public var signals: [Signal] = []
    public var profiles: [Profile] = []
    public var sweep: (id: String, cell: String, parameters: String, shard: String?)?

    public init(runID: String, kind: String, scenario: String, scenarioFile: String, scenarioText: String, seed: UInt64, startedAt: String,
                wallTimeSeconds: Double, projectVersion: String, reportDir: String, gatePassed: Bool?) {
        self.runID = runID; self.kind = kind; self.scenario = scenario; self.scenarioFile = scenarioFile; self.scenarioText = scenarioText
        self.seed = seed; self.startedAt = startedAt; self.wallTimeSeconds = wallTimeSeconds; self.projectVersion = projectVersion
        self.reportDir = reportDir; self.gatePassed = gatePassed
    }
}

/// A run as `runs list` shows it.
public struct RunSummary: Sendable, Equatable {
    public var runID: String, kind: String, scenario: String, seed: String, startedAt: String
    public var wallTimeSeconds: Double, gatePassed: Bool?, agents: Int, episodes: Int, reportDir: String
}

/// A run with everything registered about it.
public struct RunDetail: Sendable {
    public var summary: RunSummary
    public var scenarioFile: String
    public var scenarioText: String
    public var agents: [RunImport.Agent]
    public var metrics: [RunImport.Metric]
    public var verdicts: [(id: Int64, mode: String, rulesFile: String, passed: Bool, action: String?, at: String)]
    /// synthetic_profiles rows of the run (its simulated users).
    public var profiles = 0
}

extension Store {
    /// Registers a finished run in one transaction: all of it or, if anything fails (or the
    /// process is killed), none of it. Registering the same run id twice is refused.
    public func register(_ r: RunImport) throws {
        try registerAll([r])
    }

    /// Registers several runs in one transaction (a merged sweep's cells).
    public func registerAll(_ runs: [RunImport]) throws {
        try write { db in
            for r in runs { try insert(r, db) }
        }
    }

    func insert(_ r: RunImport, _ db: Database) throws {
        do {
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM runs WHERE run_id = ?", arguments: [r.runID]) == true {
                throw StoreError.invalid(path: path, detail: "run \(r.runID) is already registered")
            }
            try db.execute(sql: """
                INSERT INTO runs (run_id, kind, scenario, scenario_file, scenario_text, seed, started_at, wall_time_seconds,
                                  project_version, report_dir, gate_passed, logged_decisions, registered_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [r.runID, r.kind, r.scenario, r.scenarioFile, r.scenarioText, String(r.seed), r.startedAt,
                                 r.wallTimeSeconds, r.projectVersion, r.reportDir, r.gatePassed, r.episodes.count, Store.now()])
            let key = db.lastInsertedRowID
            // Content-addressed: the same model registered again keeps its first row.
            let ck = try db.makeStatement(sql: """
                INSERT OR IGNORE INTO model_checkpoints (checkpoint_id, model_type, weights_url, performance_metrics, training_date,
                    active, agent, run_id, scenario, seed, lineage, parent_id, payload)
                VALUES (?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?, ?)
                """)
            for c in r.checkpoints {
                try ck.execute(arguments: [c.id, c.modelType, c.weightsURL, c.performanceMetrics, c.trainingDate, c.agent, r.runID,
                                           r.scenario, String(r.seed), c.lineage, c.parentID, c.payload])
            }
            let ag = try db.makeStatement(sql: "INSERT INTO run_agents VALUES (?, ?, ?, ?, ?, ?)")
            for a in r.agents {
                try ag.execute(arguments: [r.runID, a.name, a.checkpointID, a.isUpperBound, a.trainingDecisions, a.evaluationDecisions])
            }
            let modelOf = Dictionary(r.agents.map { ($0.name, $0.checkpointID) }, uniquingKeysWith: { a, _ in a })
            let me = try db.makeStatement(sql: "INSERT INTO metrics VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")
            for m in r.metrics {
                try me.execute(arguments: [r.runID, m.agent, modelOf[m.agent] ?? nil, m.name, finite(m.value), finite(m.ciLow), finite(m.ciHigh), m.n, m.note])
            }
            let co = try db.makeStatement(sql: "INSERT OR REPLACE INTO comparisons VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
            for c in r.comparisons {
                try co.execute(arguments: [r.runID, c.metric, c.a, c.b, c.value, finite(c.ciLow), finite(c.ciHigh), c.users])
            }
            let ep = try BulkInsert(db, sql: "INSERT INTO training_episodes VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
            for e in r.episodes {
                ep.integer(1, Int(key)); ep.text(2, e.episodeID); ep.text(3, e.userID); ep.text(4, e.contextSnapshot); ep.text(5, e.actionTaken)
                ep.text(6, e.outcome); ep.real(7, e.rewardScore); ep.text(8, e.timestamp); ep.text(9, e.modelVersion); ep.real(10, e.propensity)
                ep.integer(11, e.journeyStep)
                try ep.step()
            }
            // Fault injection for the crash tests only: hold the open transaction so that a test can
            // kill the process mid-write, or read the store while it is being written.
            if let pause = ProcessInfo.processInfo.environment["OPTIMA_GYM_TEST_PAUSE_IN_REGISTRATION"].flatMap(Double.init), pause > 0 {
                FileHandle.standardError.write(Data("store: test pause inside the registration of \(r.runID)\n".utf8))
                Thread.sleep(forTimeInterval: pause)
            }
            let sg = try BulkInsert(db, sql: "INSERT INTO reward_signals VALUES (?, ?, ?, ?, ?, ?, ?)")
            for s in r.signals {
                sg.integer(1, Int(key)); sg.text(2, s.signalID); sg.text(3, s.episodeID); sg.text(4, s.signalType); sg.real(5, s.value)
                sg.integer(6, s.latency); sg.real(7, s.confidence)
                try sg.step()
            }
            let pr = try db.makeStatement(sql: "INSERT OR IGNORE INTO synthetic_profiles VALUES (?, ?, ?, ?, ?, ?)")
            for p in r.profiles {
                try pr.execute(arguments: [key, p.profileID, p.personaVector, p.traits, p.interactionHistory, p.source])
            }
            if let s = r.sweep {
                try db.execute(sql: "INSERT OR REPLACE INTO sweep_cells VALUES (?, ?, ?, ?, ?)",
                               arguments: [s.id, s.cell, s.parameters, r.runID, s.shard])
            }
        }
    }

    /// `id`, or `id-2`, `id-3`, ... when runs of the same scenario and seed started in the same second.
    public func uniqueRunID(_ id: String) throws -> String {
        var candidate = id, k = 1
        while try hasRun(candidate) { k += 1; candidate = "\(id)-\(k)" }
        return candidate
    }

    /// Whether a run id is registered.
    public func hasRun(_ id: String) throws -> Bool {
        try read { db in try Bool.fetchOne(db, sql: "SELECT 1 FROM runs WHERE run_id = ?", arguments: [id]) == true }
    }

    /// Runs, newest first (optionally of one scenario).
    public func runs(scenario: String? = nil, limit: Int = 50) throws -> [RunSummary] {
        try read { db in
            let rows = try Row.fetchAll(db, sql: """
                SELECT r.*, (SELECT COUNT(*) FROM run_agents a WHERE a.run_id = r.run_id) AS n_agents
                FROM runs r WHERE (? IS NULL OR r.scenario = ?) ORDER BY r.run_key DESC LIMIT ?
                """, arguments: [scenario, scenario, limit])
            return rows.map(Store.summary)
        }
    }

    static func summary(_ row: Row) -> RunSummary {
        RunSummary(runID: row["run_id"], kind: row["kind"], scenario: row["scenario"], seed: row["seed"], startedAt: row["started_at"],
                   wallTimeSeconds: row["wall_time_seconds"], gatePassed: row["gate_passed"], agents: row["n_agents"],
                   episodes: row["logged_decisions"], reportDir: row["report_dir"])
    }

    /// Resolves a run reference: an exact run id, a unique prefix, or its report directory.
    public func resolveRun(_ ref: String) throws -> String {
        try read { db in
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM runs WHERE run_id = ?", arguments: [ref]) == true { return ref }
            let standardized = URL(fileURLWithPath: ref).standardizedFileURL.path
            let byDir = try String.fetchAll(db, sql: "SELECT run_id FROM runs WHERE report_dir = ? OR report_dir = ?", arguments: [ref, standardized])
            if byDir.count == 1 { return byDir[0] }
            let byPrefix = try String.fetchAll(db, sql: "SELECT run_id FROM runs WHERE substr(run_id, 1, ?) = ? ORDER BY run_id",
                                               arguments: [ref.count, ref])
            if byPrefix.count == 1 { return byPrefix[0] }
            if byPrefix.count > 1 { throw StoreError.ambiguous(path: path, what: "run '\(ref)'", candidates: byPrefix) }
            throw StoreError.notFound(path: path, what: "no run '\(ref)' is registered (see `optima-gym runs list`)")
        }
    }

    /// A run with its agents, metrics and gate verdicts.
    public func run(_ ref: String) throws -> RunDetail {
        let id = try resolveRun(ref)
        return try read { db in
            guard let row = try Row.fetchOne(db, sql: """
                SELECT r.*, (SELECT COUNT(*) FROM run_agents a WHERE a.run_id = r.run_id) AS n_agents
                FROM runs r WHERE run_id = ?
                """, arguments: [id]) else { throw StoreError.notFound(path: path, what: "no run '\(id)'") }
            let agents = try Row.fetchAll(db, sql: "SELECT * FROM run_agents WHERE run_id = ? ORDER BY rowid", arguments: [id]).map {
                RunImport.Agent(name: $0["agent"], checkpointID: $0["checkpoint_id"], isUpperBound: $0["is_upper_bound"],
                                trainingDecisions: $0["training_decisions"], evaluationDecisions: $0["evaluation_decisions"])
            }
            let metrics = try Row.fetchAll(db, sql: "SELECT * FROM metrics WHERE run_id = ? ORDER BY rowid", arguments: [id]).map(Store.metric)
            let verdicts = try Row.fetchAll(db, sql: "SELECT * FROM gate_verdicts WHERE run_id = ? ORDER BY verdict_id", arguments: [id]).map {
                (id: $0["verdict_id"] as Int64, mode: $0["mode"] as String, rulesFile: $0["rules_file"] as String,
                 passed: $0["passed"] as Bool, action: $0["action"] as String?, at: $0["at"] as String)
            }
            var d = RunDetail(summary: Store.summary(row), scenarioFile: row["scenario_file"], scenarioText: row["scenario_text"],
                              agents: agents, metrics: metrics, verdicts: verdicts)
            d.profiles = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM synthetic_profiles WHERE run_key = ?", arguments: [row["run_key"] as Int64]) ?? 0
            return d
        }
    }

    static func metric(_ r: Row) -> RunImport.Metric {
        RunImport.Metric(agent: r["agent"], name: r["name"], value: r["value"], ciLow: r["ci_low"], ciHigh: r["ci_high"], n: r["n"], note: r["note"])
    }

    /// A user's decisions across runs, in time order (`episodes --user`).
    public func episodes(user: String, limit: Int = 1000) throws -> [(runID: String, episode: RunImport.Episode)] {
        try read { db in
            try Row.fetchAll(db, sql: """
                SELECT r.run_id, e.* FROM training_episodes e JOIN runs r ON r.run_key = e.run_key
                WHERE e.user_id = ? ORDER BY e.timestamp, r.run_key, e.episode_id LIMIT ?
                """, arguments: [user, limit]).map { r in
                (r["run_id"], RunImport.Episode(episodeID: r["episode_id"], userID: r["user_id"], contextSnapshot: r["context_snapshot"],
                                                actionTaken: r["action_taken"], outcome: r["outcome"], rewardScore: r["reward_score"],
                                                timestamp: r["timestamp"], modelVersion: r["model_version"], propensity: r["propensity"],
                                                journeyStep: r["journey_step"]))
            }
        }
    }

    /// Every metric recorded for one model, run by run (`metrics --model`).
    public func metrics(model: String) throws -> [(runID: String, metric: RunImport.Metric)] {
        try read { db in try metrics(modelID: try resolveModel(model, db), db) }
    }

    func metrics(modelID id: String, _ db: Database) throws -> [(runID: String, metric: RunImport.Metric)] {
        try Row.fetchAll(db, sql: """
            SELECT m.* FROM metrics m JOIN runs r ON r.run_id = m.run_id WHERE m.model_id = ?
            ORDER BY r.run_key, m.rowid
            """, arguments: [id]).map { ($0["run_id"], Store.metric($0)) }
    }

    /// A model and its metrics, read in one transaction (one snapshot).
    public func modelWithMetrics(_ ref: String) throws -> (model: ModelEntry, metrics: [(runID: String, metric: RunImport.Metric)]) {
        try read { db in
            let m = try model(ref, db)
            return (m, try metrics(modelID: m.id, db))
        }
    }

    /// Paired comparisons recorded for a run.
    public func comparisons(run: String) throws -> [RunImport.Comparison] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM comparisons WHERE run_id = ? ORDER BY rowid", arguments: [run]).map {
                RunImport.Comparison(metric: $0["metric"], a: $0["a"], b: $0["b"], value: $0["value"], ciLow: $0["ci_low"],
                                     ciHigh: $0["ci_high"], users: $0["users"])
            }
        }
    }

    /// Table sizes, for `runs show` and tests.
    public func count(_ table: String) throws -> Int {
        let allowed = ["runs", "run_agents", "metrics", "comparisons", "training_episodes", "reward_signals", "synthetic_profiles",
                       "model_checkpoints", "model_aliases", "alias_events", "gate_verdicts", "gate_results", "sweep_cells", "jobs"]
        guard allowed.contains(table) else { throw StoreError.invalid(path: path, detail: "no table '\(table)'") }
        return try read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \(table)") ?? 0 }
    }
}

/// NaN and infinities are stored as NULL (SQLite has no NaN).
func finite(_ x: Double?) -> Double? { x.flatMap { $0.isFinite ? $0 : nil } }
