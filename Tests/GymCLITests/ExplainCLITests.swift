import Foundation
import XCTest
import GymTestSupport

/// `run --explain` and `explain RUN --user ID`.
final class ExplainCLITests: CLITestCase {
    func scenario() throws -> URL {
        let url = tmp.appendingPathComponent("explain.yaml")
        try """
        name: explain
        seed: 5
        population: {size: 150, candidate_pool: 12, persona_dimension: 32}
        emotion: {dimension: 32}
        training: {episodes: 1500, curve_window: 250}
        evaluation: {episodes: 800, bootstrap_samples: 100}
        agents:
          - random
          - epsilon_greedy
          - ppo: {update_every: 250, reward_lag: 250, minibatch_size: 64}

        """.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    /// One TrainingExplanation per evaluation decision and agent, with the blueprint's fields; the
    /// bandit's attributions sum to its score; identical files with 1 and 2 threads; no files
    /// without the flag.
    func testRunExplainWritesOneRecordPerDecision() throws {
        let sc = try scenario()
        var files: [[String]] = []
        for t in ["1", "2"] {
            let dir = tmp.appendingPathComponent("e\(t)")
            let r = try run(["run", sc.path, "--explain", "--threads", t, "--no-store", "--no-logs", "--out", dir.path, "--quiet"])
            XCTAssertEqual(r.code, 0, r.stderr)
            files.append(try ["random", "epsilon_greedy", "ppo"].map { try read(dir.appendingPathComponent("explanations/\($0).jsonl")) })
        }
        XCTAssertEqual(files[0], files[1])
        for (agent, text) in zip(["random", "epsilon_greedy", "ppo"], files[0]) {
            let lines = text.split(separator: "\n")
            XCTAssertEqual(lines.count, 800, agent)
            for line in lines {
                let o = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], String(line))
                for key in ["episode_id", "context_summary", "action_taken", "expected_outcome", "actual_outcome", "reward_received", "model_adjustment", "user_id"] {
                    XCTAssertNotNil(o[key], "\(agent): \(key)")
                }
                guard agent != "random" else {
                    XCTAssertTrue(o["explanation"] is NSNull, agent)
                    continue
                }
                let x = try XCTUnwrap(o["explanation"] as? [String: Any])
                let sum = try XCTUnwrap(x["attribution_sum"] as? Double), score = try XCTUnwrap(x["score"] as? Double)
                let base = try XCTUnwrap(x["baseline_score"] as? Double)
                if agent == "epsilon_greedy" { XCTAssertEqual(sum, score - base) } else {
                    XCTAssertLessThanOrEqual(abs(sum - (score - base)), 0.01 * max(abs(score - base), 1e-3))
                }
                XCTAssertLessThanOrEqual((x["top_features"] as? [Any])?.count ?? 0, 5)
            }
        }
        let plain = tmp.appendingPathComponent("plain")
        XCTAssertEqual(try run(["run", sc.path, "--no-store", "--no-logs", "--out", plain.path, "--quiet"]).code, 0)
        XCTAssertFalse(FileManager.default.fileExists(atPath: plain.appendingPathComponent("explanations").path))

        // explain: a user by number and by user_id gives the same record; bad input exits 65.
        let dir = tmp.appendingPathComponent("e1").path
        let first = try XCTUnwrap(files[0][1].split(separator: "\n").first)
        let o = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(first.utf8)) as? [String: Any])
        let user = try XCTUnwrap(o["user"] as? Int), uuid = try XCTUnwrap(o["user_id"] as? String)
        let byNumber = try run(["explain", dir, "--user", String(user), "--agent", "epsilon_greedy"])
        XCTAssertEqual(byNumber.code, 0, byNumber.stderr)
        XCTAssertEqual(try run(["explain", dir, "--user", uuid, "--agent", "epsilon_greedy"]).stdout, byNumber.stdout)
        for fragment in ["User \(user) (\(uuid)), agent epsilon_greedy", "Context:", "Action:", "Why:", "Outcome:", "Adjustment:", "exact: w_i x phi_i"] {
            XCTAssertTrue(byNumber.stdout.contains(fragment), fragment + "\n" + byNumber.stdout)
        }
        let decisions = files[0][1].split(separator: "\n").filter { $0.contains("\"user\":\(user),") }.count
        XCTAssertEqual(byNumber.stdout.components(separatedBy: "\nDecision ").count - 1, decisions)
        let all = try run(["explain", dir, "--user", String(user)])
        XCTAssertTrue(all.stdout.contains("agent ppo") && all.stdout.contains("agent random") && all.stdout.contains("integrated gradients"), all.stdout)
        let missing = try run(["explain", dir, "--user", "999999"])
        XCTAssertEqual(missing.code, 65)
        XCTAssertTrue(missing.stderr.contains("user '999999' has no decision"), missing.stderr)
        let noAgent = try run(["explain", dir, "--user", "1", "--agent", "ppp"])
        XCTAssertEqual(noAgent.code, 65)
        XCTAssertTrue(noAgent.stderr.contains("the run has epsilon_greedy, ppo, random"), noAgent.stderr)
        XCTAssertEqual(try run(["explain", plain.path, "--user", "1"]).code, 65)
        XCTAssertEqual(try run(["explain", tmp.appendingPathComponent("nope").path, "--user", "1"]).code, 65)
        XCTAssertEqual(try run(["explain", dir]).code, 64)
    }
}
