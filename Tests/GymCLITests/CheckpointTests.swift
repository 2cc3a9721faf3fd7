import Foundation
import XCTest
import GymTestSupport

/// PPO in a scenario: checkpoints, `evaluate`, broken checkpoints, determinism across threads.
final class CheckpointTests: CLITestCase {
    var cli: CheckpointTests { self }

    func ppoScenario(_ name: String = "tinyppo", candidates: Int = 5) throws -> URL {
        let yaml = """
        name: \(name)
        seed: 91
        population: {size: 120, candidate_pool: 12, persona_dimension: 32}
        emotion: {dimension: 16}
        pairing: {candidates_shown: \(candidates)}
        training: {episodes: 1200, curve_window: 300}
        evaluation: {episodes: 800, bootstrap_samples: 60}
        agents:
          - random
          - ppo: {update_every: 200, minibatch_size: 50, reward_lag: 200, hidden_size: 16}

        """
        let url = cli.tmp.appendingPathComponent("\(name).yaml")
        try yaml.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    func testCheckpointIsWrittenAndEvaluates() throws {
        let sc = try ppoScenario()
        let out1 = cli.tmp.appendingPathComponent("p1"), out2 = cli.tmp.appendingPathComponent("p2")
        let r1 = try cli.run(["run", sc.path, "--out", out1.path, "--threads", "1", "--quiet", "--no-logs"])
        XCTAssertEqual(r1.code, 0, r1.stderr)
        let r2 = try cli.run(["run", sc.path, "--out", out2.path, "--threads", "2", "--quiet", "--no-logs"])
        XCTAssertEqual(r2.code, 0, r2.stderr)
        let c1 = out1.appendingPathComponent("checkpoints/ppo.json"), c2 = out2.appendingPathComponent("checkpoints/ppo.json")
        let j1 = try JSONSerialization.jsonObject(with: Data(contentsOf: c1)) as! [String: Any]
        let j2 = try JSONSerialization.jsonObject(with: Data(contentsOf: c2)) as! [String: Any]
        for key in ["format", "version", "checkpoint_id", "model_type", "weights_url", "performance_metrics", "training_date", "active"] {
            XCTAssertNotNil(j1[key], key)
        }
        // Same seed, 1 or 2 threads: identical weights, learning curve and metrics.
        XCTAssertEqual(j1["actor"] as! [Double], j2["actor"] as! [Double])
        XCTAssertEqual(j1["critic"] as! [Double], j2["critic"] as! [Double])
        for f in ["metrics.csv", "learning_curve.csv"] {
            XCTAssertEqual(try cli.read(out1.appendingPathComponent(f)), try cli.read(out2.appendingPathComponent(f)), f)
        }
        // evaluate: no retraining, a report with the ppo agent.
        let ev = cli.tmp.appendingPathComponent("ev")
        let e = try cli.run(["evaluate", "--checkpoint", c1.path, sc.path, "--out", ev.path, "--quiet"])
        XCTAssertEqual(e.code, 0, e.stderr)
        let csv = try cli.read(ev.appendingPathComponent("metrics.csv"))
        XCTAssertTrue(csv.contains("ppo,mean_reward,"), csv)
        XCTAssertTrue(try cli.read(ev.appendingPathComponent("report.md")).contains("without retraining"))
        // Its model card names the evaluated checkpoint.
        let card = try cli.read(ev.appendingPathComponent("model_card.md"))
        XCTAssertTrue(card.hasPrefix("# Model card: ppo"), card)
        XCTAssertTrue(card.contains(j1["checkpoint_id"] as? String ?? "no id in the checkpoint"), card)
        // The evaluation of the run and of the checkpoint are the same computation: same numbers.
        func ppoRows(_ dir: URL) throws -> [String] {
            try cli.read(dir.appendingPathComponent("metrics.csv")).split(separator: "\n").map(String.init)
                .filter { $0.hasPrefix("ppo,") && !$0.contains("sample_efficiency") && !$0.contains("adaptation_hours") && !$0.contains("transfer") }
        }
        XCTAssertEqual(try ppoRows(ev), try ppoRows(out1))
        XCTAssertEqual(try ppoRows(ev).count, 13)
    }

    func testBrokenCheckpointsExit65() throws {
        let sc = try ppoScenario()
        let out = cli.tmp.appendingPathComponent("p")
        XCTAssertEqual(try cli.run(["run", sc.path, "--out", out.path, "--quiet", "--no-logs"]).code, 0)
        let good = try Data(contentsOf: out.appendingPathComponent("checkpoints/ppo.json"))
        var json = try JSONSerialization.jsonObject(with: good) as! [String: Any]
        func write(_ name: String, _ data: Data) throws -> String {
            let u = cli.tmp.appendingPathComponent(name)
            try data.write(to: u)
            return u.path
        }
        var cases: [(String, String)] = []
        cases.append((try write("truncated.json", good.prefix(good.count / 2)), "truncated or corrupt"))
        cases.append((try write("garbage.json", Data([0xff, 0x00, 0x13, 0x37, 0x42])), "truncated or corrupt"))
        cases.append((cli.tmp.appendingPathComponent("missing.json").path, "no such checkpoint file"))
        var v2 = json; v2["version"] = 99
        cases.append((try write("v99.json", try JSONSerialization.data(withJSONObject: v2)), "unsupported checkpoint version 99"))
        var config = json["config"] as! [String: Any]
        var badConfig = json; config["updateEvery"] = -5; badConfig["config"] = config
        cases.append((try write("badconfig.json", try JSONSerialization.data(withJSONObject: badConfig)), "config.updateEvery must be in"))
        var huge = json; var shape = json["actor_shape"] as! [String: Any]; shape["inputs"] = 1 << 62; huge["actor_shape"] = shape
        cases.append((try write("huge.json", try JSONSerialization.data(withJSONObject: huge)), "not a valid network shape"))
        var short = json; short["actor"] = Array((json["actor"] as! [Double]).dropLast(3))
        cases.append((try write("short.json", try JSONSerialization.data(withJSONObject: short)), "parameters but its shape"))
        json.removeValue(forKey: "critic")
        cases.append((try write("nocritic.json", try JSONSerialization.data(withJSONObject: json)), "missing key 'critic'"))
        for (path, needle) in cases {
            let ev = cli.tmp.appendingPathComponent("ev-\(URL(fileURLWithPath: path).lastPathComponent)")
            let r = try cli.run(["evaluate", "--checkpoint", path, sc.path, "--out", ev.path, "--quiet"])
            XCTAssertEqual(r.code, 65, "\(path): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains(needle), "\(path): expected '\(needle)' in \(r.stderr)")
            XCTAssertFalse(r.stderr.contains("Fatal error"))
            XCTAssertFalse(FileManager.default.fileExists(atPath: ev.path))
        }
        // A checkpoint from a world with another action space (3 candidates instead of 5).
        let other = try ppoScenario("other", candidates: 3)
        let r = try cli.run(["evaluate", "--checkpoint", out.appendingPathComponent("checkpoints/ppo.json").path, other.path,
                             "--out", cli.tmp.appendingPathComponent("ev-other").path, "--quiet"])
        XCTAssertEqual(r.code, 65, r.stderr)
        XCTAssertTrue(r.stderr.contains("incompatible network shape"), r.stderr)
    }
}
