import Foundation
import GymStore
import GymTestSupport
import Hummingbird
import HummingbirdTesting
import XCTest
@testable import GymServer

/// POST /api/ml/train with GET /api/ml/jobs/{id}, and POST /api/ml/deploy/{checkpointId}: real
/// runs of a small scenario, the gate moving champion, and jobs never left looking alive.
final class JobTests: XCTestCase {
    var dir: URL!
    let token = "test-token-0123456789"
    var auth: HTTPFields { [.authorization: "Bearer \(token)", .contentType: "application/json"] }

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("optima-jobs-\(UUID().uuidString)")
        let fm = FileManager.default
        try fm.createDirectory(at: dir.appendingPathComponent("scenarios/sweeps"), withIntermediateDirectories: true)
        try fm.createDirectory(at: dir.appendingPathComponent("gates"), withIntermediateDirectories: true)
        try """
        name: tiny
        seed: 5
        population: {size: 120}
        training: {episodes: 400, curve_window: 100}
        evaluation: {episodes: 400, bootstrap_samples: 50}
        agents: [random, epsilon_greedy]
        gate:
          - {metric: mean_reward, agent: epsilon_greedy, min: -1}
        """.write(to: dir.appendingPathComponent("scenarios/tiny.yaml"), atomically: true, encoding: .utf8)
        try """
        name: tiny_sweep
        base: ../tiny.yaml
        parameters:
          pairing.daily_exposure_budget: [2, 3]
        seeds: [1]
        rank_by: [mean_reward]
        rank_agent: epsilon_greedy
        """.write(to: dir.appendingPathComponent("scenarios/sweeps/tiny_sweep.yaml"), atomically: true, encoding: .utf8)
        try "name: broken\npopulation: {size: -3}\n".write(to: dir.appendingPathComponent("scenarios/broken.yaml"), atomically: true, encoding: .utf8)
        try "gate:\n  - {metric: mean_reward, agent: epsilon_greedy, min: 10}\n"
            .write(to: dir.appendingPathComponent("gates/strict.yaml"), atomically: true, encoding: .utf8)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func settings(maxQueued: Int = 16, grace: Double = 60) -> JobSettings {
        var s = JobSettings()
        s.scenariosDir = dir.appendingPathComponent("scenarios").path
        s.reportsDir = dir.appendingPathComponent("reports").path
        s.maxQueued = maxQueued
        s.shutdownGrace = grace
        return s
    }

    func body(_ o: [String: Any]) throws -> ByteBuffer { ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: o)) }

    func object(_ b: ByteBuffer) throws -> [String: Any] {
        try XCTUnwrap(JSONSerialization.jsonObject(with: Data(buffer: b)) as? [String: Any], String(buffer: b))
    }

    func message(_ b: ByteBuffer) -> String { ((try? object(b))?["error"] as? [String: Any])?["message"] as? String ?? "" }

    /// Polls a job until it has finished (at most 120 s).
    func finished(_ client: some TestClientProtocol, _ id: String) async throws -> [String: Any] {
        for _ in 0..<1200 {
            var o: [String: Any] = [:]
            try await client.execute(uri: "/api/ml/jobs/\(id)", method: .get) { r in
                XCTAssertEqual(r.status, .ok)
                o = try self.object(r.body)
            }
            if ["succeeded", "failed", "interrupted"].contains(o["status"] as? String ?? "") { return o }
            try await Task.sleep(nanoseconds: 100_000_000)
        }
        XCTFail("job \(id) did not finish")
        return [:]
    }

    func testTrainRunsAJobAndDeployMovesChampionThroughTheGate() async throws {
        let s = try Store(path: dir.appendingPathComponent("s.sqlite").path)
        let jobs = try JobQueue(store: s, settings: settings())
        let gates = dir.appendingPathComponent("gates").path
        try await Application(router: MLServer.router(store: s, token: token, jobs: jobs, gatesDir: gates)).test(.router) { client in
            var id = ""
            try await client.execute(uri: "/api/ml/train", method: .post, headers: self.auth, body: try self.body(["scenario": "tiny", "seed": 11])) { r in
                XCTAssertEqual(r.status, .accepted, self.message(r.body))
                let o = try self.object(r.body)
                id = try XCTUnwrap(o["job_id"] as? String)
                XCTAssertEqual(r.headers[.location], "/api/ml/jobs/\(id)")
                XCTAssertEqual(o["kind"] as? String, "run")
            }
            let done = try await self.finished(client, id)
            XCTAssertEqual(done["status"] as? String, "succeeded", "\(done)")
            XCTAssertEqual(done["gate_passed"] as? Bool, true)
            XCTAssertEqual(done["progress"] as? Double, 1)
            XCTAssertEqual(done["seed"] as? Int, 11)
            let runID = try XCTUnwrap(done["run_id"] as? String)
            XCTAssertTrue(runID.hasSuffix("seed11"), runID)
            XCTAssertTrue(FileManager.default.fileExists(atPath: self.dir.appendingPathComponent("reports/server-jobs/\(id)/run.json").path))
            // The run's models are in the registry; deploy one through the run's recorded gate.
            let model = try XCTUnwrap(try s.models(limit: 10).first { $0.agent == "epsilon_greedy" && $0.runID == runID }).id
            try await client.execute(uri: "/api/ml/deploy/\(model)", method: .post, headers: self.auth, body: try self.body(["run": runID, "rules": "strict"])) { r in
                XCTAssertEqual(r.status, .ok, self.message(r.body))
                let o = try self.object(r.body)
                XCTAssertEqual(o["passed"] as? Bool, false)
                XCTAssertEqual(o["deployed"] as? Bool, false)
                XCTAssertEqual((o["rules"] as? [[String: Any]])?.first?["passed"] as? Bool, false)
            }
            XCTAssertNil(try s.aliasTarget(Store.championAlias), "a failed gate moves nothing")
            try await client.execute(uri: "/api/ml/deploy/\(model.prefix(12))", method: .post, headers: self.auth, body: try self.body(["run": runID])) { r in
                XCTAssertEqual(r.status, .ok, self.message(r.body))
                let o = try self.object(r.body)
                XCTAssertEqual(o["passed"] as? Bool, true)
                XCTAssertEqual(o["deployed"] as? Bool, true)
                XCTAssertEqual(o["checkpoint_id"] as? String, model)
            }
            XCTAssertEqual(try s.aliasTarget(Store.championAlias), model)
            try await client.execute(uri: "/api/ml/metrics/champion", method: .get) { r in
                XCTAssertEqual(try self.object(r.body)["model_id"] as? String, model)
            }
            // Bad deploys: 4xx naming the field, champion unchanged.
            for (path, b, status, field) in [("/api/ml/deploy/m-nope", ["run": runID], HTTPResponse.Status.notFound, ""),
                                             ("/api/ml/deploy/\(model)", ["run": "nope"], .notFound, ""),
                                             ("/api/ml/deploy/\(model)", ["run": runID, "rules": "../strict"], .badRequest, "rules:"),
                                             ("/api/ml/deploy/\(model)", ["run": runID, "rules": ".hidden"], .badRequest, "rules:"),
                                             ("/api/ml/deploy/\(model)", ["run": runID, "rules": "absent"], .notFound, "rules:"),
                                             ("/api/ml/deploy/\(model)", [:], .badRequest, "run:"),
                                             ("/api/ml/deploy/\(model)", ["run": runID, "force": true], .badRequest, "force:")] as [(String, [String: Any], HTTPResponse.Status, String)] {
                try await client.execute(uri: path, method: .post, headers: self.auth, body: try self.body(b)) { r in
                    XCTAssertEqual(r.status, status, "\(path) \(b): \(self.message(r.body))")
                    XCTAssertTrue(self.message(r.body).hasPrefix(field), self.message(r.body))
                }
            }
            try await client.execute(uri: "/api/ml/deploy/\(model)", method: .post, body: try self.body(["run": runID])) { r in
                XCTAssertEqual(r.status, .unauthorized)
            }
            XCTAssertEqual(try s.aliasTarget(Store.championAlias), model)
        }
        XCTAssertEqual(jobs.shutdown(), 0, "nothing was left running")
    }

    func testTrainRunsASweep() async throws {
        let s = try Store(path: dir.appendingPathComponent("s.sqlite").path)
        let jobs = try JobQueue(store: s, settings: settings())
        try await Application(router: MLServer.router(store: s, token: token, jobs: jobs)).test(.router) { client in
            var id = ""
            try await client.execute(uri: "/api/ml/train", method: .post, headers: self.auth, body: try self.body(["sweep": "tiny_sweep"])) { r in
                XCTAssertEqual(r.status, .accepted, self.message(r.body))
                id = try XCTUnwrap(try self.object(r.body)["job_id"] as? String)
            }
            let done = try await self.finished(client, id)
            XCTAssertEqual(done["status"] as? String, "succeeded", "\(done)")
            XCTAssertEqual(done["kind"] as? String, "sweep")
            let sweep = try XCTUnwrap(done["run_id"] as? String)
            XCTAssertTrue(sweep.hasPrefix("tiny_sweep-"), sweep)
            XCTAssertEqual(try s.runs(limit: 10).filter { $0.runID.hasPrefix(sweep + "/cell-") }.count, 2, "both cells registered")
            XCTAssertTrue(FileManager.default.fileExists(atPath: self.dir.appendingPathComponent("reports/server-jobs/\(id)/report.md").path))
        }
    }

    /// POST /api/ml/jobs/{id}/cancel: a queued job is cancelled and never starts; a finished one is left.
    func testCancelAQueuedJob() async throws {
        let s = try Store(path: dir.appendingPathComponent("s.sqlite").path)
        let jobs = try JobQueue(store: s, settings: settings())
        let release = jobs.holdQueue()
        try await Application(router: MLServer.router(store: s, token: token, jobs: jobs)).test(.router) { client in
            var id = ""
            try await client.execute(uri: "/api/ml/train", method: .post, headers: self.auth, body: try self.body(["scenario": "tiny"])) { r in
                XCTAssertEqual(r.status, .accepted, self.message(r.body))
                id = try XCTUnwrap(try self.object(r.body)["job_id"] as? String)
            }
            try await client.execute(uri: "/api/ml/jobs/\(id)/cancel", method: .post) { r in
                XCTAssertEqual(r.status, .unauthorized, "a cancellation needs the token")
            }
            try await client.execute(uri: "/api/ml/jobs/\(id)/cancel", method: .post, headers: self.auth) { r in
                XCTAssertEqual(r.status, .ok, self.message(r.body))
                XCTAssertEqual(try self.object(r.body)["status"] as? String, "cancelled")
            }
            try await client.execute(uri: "/api/ml/jobs/\(id)/cancel", method: .post, headers: self.auth) { r in
                XCTAssertEqual(r.status, .conflict)
                XCTAssertTrue(self.message(r.body).hasPrefix("jobId:"), self.message(r.body))
            }
            try await client.execute(uri: "/api/ml/jobs/job-nope/cancel", method: .post, headers: self.auth) { r in XCTAssertEqual(r.status, .notFound) }
            try await client.execute(uri: "/api/ml/jobs/\(id)/cancel", method: .get, headers: self.auth) { r in
                XCTAssertEqual(r.status, .methodNotAllowed)
                XCTAssertEqual(r.headers[.allow], "POST")
            }
            release()
            jobs.waitUntilIdle()
            let j = try s.job(id)
            XCTAssertEqual(j.status, "cancelled")
            XCTAssertNil(j.startedAt, "a cancelled job never starts")
            XCTAssertFalse(FileManager.default.fileExists(atPath: self.dir.appendingPathComponent("reports/server-jobs/\(id)").path))
        }
    }

    func testBadTrainRequestsAndFailedJobs() async throws {
        let s = try Store(path: dir.appendingPathComponent("s.sqlite").path)
        let jobs = try JobQueue(store: s, settings: settings())
        try await Application(router: MLServer.router(store: s, token: token, jobs: jobs)).test(.router) { client in
            for (b, status, field) in [(["scenario": "../tiny"], HTTPResponse.Status.badRequest, "scenario:"),
                                       (["scenario": ".tiny"], .badRequest, "scenario:"),
                                       (["scenario": "nope"], .notFound, "scenario:"),
                                       (["sweep": "tiny"], .notFound, "sweep:"),
                                       (["scenario": "tiny", "sweep": "tiny"], .badRequest, "scenario:"),
                                       ([:], .badRequest, "scenario:"),
                                       (["scenario": "tiny", "seed": -1], .badRequest, "seed:"),
                                       (["scenario": "tiny", "seed": 1.5], .badRequest, "seed:"),
                                       (["scenario": "tiny", "seed": NSNull()], .badRequest, "seed:"),
                                       (["scenario": "tiny", "threads": 8], .badRequest, "threads:")] as [([String: Any], HTTPResponse.Status, String)] {
                try await client.execute(uri: "/api/ml/train", method: .post, headers: self.auth, body: try self.body(b)) { r in
                    XCTAssertEqual(r.status, status, "\(b): \(self.message(r.body))")
                    XCTAssertTrue(self.message(r.body).hasPrefix(field), "\(b): \(self.message(r.body))")
                }
            }
            XCTAssertEqual(try s.count("jobs"), 0, "no job from a bad request")
            try await client.execute(uri: "/api/ml/train", method: .post, body: try self.body(["scenario": "tiny"])) { r in
                XCTAssertEqual(r.status, .unauthorized)
            }
            try await client.execute(uri: "/api/ml/jobs/job-nope", method: .get) { r in XCTAssertEqual(r.status, .notFound) }
            try await client.execute(uri: "/api/ml/jobs/..", method: .get) { r in XCTAssertEqual(r.status, .badRequest) }
            // A scenario that does not load: the job fails with the file's error.
            var id = ""
            try await client.execute(uri: "/api/ml/train", method: .post, headers: self.auth, body: try self.body(["scenario": "broken"])) { r in
                XCTAssertEqual(r.status, .accepted, self.message(r.body))
                id = try XCTUnwrap(try self.object(r.body)["job_id"] as? String)
            }
            let done = try await self.finished(client, id)
            XCTAssertEqual(done["status"] as? String, "failed")
            let why = try XCTUnwrap(done["message"] as? String)
            XCTAssertTrue(why.contains("broken.yaml") && why.contains("size"), why)
            XCTAssertFalse(why.contains("s.sqlite"), why)
        }
        // A read-only server and a full queue refuse.
        try await Application(router: MLServer.router(store: s, token: nil, jobs: jobs)).test(.router) { client in
            try await client.execute(uri: "/api/ml/train", method: .post, headers: self.auth, body: try self.body(["scenario": "tiny"])) { r in
                XCTAssertEqual(r.status, .forbidden)
            }
        }
        let full = try JobQueue(store: s, settings: settings(maxQueued: 0))
        try await Application(router: MLServer.router(store: s, token: token, jobs: full)).test(.router) { client in
            try await client.execute(uri: "/api/ml/train", method: .post, headers: self.auth, body: try self.body(["scenario": "tiny"])) { r in
                XCTAssertEqual(r.status, .tooManyRequests, self.message(r.body))
            }
        }
    }

    /// A job still running when the server stops (grace 0) is marked interrupted and stays so when
    /// the run ends; a job a crashed server left running is marked interrupted by the next one.
    func testJobsAreNeverLeftLookingAlive() throws {
        let s = try Store(path: dir.appendingPathComponent("s.sqlite").path)
        var stale = JobRecord(jobID: "job-stale", kind: "run", target: "tiny", seed: nil, createdAt: "2026-12-07T12:00:00Z")
        try s.addJob(stale)
        stale.status = "running"
        XCTAssertTrue(try s.updateJob(stale))
        let jobs = try JobQueue(store: s, settings: settings(grace: 0))
        XCTAssertEqual(try s.job("job-stale").status, "interrupted", "a new server marks what a crashed one left")
        let job = JobRecord(jobID: "job-a", kind: "run", target: "tiny", seed: 3, createdAt: "2026-12-07T12:00:01Z")
        XCTAssertTrue(try jobs.submit(job))
        XCTAssertTrue(try jobs.submit(JobRecord(jobID: "job-b", kind: "run", target: "tiny", seed: 4, createdAt: "2026-12-07T12:00:02Z")))
        XCTAssertEqual(jobs.shutdown(), 2, "both unfinished at once")
        XCTAssertFalse(try jobs.submit(JobRecord(jobID: "job-c", kind: "run", target: "tiny", seed: 5, createdAt: "2026-12-07T12:00:03Z")))
        jobs.waitUntilIdle()
        XCTAssertEqual(try s.job("job-a").status, "interrupted", "finishing later does not revive it")
        XCTAssertEqual(try s.job("job-b").status, "interrupted")
        XCTAssertEqual(try s.job("job-b").startedAt, nil, "a queued job never starts once the server stops")
    }
}
