import Foundation
import GymStore
import GymTestSupport
import Hummingbird
import HummingbirdTesting
import XCTest
@testable import GymServer

/// The server's routes over a store holding one run (HummingbirdTesting's router and live modes).
final class ServerTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("optima-server-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    /// A store with one run: model m-0001-aaaa (alias champion), user u1's three episodes, metrics
    /// (one not measured), and a report directory with a chart.
    func store() throws -> Store {
        let s = try Store(path: dir.appendingPathComponent("s.sqlite").path)
        let report = dir.appendingPathComponent("report")
        try FileManager.default.createDirectory(at: report, withIntermediateDirectories: true)
        try "<?xml version=\"1.0\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"10\" height=\"10\"><title>curve</title></svg>\n"
            .write(to: report.appendingPathComponent("learning_curve.svg"), atomically: true, encoding: .utf8)
        var r = RunImport(runID: "20261207-120000-seed1", kind: "run", scenario: "baseline", scenarioFile: "scenarios/baseline.yaml",
                          scenarioText: "name: baseline\n", seed: 1, startedAt: "2026-12-07T12:00:00Z", wallTimeSeconds: 2.5,
                          projectVersion: "test", reportDir: report.path, gatePassed: false)
        r.agents = [.init(name: "epsilon_greedy", checkpointID: "m-0001-aaaa", isUpperBound: false, trainingDecisions: 10, evaluationDecisions: 3)]
        r.checkpoints = [.init(id: "m-0001-aaaa", modelType: "epsilon_greedy", agent: "epsilon_greedy", weightsURL: "inline", performanceMetrics: "{\"mean_reward\":0.25}",
                               trainingDate: "2026-12-07T12:00:00Z", lineage: "{}", parentID: nil, payload: Data("{}".utf8))]
        r.metrics = [.init(agent: "epsilon_greedy", name: "mean_reward", value: 0.25, ciLow: 0.2, ciHigh: 0.3, n: 3, note: nil),
                     .init(agent: "epsilon_greedy", name: "transfer", value: .nan, ciLow: .nan, ciHigh: .nan, n: 0, note: "not measured")]
        for i in 0..<3 {
            r.episodes.append(.init(episodeID: "e\(i)", userID: "u1", contextSnapshot: "{\"i\":\(i)}", actionTaken: "no_action", outcome: "neutral",
                                    rewardScore: Double(i) / 10, timestamp: "2026-01-05T00:00:0\(i)Z", modelVersion: "m-0001-aaaa", propensity: 0.5, journeyStep: i))
        }
        try s.register(r)
        _ = try s.setAlias("champion", to: "m-0001-aaaa", reason: "test")
        return s
    }

    func app(_ s: Store) -> some ApplicationProtocol { Application(router: MLServer.router(store: s)) }

    func object(_ b: ByteBuffer) throws -> [String: Any] {
        try XCTUnwrap(JSONSerialization.jsonObject(with: Data(buffer: b)) as? [String: Any], String(buffer: b))
    }

    func testEndpointsWithValidInput() async throws {
        let s = try store()
        try await app(s).test(.router) { client in
            try await client.execute(uri: "/api/ml/models", method: .get) { r in
                XCTAssertEqual(r.status, .ok)
                XCTAssertEqual(r.headers[.contentType], "application/json")
                let models = try XCTUnwrap(try self.object(r.body)["models"] as? [[String: Any]])
                XCTAssertEqual(models.count, 1)
                XCTAssertEqual(models[0]["id"] as? String, "m-0001-aaaa")
                XCTAssertEqual(models[0]["aliases"] as? [String], ["champion"])
                XCTAssertEqual(models[0]["model_type"] as? String, "epsilon_greedy")
            }
            for ref in ["m-0001-aaaa", "m-0001", "champion", "m%2D0001"] {
                try await client.execute(uri: "/api/ml/metrics/\(ref)", method: .get) { r in
                    XCTAssertEqual(r.status, .ok, ref)
                    let o = try self.object(r.body)
                    XCTAssertEqual(o["model_id"] as? String, "m-0001-aaaa", ref)
                    let metrics = try XCTUnwrap(o["metrics"] as? [[String: Any]])
                    XCTAssertEqual(metrics.count, 2)
                    let mean = try XCTUnwrap(metrics.first { $0["name"] as? String == "mean_reward" })
                    XCTAssertEqual(mean["value"] as? Double, 0.25)
                    XCTAssertEqual(mean["ci_low"] as? Double, 0.2)
                    let transfer = try XCTUnwrap(metrics.first { $0["name"] as? String == "transfer" })
                    XCTAssertNil(transfer["value"], "not measured: no value")
                }
            }
            try await client.execute(uri: "/api/ml/episodes/u1?limit=2", method: .get) { r in
                XCTAssertEqual(r.status, .ok)
                let episodes = try XCTUnwrap(try self.object(r.body)["episodes"] as? [[String: Any]])
                XCTAssertEqual(episodes.map { $0["episode_id"] as? String }, ["e0", "e1"])
                XCTAssertEqual(episodes[1]["reward_score"] as? Double, 0.1)
            }
            try await client.execute(uri: "/api/ml/episodes/nobody", method: .get) { r in
                XCTAssertEqual(r.status, .ok)
                XCTAssertEqual((try self.object(r.body)["episodes"] as? [Any])?.count, 0)
            }
            try await client.execute(uri: "/openapi.json", method: .get) { r in
                XCTAssertEqual(r.status, .ok)
                XCTAssertEqual(try self.object(r.body)["openapi"] as? String, "3.1.0")
            }
            try await client.execute(uri: "/", method: .get) { r in
                XCTAssertEqual(r.status, .ok)
                let html = String(buffer: r.body)
                XCTAssertTrue(html.contains("<a href=\"/runs/20261207-120000-seed1\">"), html)
                XCTAssertTrue(html.contains("<span class=\"failed\">FAILED</span>"), html)
                XCTAssertTrue(html.contains("champion"), html)
                XCTAssertTrue(html.contains("<table id=\"champion-history\">") && html.contains("<td>test</td>"), "the champion's history: \(html)")
            }
            try await client.execute(uri: "/runs/20261207-120000", method: .get) { r in
                XCTAssertEqual(r.status, .ok)
                let html = String(buffer: r.body)
                XCTAssertTrue(html.contains("<td>mean_reward</td><td class=\"num\">0.2500</td><td class=\"num\">[0.2000, 0.3000]</td>"), html)
                XCTAssertTrue(html.contains("<div class=\"chart\" id=\"learning_curve\"><svg"), html)
            }
        }
    }

    /// The GET answers are cached, and a commit by another connection (here a second Store on the
    /// same file, as `optima-gym run` in another process would be) is seen by the next request.
    func testCachedAnswersFollowTheStore() async throws {
        let s = try store()
        try await app(s).test(.router) { client in
            for _ in 0..<2 {
                try await client.execute(uri: "/api/ml/metrics/champion", method: .get) { r in
                    XCTAssertEqual(try self.object(r.body)["model_id"] as? String, "m-0001-aaaa")
                }
                try await client.execute(uri: "/api/ml/models", method: .get) { r in
                    XCTAssertEqual((try self.object(r.body)["models"] as? [Any])?.count, 1)
                }
            }
            let other = try Store(path: self.dir.appendingPathComponent("s.sqlite").path)
            var r = RunImport(runID: "20261207-130000-seed2", kind: "run", scenario: "baseline", scenarioFile: "scenarios/baseline.yaml",
                              scenarioText: "name: baseline\n", seed: 2, startedAt: "2026-12-07T13:00:00Z", wallTimeSeconds: 1,
                              projectVersion: "test", reportDir: "", gatePassed: true)
            r.agents = [.init(name: "ppo", checkpointID: "m-0002-bbbb", isUpperBound: false, trainingDecisions: 10, evaluationDecisions: 3)]
            r.checkpoints = [.init(id: "m-0002-bbbb", modelType: "ppo", agent: "ppo", weightsURL: "inline", performanceMetrics: "{}",
                                   trainingDate: "2026-12-07T13:00:00Z", lineage: "{}", parentID: nil, payload: Data("{}".utf8))]
            r.metrics = [.init(agent: "ppo", name: "mean_reward", value: 0.5, ciLow: 0.4, ciHigh: 0.6, n: 3, note: nil)]
            try other.register(r)
            _ = try other.setAlias("champion", to: "m-0002-bbbb", reason: "test")
            try await client.execute(uri: "/api/ml/metrics/champion", method: .get) { r in
                let o = try self.object(r.body)
                XCTAssertEqual(o["model_id"] as? String, "m-0002-bbbb")
                XCTAssertEqual((o["metrics"] as? [[String: Any]])?.first?["value"] as? Double, 0.5)
            }
            try await client.execute(uri: "/api/ml/models", method: .get) { r in
                XCTAssertEqual((try self.object(r.body)["models"] as? [Any])?.count, 2)
            }
        }
    }

    func testComparePage() async throws {
        let s = try store()
        var r = RunImport(runID: "20261207-130000-seed2", kind: "run", scenario: "baseline", scenarioFile: "scenarios/baseline.yaml",
                          scenarioText: "name: baseline\n", seed: 2, startedAt: "2026-12-07T13:00:00Z", wallTimeSeconds: 1,
                          projectVersion: "test", reportDir: "", gatePassed: true)
        r.agents = [.init(name: "epsilon_greedy", checkpointID: nil, isUpperBound: false, trainingDecisions: 10, evaluationDecisions: 3)]
        r.metrics = [.init(agent: "epsilon_greedy", name: "mean_reward", value: 0.5, ciLow: 0.4, ciHigh: 0.6, n: 3, note: nil)]
        try s.register(r)
        try await app(s).test(.router) { client in
            try await client.execute(uri: "/compare?a=20261207-120000&b=20261207-130000", method: .get) { r in
                XCTAssertEqual(r.status, .ok)
                let html = String(buffer: r.body)
                XCTAssertTrue(html.contains("<table id=\"compare\">"), html)
                XCTAssertTrue(html.contains("+0.2500"), "B - A of mean_reward: \(html)")
                XCTAssertTrue(html.contains("PASSED") && html.contains("FAILED"), html)
            }
            for (uri, status, field) in [("/compare?a=20261207-120000", HTTPResponse.Status.badRequest, "b:"),
                                         ("/compare?a=nope&b=20261207-130000", .notFound, "nope"),
                                         ("/compare?a=..&b=20261207-130000", .badRequest, "a:")] {
                try await client.execute(uri: uri, method: .get) { r in
                    XCTAssertEqual(r.status, status, uri)
                    let message = (try? self.object(r.body)["error"] as? [String: Any])?["message"] as? String ?? ""
                    XCTAssertTrue(message.contains(field), "\(uri): \(message)")
                }
            }
        }
    }

    func testResponseCacheKeepsOnlyTheCurrentVersion() {
        let c = ResponseCache(capacity: 2)
        c.put("a", version: 5, ByteBuffer(string: "A5"))
        XCTAssertEqual(c.get("a", version: 5).map { String(buffer: $0) }, "A5")
        XCTAssertNil(c.get("a", version: 6), "another version: a miss")
        c.put("b", version: 4, ByteBuffer(string: "B4"))
        XCTAssertNil(c.get("b", version: 4), "made under an older version: not kept")
        XCTAssertEqual(c.get("a", version: 5).map { String(buffer: $0) }, "A5")
        c.put("b", version: 5, ByteBuffer(string: "B5"))
        c.put("c", version: 5, ByteBuffer(string: "C5"))
        XCTAssertNil(c.get("a", version: 5), "full: emptied")
        XCTAssertEqual(c.get("c", version: 5).map { String(buffer: $0) }, "C5")
        c.put("a", version: 7, ByteBuffer(string: "A7"))
        XCTAssertNil(c.get("c", version: 5))
        XCTAssertEqual(c.get("a", version: 7).map { String(buffer: $0) }, "A7")
        // Bytes: an answer over the entry limit is never kept; passing the total empties the cache.
        let b = ResponseCache(capacity: 100, maxBytes: 30, maxEntryBytes: 20)
        b.put("k1", version: 1, ByteBuffer(string: String(repeating: "x", count: 19)))
        XCTAssertNil(b.get("k1", version: 1), "2 + 19 bytes is over the entry limit of 20")
        b.put("k1", version: 1, ByteBuffer(string: String(repeating: "x", count: 10)))
        b.put("k2", version: 1, ByteBuffer(string: String(repeating: "y", count: 10)))
        XCTAssertEqual(b.heldBytes, 24)
        b.put("k3", version: 1, ByteBuffer(string: String(repeating: "z", count: 10)))
        XCTAssertNil(b.get("k1", version: 1), "36 bytes would pass 30: emptied first")
        XCTAssertNotNil(b.get("k3", version: 1))
        XCTAssertEqual(b.heldBytes, 12)
        b.put("k3", version: 1, ByteBuffer(string: "zz"))
        XCTAssertEqual(b.heldBytes, 4, "a replaced answer's bytes are given back")
    }

    /// Invalid input: 4xx naming the field, never a 5xx; ids cannot reach outside the store.
    func testInvalidInputGets4xxNamingTheField() async throws {
        let s = try store()
        try await app(s).test(.router) { client in
            let cases: [(String, HTTPResponse.Status, String)] = [
                ("/api/ml/models?limit=0", .badRequest, "limit"),
                ("/api/ml/models?limit=abc", .badRequest, "limit"),
                ("/api/ml/metrics/unknown-model", .notFound, "unknown-model"),
                ("/api/ml/metrics/..", .badRequest, "modelId"),
                ("/api/ml/metrics/a%2F..%2F..%2Fetc%2Fpasswd", .badRequest, "modelId"),
                ("/api/ml/metrics/" + String(repeating: "x", count: 200), .badRequest, "modelId"),
                ("/api/ml/episodes/u1?limit=100000", .badRequest, "limit"),
                ("/api/ml/episodes/%00", .badRequest, "userId"),
                ("/runs/nope", .notFound, "nope"),
            ]
            for (uri, status, field) in cases {
                try await client.execute(uri: uri, method: .get) { r in
                    XCTAssertEqual(r.status, status, uri)
                    let message = (try? self.object(r.body)["error"] as? [String: Any])?["message"] as? String ?? ""
                    XCTAssertTrue(message.contains(field), "\(uri): \(message)")
                }
            }
            try await client.execute(uri: "/api/ml/nothing", method: .get) { r in XCTAssertEqual(r.status, .notFound) }
            for method in [HTTPRequest.Method.post, .delete, .put] {
                try await client.execute(uri: "/api/ml/models", method: method) { r in
                    XCTAssertEqual(r.status, .methodNotAllowed, "\(method)")
                    XCTAssertEqual(r.headers[.allow], "GET")
                }
            }
        }
    }

    /// The served document is the repository's docs/openapi.json (the same JSON, compact).
    func testOpenAPIDocumentIsTheRepositoryCopy() throws {
        let repo = try Data(contentsOf: repositoryRoot().appendingPathComponent("docs/openapi.json"))
        let served = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(OpenAPIDocument.text.utf8)) as? NSDictionary)
        XCTAssertEqual(served, try XCTUnwrap(JSONSerialization.jsonObject(with: repo) as? NSDictionary))
    }

    /// A real server on loopback (an ephemeral port), spoken to over TCP.
    func testLiveServerOnLoopback() async throws {
        let s = try store()
        try await app(s).test(.live) { client in
            try await client.execute(uri: "/api/ml/metrics/champion", method: .get) { r in
                XCTAssertEqual(r.status, .ok)
                XCTAssertEqual(try self.object(r.body)["model_id"] as? String, "m-0001-aaaa")
            }
        }
    }
}
