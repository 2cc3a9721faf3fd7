import Foundation
import GymStore
import GymTestSupport
import Hummingbird
import HummingbirdTesting
import XCTest
@testable import GymServer

/// POST /api/ml/episode and /api/ml/reward: the token, the validation, the store.
final class MutationTests: XCTestCase {
    var dir: URL!
    let token = "test-token-0123456789"

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("optima-mut-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func episode(_ id: String = "ep-1", user: String = "u-7") -> [String: Any] {
        ["episode_id": id, "user_id": user, "context_snapshot": ["stress": 0.4], "action_taken": "suggest_pairing:2", "outcome": "success",
         "reward_score": 0.35, "timestamp": "2026-12-07T12:00:00Z", "model_version": "m-0001-aaaa", "propensity": 0.25, "journey_step": 3]
    }

    func body(_ o: [String: Any]) throws -> ByteBuffer { ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: o)) }

    func message(_ b: ByteBuffer) -> String {
        ((try? JSONSerialization.jsonObject(with: Data(buffer: b))) as? [String: Any]).flatMap { ($0["error"] as? [String: Any])?["message"] as? String } ?? ""
    }

    func testEpisodesAndSignalsAreStored() async throws {
        let s = try Store(path: dir.appendingPathComponent("s.sqlite").path)
        let auth: HTTPFields = [.authorization: "Bearer \(token)", .contentType: "application/json"]
        try await Application(router: MLServer.router(store: s, token: token)).test(.router) { client in
            try await client.execute(uri: "/api/ml/episode", method: .post, headers: auth, body: try self.body(self.episode())) { r in
                XCTAssertEqual(r.status, .created, self.message(r.body))
            }
            try await client.execute(uri: "/api/ml/episode", method: .post, headers: auth, body: try self.body(self.episode())) { r in
                XCTAssertEqual(r.status, .conflict)
                XCTAssertTrue(self.message(r.body).hasPrefix("episode_id:"), self.message(r.body))
            }
            let signal: [String: Any] = ["signal_id": "sig-1", "episode_id": "ep-1", "signal_type": "resonance", "value": 0.8, "latency": 3600, "confidence": 0.9]
            try await client.execute(uri: "/api/ml/reward", method: .post, headers: auth, body: try self.body(signal)) { r in
                XCTAssertEqual(r.status, .created, self.message(r.body))
            }
            try await client.execute(uri: "/api/ml/reward", method: .post, headers: auth, body: try self.body(signal)) { r in
                XCTAssertEqual(r.status, .conflict, self.message(r.body))
            }
            var orphan = signal
            orphan["signal_id"] = "sig-2"; orphan["episode_id"] = "ep-nope"
            try await client.execute(uri: "/api/ml/reward", method: .post, headers: auth, body: try self.body(orphan)) { r in
                XCTAssertEqual(r.status, .notFound)
                XCTAssertTrue(self.message(r.body).hasPrefix("episode_id:"), self.message(r.body))
            }
            try await client.execute(uri: "/api/ml/episodes/u-7", method: .get) { r in
                let o = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(buffer: r.body)) as? [String: Any])
                let episodes = try XCTUnwrap(o["episodes"] as? [[String: Any]])
                XCTAssertEqual(episodes.count, 1)
                XCTAssertEqual(episodes[0]["run_id"] as? String, "live")
                XCTAssertEqual(episodes[0]["context_snapshot"] as? String, "{\"stress\":0.4}")
                XCTAssertEqual(episodes[0]["propensity"] as? Double, 0.25)
            }
        }
        XCTAssertEqual(try s.liveEpisodeCount(), 1)
    }

    func testTokenAndValidation() async throws {
        let s = try Store(path: dir.appendingPathComponent("s.sqlite").path)
        try await Application(router: MLServer.router(store: s, token: nil)).test(.router) { client in
            try await client.execute(uri: "/api/ml/episode", method: .post, headers: [.authorization: "Bearer \(self.token)"], body: try self.body(self.episode())) { r in
                XCTAssertEqual(r.status, .forbidden, "no token configured: read-only")
            }
        }
        try await Application(router: MLServer.router(store: s, token: token)).test(.router) { client in
            for header in [nil, "Bearer wrong-token-0123456789", "Basic abc", "Bearer \(self.token)x"] {
                let h: HTTPFields = header.map { [.authorization: $0] } ?? [:]
                try await client.execute(uri: "/api/ml/episode", method: .post, headers: h, body: try self.body(self.episode())) { r in
                    XCTAssertEqual(r.status, .unauthorized, header ?? "none")
                    XCTAssertEqual(r.headers[.wwwAuthenticate], "Bearer")
                }
            }
            let auth: HTTPFields = [.authorization: "Bearer \(self.token)"]
            let bad: [(String, Any?, String)] = [
                ("episode_id", "../etc", "episode_id: expected 1 to 128"), ("user_id", nil, "user_id: required"), ("outcome", "great", "outcome: expected one of"),
                ("reward_score", 1.5, "reward_score: expected a number in [-1.0, 1.0]"), ("reward_score", "high", "reward_score: expected a number"),
                ("reward_score", true, "reward_score: expected a number"),
                ("timestamp", "yesterday", "timestamp: expected an ISO 8601"), ("propensity", 0, "propensity: expected a number in (0.0, 1.0]"),
                ("journey_step", 1.5, "journey_step: expected an integer"), ("context_snapshot", "text", "context_snapshot: expected a JSON object"),
                ("colour", "blue", "colour: unknown field"),
            ]
            for (field, value, fragment) in bad {
                var e = self.episode()
                e[field] = value
                try await client.execute(uri: "/api/ml/episode", method: .post, headers: auth, body: try self.body(e)) { r in
                    XCTAssertEqual(r.status, .badRequest, "\(field)=\(String(describing: value))")
                    XCTAssertTrue(self.message(r.body).hasPrefix(fragment), "\(field): \(self.message(r.body))")
                }
            }
            try await client.execute(uri: "/api/ml/episode", method: .post, headers: auth, body: ByteBuffer(string: "[1, 2]")) { r in
                XCTAssertEqual(r.status, .badRequest)
                XCTAssertTrue(self.message(r.body).hasPrefix("body:"))
            }
            var big = self.episode()
            big["action_taken"] = String(repeating: "x", count: 70_000)
            try await client.execute(uri: "/api/ml/episode", method: .post, headers: auth, body: try self.body(big)) { r in
                XCTAssertEqual(r.status, .contentTooLarge)
            }
            try await client.execute(uri: "/api/ml/episode", method: .get) { r in
                XCTAssertEqual(r.status, .methodNotAllowed)
                XCTAssertEqual(r.headers[.allow], "POST")
            }
        }
        XCTAssertEqual(try s.liveEpisodeCount(), 0, "nothing stored from bad requests")
    }
}
