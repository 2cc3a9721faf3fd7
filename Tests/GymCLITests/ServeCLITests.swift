import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import XCTest
import GymTestSupport

/// `optima-gym serve` as a process: a write is acknowledged only once committed, so kill -9 in the
/// middle of POST traffic (four clients at once) loses no acknowledged episode.
final class ServeCLITests: CLITestCase {
    /// Starts `serve` on a free port (`--port 0`); returns the process and the port it logged.
    func startServer(store: URL, token: URL, extra: [String] = []) throws -> (Process, Int) {
        let p = Process()
        p.executableURL = CLITestCase.binary
        p.arguments = ["serve", "--store", store.path, "--port", "0", "--token-file", token.path] + extra
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        try p.run()
        var text = ""
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            text += String(decoding: chunk, as: UTF8.self)
            if let r = text.range(of: "listening on 127.0.0.1:"), let port = Int(text[r.upperBound...].prefix { $0.isNumber }) { return (p, port) }
        }
        p.terminate()
        throw XCTSkip("the server did not report its port: \(text)")
    }

    /// POSTs `body`; the HTTP status, or nil when the connection failed.
    func post(_ url: URL, _ body: Data, token: String) -> Int? { request(url, body, token: token).status }

    /// GETs (no body) or POSTs `body`: the status and the answer's JSON object.
    func request(_ url: URL, _ body: Data?, token: String) -> (status: Int?, object: [String: Any]) {
        var req = URLRequest(url: url)
        req.httpMethod = body == nil ? "GET" : "POST"
        req.httpBody = body
        req.timeoutInterval = 2
        req.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        req.setValue("application/json", forHTTPHeaderField: "Content-Type")
        final class Box: @unchecked Sendable { var status: Int?; var data: Data? }
        let box = Box(), done = DispatchSemaphore(value: 0)
        URLSession.shared.dataTask(with: req) { data, response, _ in
            box.status = (response as? HTTPURLResponse)?.statusCode
            box.data = data
            done.signal()
        }.resume()
        done.wait()
        return (box.status, box.data.flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] } ?? [:])
    }

    /// SIGTERM while a training job runs (grace 0): the server exits 0 at once, the job is
    /// interrupted in the store, and no report of it appears.
    func testSIGTERMDuringAJobMarksItInterrupted() throws {
        let store = tmp.appendingPathComponent("jobs.sqlite"), tokenFile = tmp.appendingPathComponent("token")
        let token = "job-test-token-0123456789"
        try (token + "\n").write(to: tokenFile, atomically: true, encoding: .utf8)
        let scenarios = tmp.appendingPathComponent("scenarios"), reports = tmp.appendingPathComponent("reports")
        try FileManager.default.createDirectory(at: scenarios, withIntermediateDirectories: true)
        // Long enough to be running when the signal comes (minutes), one agent.
        try "name: long\nseed: 3\npopulation: {size: 2000}\ntraining: {episodes: 50000000}\nevaluation: {episodes: 1000}\nagents: [epsilon_greedy]\n"
            .write(to: scenarios.appendingPathComponent("long.yaml"), atomically: true, encoding: .utf8)
        let (server, port) = try startServer(store: store, token: tokenFile,
                                             extra: ["--scenarios", scenarios.path, "--reports", reports.path, "--shutdown-grace", "0"])
        let base = "http://127.0.0.1:\(port)/api/ml"
        let queued = request(URL(string: "\(base)/train")!, Data(#"{"scenario":"long"}"#.utf8), token: token)
        XCTAssertEqual(queued.status, 202)
        let id = try XCTUnwrap(queued.object["job_id"] as? String)
        var status = ""
        for _ in 0..<200 where status != "running" {
            status = request(URL(string: "\(base)/jobs/\(id)")!, nil, token: token).object["status"] as? String ?? ""
            Thread.sleep(forTimeInterval: 0.05)
        }
        XCTAssertEqual(status, "running")
        let stopping = Date()
        kill(server.processIdentifier, SIGTERM)
        server.waitUntilExit()
        XCTAssertEqual(server.terminationStatus, 0)
        XCTAssertLessThan(Date().timeIntervalSince(stopping), 10, "grace 0: the server does not wait for the run")
        XCTAssertFalse(FileManager.default.fileExists(atPath: reports.appendingPathComponent("server-jobs/\(id)").path), "no report of an interrupted job")
        // The store says so: a new server (read-only) answers with the job as the first one left it.
        let (second, port2) = try startServer(store: store, token: tokenFile, extra: ["--scenarios", scenarios.path])
        defer { kill(second.processIdentifier, SIGTERM); second.waitUntilExit() }
        let job = request(URL(string: "http://127.0.0.1:\(port2)/api/ml/jobs/\(id)")!, nil, token: token).object
        XCTAssertEqual(job["status"] as? String, "interrupted")
        XCTAssertEqual(job["message"] as? String, "the server stopped before the job finished", "marked by the stopping server, not by the next one")
    }

    func testKillDuringPostsLosesNoAcknowledgedEpisode() throws {
        let store = tmp.appendingPathComponent("live.sqlite"), tokenFile = tmp.appendingPathComponent("token")
        let token = "kill-test-token-0123456789"
        try (token + "\n").write(to: tokenFile, atomically: true, encoding: .utf8)
        let (server, port) = try startServer(store: store, token: tokenFile)
        let url = URL(string: "http://127.0.0.1:\(port)/api/ml/episode")!
        final class Acks: @unchecked Sendable { var ids: [String] = [] }
        let acks = Acks()
        let lock = NSLock()
        let posting = DispatchSemaphore(value: 0)
        // Four clients post at once, so that requests are in flight when the server dies.
        DispatchQueue.global().async {
            DispatchQueue.concurrentPerform(iterations: 4) { c in
            for i in 0..<100_000 {
                let id = "kill-\(c)-\(i)"
                let body = Data("""
                {"episode_id":"\(id)","user_id":"u-kill","action_taken":"no_action","outcome":"neutral","reward_score":0,\
                "timestamp":"2026-12-07T12:00:00Z","model_version":"m-1","context_snapshot":{"i":\(i)}}
                """.utf8)
                guard let status = self.post(url, body, token: token) else { break }   // the server is gone
                if status == 201 { lock.lock(); acks.ids.append(id); lock.unlock() }
            }
            }
            posting.signal()
        }
        // Kill once 300 episodes have been acknowledged.
        while true {
            lock.lock(); let n = acks.ids.count; lock.unlock()
            if n >= 300 { break }
            Thread.sleep(forTimeInterval: 0.005)
        }
        kill(server.processIdentifier, SIGKILL)
        server.waitUntilExit()
        XCTAssertEqual(posting.wait(timeout: .now() + 30), .success, "the poster stopped once the server was gone")
        let acked = Set(acks.ids)
        let r = try run(["episodes", "--user", "u-kill", "--store", store.path, "--limit", "100000"])
        XCTAssertEqual(r.code, 0, r.stderr)
        let stored = Set(r.stdout.split(separator: "\n").dropFirst().map { String($0.split(separator: "\t")[1]) })
        XCTAssertGreaterThanOrEqual(acked.count, 300)
        XCTAssertTrue(acked.isSubset(of: stored), "lost acknowledged episodes: \(acked.subtracting(stored).sorted().prefix(5))")
        XCTAssertLessThanOrEqual(stored.count - acked.count, 4, "at most the requests in flight are stored unacknowledged")
        print("kill -9 after \(acked.count) acknowledged episodes: \(stored.count) stored, none lost")
    }
}
