import Foundation
import XCTest
import GymCore
import GRDB
@testable import GymStore

final class StoreTests: XCTestCase {
    var dir: URL!
    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("optima-store-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    /// FIPS 180-4's examples (and the empty message).
    func testSHA256KnownAnswers() {
        XCTAssertEqual(SHA256.hex(Array("".utf8)), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(SHA256.hex(Array("abc".utf8)), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(SHA256.hex(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)),
                       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        XCTAssertEqual(SHA256.hex([UInt8](repeating: 0x61, count: 1_000_000)),
                       "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
        // 55 and 56 bytes straddle the padding boundary.
        XCTAssertNotEqual(SHA256.hex([UInt8](repeating: 1, count: 55)), SHA256.hex([UInt8](repeating: 1, count: 56)))
        let id = SHA256.contentID(Array("abc".utf8))
        XCTAssertEqual(id, "ba7816bf-8f01-8fea-8141-40de5dae2223")
        XCTAssertEqual(Array(id)[14], "8", "version nibble 8 (RFC 9562 custom)")
    }

    func sampleRun(_ id: String, model: String = "m-0001-aaaa", user: String = "u1", episodes: Int = 3) -> RunImport {
        var r = RunImport(runID: id, kind: "run", scenario: "s", scenarioFile: "s.yaml", scenarioText: "name: s\n", seed: UInt64.max,
                          startedAt: "2026-11-28T00:00:00Z", wallTimeSeconds: 1.5, projectVersion: "test", reportDir: "/tmp/\(id)", gatePassed: true)
        r.agents = [.init(name: "bandit", checkpointID: model, isUpperBound: false, trainingDecisions: 10, evaluationDecisions: episodes)]
        r.checkpoints = [.init(id: model, modelType: "epsilon_greedy", agent: "bandit", weightsURL: "inline", performanceMetrics: "{}",
                               trainingDate: "2026-11-28T00:00:00Z", lineage: "{}", parentID: nil, payload: Data("{}".utf8))]
        r.metrics = [.init(agent: "bandit", name: "mean_reward", value: 0.25, ciLow: 0.2, ciHigh: 0.3, n: episodes, note: nil),
                     .init(agent: "bandit", name: "transfer", value: .nan, ciLow: .nan, ciHigh: .nan, n: 0, note: "not measured")]
        for i in 0..<episodes {
            r.episodes.append(.init(episodeID: "e\(i)", userID: user, contextSnapshot: "{\"i\":\(i)}", actionTaken: "no_action", outcome: "neutral",
                                    rewardScore: Double(i) / 10, timestamp: "2026-01-05T00:00:0\(i)Z", modelVersion: model, propensity: 0.5, journeyStep: i))
            r.signals.append(.init(signalID: "s\(i)", episodeID: "e\(i)", signalType: "engagement", value: 0.1, latency: 5, confidence: 0.9))
        }
        return r
    }

    func testRegisterAndQuery() throws {
        let s = try Store(path: dir.appendingPathComponent("a.sqlite").path)
        try s.register(sampleRun("r1"))
        try s.register(sampleRun("r2", model: "m-0002-bbbb", episodes: 2))
        XCTAssertEqual(try s.runs().map(\.runID).sorted(), ["r1", "r2"])
        let d = try s.run("r1")
        XCTAssertEqual(d.summary.seed, String(UInt64.max), "seeds above Int64.max survive")
        XCTAssertEqual(d.summary.episodes, 3)
        XCTAssertEqual(d.metrics.count, 2)
        XCTAssertNil(d.metrics[1].value, "NaN is stored as NULL")
        XCTAssertEqual(d.agents.first?.checkpointID, "m-0001-aaaa")
        let e = try s.episodes(user: "u1")
        XCTAssertEqual(e.count, 5)
        XCTAssertEqual(e.map(\.episode.timestamp), e.map(\.episode.timestamp).sorted())
        XCTAssertEqual(try s.metrics(model: "m-0002").map(\.runID), ["r2", "r2"], "a unique id prefix resolves")
        XCTAssertThrowsError(try s.resolveModel("m-00")) { e in
            guard case StoreError.ambiguous = e else { return XCTFail("\(e)") }
        }
        XCTAssertEqual(try s.resolveRun("r1"), "r1")
        XCTAssertEqual(try s.resolveRun("/tmp/r2"), "r2", "a run's report directory names it")
        XCTAssertThrowsError(try s.resolveRun("r")) { e in
            guard case StoreError.ambiguous = e else { return XCTFail("\(e)") }
        }
        XCTAssertEqual(try s.uniqueRunID("r1"), "r1-2")
        XCTAssertEqual(try s.count("reward_signals"), 5)
    }

    /// A registration that fails part-way leaves nothing: not the run, its models or its rows.
    func testRegistrationIsAllOrNothing() throws {
        let s = try Store(path: dir.appendingPathComponent("b.sqlite").path)
        var bad = sampleRun("r1")
        bad.episodes.append(bad.episodes[0])   // a duplicate key, after the run, its models and metrics are inserted
        XCTAssertThrowsError(try s.register(bad))
        for t in ["runs", "run_agents", "metrics", "training_episodes", "reward_signals", "model_checkpoints"] {
            XCTAssertEqual(try s.count(t), 0, t)
        }
        try s.register(sampleRun("r1"))
        XCTAssertThrowsError(try s.register(sampleRun("r1"))) { e in XCTAssertTrue("\(e)".contains("already registered"), "\(e)") }
        XCTAssertEqual(try s.count("training_episodes"), 3)
    }

    func testAliasesHistoryAndRollback() throws {
        let s = try Store(path: dir.appendingPathComponent("c.sqlite").path)
        try s.register(sampleRun("r1", model: "m-0001-aaaa"))
        try s.register(sampleRun("r2", model: "m-0002-bbbb"))
        XCTAssertThrowsError(try s.rollback("champion", reason: "x"))
        try s.setAlias("champion", to: "m-0001-aaaa", reason: "first")
        XCTAssertThrowsError(try s.rollback("champion", reason: "x"), "nothing to roll back to")
        try s.setAlias("challenger", to: "m-0002-bbbb", reason: "trained")
        let e = try s.setAlias("champion", to: "challenger", reason: "promoted")
        XCTAssertEqual(e.previousID, "m-0001-aaaa")
        XCTAssertEqual(try s.model("champion").id, "m-0002-bbbb")
        XCTAssertEqual(try s.models().filter(\.active).map(\.id), ["m-0002-bbbb"])
        let back = try s.rollback("champion", reason: "degraded")
        XCTAssertEqual(back.checkpointID, "m-0001-aaaa")
        XCTAssertEqual(try s.models().filter(\.active).map(\.id), ["m-0001-aaaa"])
        XCTAssertEqual(try s.aliasHistory("champion").map(\.reason), ["first", "promoted", "degraded"])
        XCTAssertEqual(try s.aliasHistory("champion").map(\.checkpointID), ["m-0001-aaaa", "m-0002-bbbb", "m-0001-aaaa"])
        XCTAssertThrowsError(try s.setAlias("bad name", to: "m-0001-aaaa", reason: ""))
        XCTAssertThrowsError(try s.setAlias("x", to: "nothing", reason: "")) { e in
            XCTAssertTrue("\(e)".contains("no model or alias 'nothing'"), "\(e)")
        }
        // A verdict and its alias move are one transaction: a rollback that cannot happen records no verdict.
        try s.setAlias("solo", to: "m-0001-aaaa", reason: "x")
        let v = VerdictRecord(runID: "r1", rulesFile: "f", mode: "watch", passed: false, action: nil, results: [])
        XCTAssertThrowsError(try s.recordVerdict(v, rollback: ("solo", "m-0001-aaaa", "m-0002-bbbb"), reason: "r"))
        // ... and neither does a promotion over a champion that moved while the gate ran.
        XCTAssertThrowsError(try s.recordVerdict(v, promote: ("champion", "m-0002-bbbb", "m-0002-bbbb"), reason: "r")) { e in
            XCTAssertTrue("\(e)".contains("moved while the gate ran"), "\(e)")
        }
        XCTAssertEqual(try s.count("gate_verdicts"), 0)
    }

    /// History is a stack: each rollback undoes the latest change still standing, so rolling back
    /// twice goes back twice and never returns to a model a rollback rejected; naming the model an
    /// alias already names records nothing; watch judges only a change still standing.
    func testRollbackUndoesChangesInTurn() throws {
        let s = try Store(path: dir.appendingPathComponent("d.sqlite").path)
        for (run, m) in [("r1", "m-000a-aaaa"), ("r2", "m-000b-bbbb"), ("r3", "m-000c-cccc")] { try s.register(sampleRun(run, model: m)) }
        try s.setAlias("champion", to: "m-000a-aaaa", reason: "A")
        XCTAssertNil(try s.watchPair("champion"), "a first alias has nothing before it")
        try s.setAlias("champion", to: "m-000b-bbbb", reason: "B")
        let same = try s.setAlias("champion", to: "m-000b-bbbb", reason: "B again")
        XCTAssertEqual(same.kind, "unchanged")
        let v = VerdictRecord(runID: "r3", rulesFile: "f", mode: "promote", passed: true, action: nil, results: [])
        try s.recordVerdict(v, promote: ("champion", "m-000c-cccc", "m-000b-bbbb"), reason: "C promoted")
        XCTAssertEqual(try s.watchPair("champion")?.current, "m-000c-cccc")
        XCTAssertEqual(try s.watchPair("champion")?.previous, "m-000b-bbbb")
        XCTAssertEqual(try s.rollback("champion", reason: "undo C").checkpointID, "m-000b-bbbb")
        XCTAssertNil(try s.watchPair("champion"), "a model restored by a rollback was judged already")
        XCTAssertEqual(try s.rollback("champion", reason: "undo B").checkpointID, "m-000a-aaaa")
        XCTAssertThrowsError(try s.rollback("champion", reason: "nothing left"))
        XCTAssertEqual(try s.aliasHistory("champion").map(\.kind), ["set", "set", "promote", "rollback", "rollback"])
        XCTAssertEqual(try s.model("champion").id, "m-000a-aaaa")
    }

    func testCorruptAndNewerStoresAreRefused() throws {
        let junk = dir.appendingPathComponent("junk.sqlite")
        try Data("not a database at all, but long enough to have a header\n".utf8).write(to: junk)
        XCTAssertThrowsError(try Store(path: junk.path)) { e in
            guard case StoreError.corrupt(let path, _) = e else { return XCTFail("\(e)") }
            XCTAssertEqual(path, junk.path)
            XCTAssertEqual((e as? ClassifiedError)?.failureKind, .badInput)
        }
        let newer = dir.appendingPathComponent("newer.sqlite").path
        do {
            let s = try Store(path: newer)
            try s.write { db in try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v99')") }
        }
        XCTAssertThrowsError(try Store(path: newer)) { e in
            guard case StoreError.newerSchema(_, let unknown) = e else { return XCTFail("\(e)") }
            XCTAssertEqual(unknown, ["v99"])
        }
        XCTAssertThrowsError(try Store(path: dir.appendingPathComponent("missing.sqlite").path, mustExist: true)) { e in
            guard case StoreError.missing = e else { return XCTFail("\(e)") }
        }
        // Opening twice applies the migrations once.
        let p = dir.appendingPathComponent("twice.sqlite").path
        _ = try Store(path: p)
        let s = try Store(path: p)
        XCTAssertEqual(try s.read { db in try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations") }, ["v1", "v2-jobs"])
    }
}
