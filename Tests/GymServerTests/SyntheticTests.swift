import Foundation
import GymRunner
import GymStore
import GymTestSupport
import Hummingbird
import HummingbirdTesting
import XCTest
@testable import GymServer

/// POST /api/ml/synthetic/generate and /augment, GET /api/ml/synthetic/stats over a persona
/// model fitted here (a numeric and a categorical column).
final class SyntheticTests: XCTestCase {
    var dir: URL!
    let token = "test-token-0123456789"
    var auth: HTTPFields { [.authorization: "Bearer \(token)", .contentType: "application/json"] }

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("optima-synth-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("personas"), withIntermediateDirectories: true)
        let data = dir.appendingPathComponent("people.csv")
        var csv = "age,colour\n"
        for i in 0..<300 { csv += "\(20 + i % 50),\(["red", "green", "blue"][i % 3])\n" }
        try csv.write(to: data, atomically: true, encoding: .utf8)
        var q = SynthFitRequest(realPath: data.path, outPath: dir.appendingPathComponent("personas/people.json").path)
        q.bounds = ["age": (0, 100)]
        q.budget = 10
        q.ledgerPath = dir.appendingPathComponent("ledger.json").path
        _ = try SynthJobs.fit(q)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func body(_ o: [String: Any]) throws -> ByteBuffer { ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: o)) }
    func object(_ b: ByteBuffer) throws -> [String: Any] {
        try XCTUnwrap(JSONSerialization.jsonObject(with: Data(buffer: b)) as? [String: Any], String(buffer: b))
    }
    func message(_ b: ByteBuffer) -> String { ((try? object(b))?["error"] as? [String: Any])?["message"] as? String ?? "" }

    func app(_ s: Store) -> some ApplicationProtocol {
        var settings = SyntheticSettings()
        settings.modelsDir = dir.appendingPathComponent("personas").path
        settings.maxProfiles = 50
        return Application(router: MLServer.router(store: s, token: token, synthetic: settings))
    }

    func testGenerateAugmentAndStats() async throws {
        let s = try Store(path: dir.appendingPathComponent("s.sqlite").path)
        try await app(s).test(.router) { client in
            var first = ""
            for round in 0..<2 {
                try await client.execute(uri: "/api/ml/synthetic/generate", method: .post, headers: self.auth,
                                         body: try self.body(["model": "people", "count": 5, "seed": 3])) { r in
                    XCTAssertEqual(r.status, .ok, self.message(r.body))
                    let o = try self.object(r.body)
                    XCTAssertEqual(o["count"] as? Int, 5)
                    XCTAssertEqual(o["stored"] as? Int, round == 0 ? 5 : 0, "the same seed gives the same ids: stored once")
                    let p = try XCTUnwrap((o["profiles"] as? [[String: Any]])?.first)
                    XCTAssertEqual(p["source"] as? String, "generated")
                    XCTAssertEqual((p["persona_vector"] as? [Double])?.count, 512)
                    let traits = try XCTUnwrap(p["traits"] as? [String: Any])
                    let age = try XCTUnwrap(traits["age"] as? Double)
                    XCTAssertTrue((0...100).contains(age), "\(age)")
                    XCTAssertTrue(["red", "green", "blue"].contains(traits["colour"] as? String ?? ""), "\(traits)")
                    if round == 0 { first = String(buffer: r.body) } else {
                        XCTAssertEqual(String(buffer: r.body).replacingOccurrences(of: "\"stored\":0", with: "\"stored\":5"), first, "deterministic")
                    }
                }
            }
            let rows: [[String: Any]] = [["age": 30, "colour": "red"], ["age": 41.5, "colour": "red"], ["age": 25, "colour": "blue"]]
            try await client.execute(uri: "/api/ml/synthetic/augment", method: .post, headers: self.auth,
                                     body: try self.body(["model": "people", "rows": rows, "target_size": 10])) { r in
                XCTAssertEqual(r.status, .ok, self.message(r.body))
                let o = try self.object(r.body)
                XCTAssertEqual(o["real"] as? Int, 3)
                XCTAssertEqual(o["augmented"] as? Int, 7)
                XCTAssertEqual((o["profiles"] as? [[String: Any]])?.count, 7)
                XCTAssertEqual((o["profiles"] as? [[String: Any]])?.allSatisfy { $0["source"] as? String == "augmented" }, true)
            }
            try await client.execute(uri: "/api/ml/synthetic/augment", method: .post, headers: self.auth,
                                     body: try self.body(["model": "people", "rows": rows, "balance": "colour", "seed": 2])) { r in
                XCTAssertEqual(r.status, .ok, self.message(r.body))
                let profiles = try XCTUnwrap(try self.object(r.body)["profiles"] as? [[String: Any]])
                // red 2, green 0, blue 1: two green and one blue balance it.
                let colours = profiles.compactMap { ($0["traits"] as? [String: Any])?["colour"] as? String }.sorted()
                XCTAssertEqual(colours, ["blue", "green", "green"])
            }
            try await client.execute(uri: "/api/ml/synthetic/stats", method: .get) { r in
                XCTAssertEqual(r.status, .ok)
                let o = try self.object(r.body)
                let m = try XCTUnwrap((o["models"] as? [[String: Any]])?.first)
                XCTAssertEqual(m["name"] as? String, "people")
                XCTAssertEqual(m["numeric_columns"] as? [String], ["age"])
                XCTAssertEqual(m["categorical_columns"] as? [String], ["colour"])
                XCTAssertEqual(m["rows_used"] as? Int, 300)
                XCTAssertEqual(o["stored_by_server"] as? [String: Int], ["generated": 5, "augmented": 10])
                let served = try XCTUnwrap(o["served_since_start"] as? [String: Int])
                XCTAssertEqual(served["generate_requests"], 2)
                XCTAssertEqual(served["profiles_generated"], 10)
                XCTAssertEqual(served["augment_requests"], 2)
                XCTAssertEqual(served["profiles_augmented"], 10)
            }
        }
        XCTAssertEqual(try s.count("synthetic_profiles"), 15)
    }

    /// The wait cap: work that outlives it gets 503 naming what, and its result is dropped.
    func testOffloadAnswers503WhenTheWorkOutlivesTheTimeout() async throws {
        let queue = DispatchQueue(label: "test.offload")
        do {
            _ = try await MLServer.offload(queue, timeout: 0.05, what: "generate") { () -> Int in Thread.sleep(forTimeInterval: 0.5); return 1 }
            XCTFail("no 503")
        } catch let e as HTTPError {
            XCTAssertEqual(e.status, .serviceUnavailable)
            XCTAssertTrue((e.body ?? "").contains("generate: not finished within 0.05 s"), e.body ?? "")
        }
        let quick = try await MLServer.offload(queue, timeout: 5, what: "generate") { 42 }
        XCTAssertEqual(quick, 42, "in time: the result")
    }

    func testBadSyntheticRequestsGet4xxNamingTheField() async throws {
        let s = try Store(path: dir.appendingPathComponent("s.sqlite").path)
        let rows: [[String: Any]] = [["age": 30, "colour": "red"]]
        try await app(s).test(.router) { client in
            let cases: [(String, [String: Any], HTTPResponse.Status, String)] = [
                ("generate", ["model": "people", "count": 51], .badRequest, "count:"),
                ("generate", ["model": "people", "count": 0], .badRequest, "count:"),
                ("generate", ["model": "people"], .badRequest, "count:"),
                ("generate", ["model": "../people", "count": 1], .badRequest, "model:"),
                ("generate", ["model": "nope", "count": 1], .notFound, "model:"),
                ("generate", ["model": "people", "count": 1, "variance_scale": 0], .badRequest, "variance_scale:"),
                ("generate", ["model": "people", "count": 1, "edge_cases": "yes"], .badRequest, "edge_cases:"),
                ("generate", ["model": "people", "count": 1, "size": 3], .badRequest, "size:"),
                ("augment", ["model": "people", "rows": [], "target_size": 2], .badRequest, "rows:"),
                ("augment", ["model": "people", "rows": [["age": 30]], "target_size": 2], .unprocessableContent, "rows[0].colour:"),
                ("augment", ["model": "people", "rows": [["age": "old", "colour": "red"]], "target_size": 2], .unprocessableContent, "rows[0].age:"),
                ("augment", ["model": "people", "rows": [["age": 30, "colour": "red", "x": 1]], "target_size": 2], .unprocessableContent, "rows[0].x:"),
                ("augment", ["model": "people", "rows": rows], .badRequest, "target_size:"),
                ("augment", ["model": "people", "rows": rows, "target_size": 2, "balance": "colour"], .badRequest, "target_size:"),
                ("augment", ["model": "people", "rows": rows, "target_size": 52], .unprocessableContent, "target_size:"),
                ("augment", ["model": "people", "rows": rows, "target_size": 101], .badRequest, "target_size:"),
                ("augment", ["model": "people", "rows": rows, "balance": "age"], .unprocessableContent, "balance:"),
            ]
            for (path, b, status, field) in cases {
                try await client.execute(uri: "/api/ml/synthetic/\(path)", method: .post, headers: self.auth, body: try self.body(b)) { r in
                    XCTAssertEqual(r.status, status, "\(path) \(b): \(self.message(r.body))")
                    XCTAssertTrue(self.message(r.body).hasPrefix(field), "\(path) \(b): \(self.message(r.body))")
                    XCTAssertFalse(self.message(r.body).contains(self.dir.path), "no server path: \(self.message(r.body))")
                }
            }
            try await client.execute(uri: "/api/ml/synthetic/generate", method: .post, body: try self.body(["model": "people", "count": 1])) { r in
                XCTAssertEqual(r.status, .unauthorized)
            }
            try await client.execute(uri: "/api/ml/synthetic/stats", method: .post) { r in XCTAssertEqual(r.status, .methodNotAllowed) }
        }
        XCTAssertEqual(try s.count("synthetic_profiles"), 0, "nothing stored from a bad request")
    }
}
