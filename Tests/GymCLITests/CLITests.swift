import Foundation
import XCTest
import GymTestSupport

/// End-to-end tests: they run the real `optima-gym` binary and check its output files and exit codes.
final class CLITests: CLITestCase {
    /// A scenario small enough for a debug build, with a gate that can be flipped.
    func tinyScenario(gateMin: Double = -1, name: String = "tiny") throws -> URL {
        let yaml = """
        name: \(name)
        seed: 77
        population:
          size: 120
          candidate_pool: 12
          persona_dimension: 32
        emotion:
          dimension: 32
        training:
          episodes: 1500
          curve_window: 250
        evaluation:
          episodes: 1500
          bootstrap_samples: 100
        agents:
          - random
          - oracle
          - epsilon_greedy:
              decay_episodes: 1000
        gate:
          - {metric: mean_reward, agent: epsilon_greedy, min: \(gateMin)}
          - {metric: intervention_fpr, agent: oracle, max: 0.5}

        """
        let url = tmp.appendingPathComponent("\(name).yaml")
        try yaml.write(to: url, atomically: true, encoding: .utf8)
        return url
    }


    /// Lines that legitimately differ between runs (wall time, run id) are dropped.
    func stable(_ s: String) -> String {
        s.split(separator: "\n", omittingEmptySubsequences: false)
            .filter { !$0.contains("wall time") && !$0.contains("run id") && !$0.contains("wall_time_seconds") && !$0.contains("\"run_id\"") }
            .joined(separator: "\n")
    }

    func testSameSeedGivesIdenticalOutputsWithOneAndTwoThreads() throws {
        let sc = try tinyScenario()
        let a = tmp.appendingPathComponent("t1"), b = tmp.appendingPathComponent("t2")
        let r1 = try run(["run", sc.path, "--threads", "1", "--out", a.path, "--quiet"])
        XCTAssertEqual(r1.code, 0, r1.stderr + r1.stdout)
        let r2 = try run(["run", sc.path, "--threads", "2", "--out", b.path, "--quiet"])
        XCTAssertEqual(r2.code, 0, r2.stderr + r2.stdout)
        for f in ["metrics.csv", "learning_curve.csv", "learning_curve.svg", "logs/epsilon_greedy/training_episodes.jsonl",
                  "logs/random/reward_signals.jsonl"] {
            XCTAssertEqual(try read(a.appendingPathComponent(f)), try read(b.appendingPathComponent(f)), f)
        }
        let mdA = try read(a.appendingPathComponent("report.md")), mdB = try read(b.appendingPathComponent("report.md"))
        XCTAssertNotEqual(mdA, "")
        XCTAssertEqual(stable(mdA), stable(mdB))
        XCTAssertEqual(stable(try read(a.appendingPathComponent("run.json"))), stable(try read(b.appendingPathComponent("run.json"))))
        // A different seed changes the numbers.
        let c = tmp.appendingPathComponent("t3")
        XCTAssertEqual(try run(["run", sc.path, "--seed", "78", "--out", c.path, "--quiet"]).code, 0)
        XCTAssertNotEqual(try read(a.appendingPathComponent("metrics.csv")), try read(c.appendingPathComponent("metrics.csv")))
    }

    /// `run --detect`: every agent's alarms and outlier flags in anomalies/<agent>.jsonl (one JSON
    /// object per line with the detector, the decision, the statistic, the threshold and the
    /// reason), the same with 1 and 2 threads, summarised per agent in the report; without the
    /// flag, no detector runs.
    func testDetectorsWriteTheSameAlarmsWithOneAndTwoThreads() throws {
        let sc = try tinyScenario()
        var texts: [[String]] = []
        for t in ["1", "2"] {
            let dir = tmp.appendingPathComponent("d\(t)")
            let r = try run(["run", sc.path, "--detect", "--threads", t, "--no-store", "--no-logs", "--out", dir.path, "--quiet"])
            XCTAssertEqual(r.code, 0, r.stderr)
            texts.append(try ["random", "oracle", "epsilon_greedy"].map { try read(dir.appendingPathComponent("anomalies/\($0).jsonl")) })
            XCTAssertTrue(try read(dir.appendingPathComponent("report.md")).contains("anomaly detectors: "))
        }
        XCTAssertEqual(texts[0], texts[1])
        for text in texts[0] {
            for line in text.split(separator: "\n") {
                let o = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], String(line))
                for key in ["agent", "detector", "decision", "statistic", "threshold", "reason"] { XCTAssertNotNil(o[key], "\(key) in \(line)") }
                XCTAssertTrue(["reward_shift", "action_drift", "group_drift", "outlier_user"].contains(o["detector"] as? String ?? ""), String(line))
            }
        }
        let plain = tmp.appendingPathComponent("plain")
        XCTAssertEqual(try run(["run", sc.path, "--no-store", "--no-logs", "--out", plain.path, "--quiet"]).code, 0)
        XCTAssertFalse(FileManager.default.fileExists(atPath: plain.appendingPathComponent("anomalies").path))
    }

    /// The gate on the detectors: `anomalies.alarms` with `max: 0` passes on the stationary
    /// world and fails on the baseline world, whose hive events move the random agent's action
    /// shares (exit 1, the rule naming the count).
    func testGateFailsOnAnomalyAlarms() throws {
        let rules = tmp.appendingPathComponent("anomalies.yaml")
        try "gate:\n  - {metric: anomalies.alarms, agent: random, max: 0}\n".write(to: rules, atomically: true, encoding: .utf8)
        let calm = tmp.appendingPathComponent("calm"), drift = tmp.appendingPathComponent("drift")
        XCTAssertEqual(try run(["run", "scenarios/stationary.yaml", "--no-store", "--no-logs", "--out", calm.path, "--quiet"]).code, 0)
        let ok = try run(["gate", calm.path, "--rules", rules.path, "--no-store"])
        XCTAssertEqual(ok.code, 0, ok.stdout + ok.stderr)
        XCTAssertTrue(try read(calm.appendingPathComponent("metrics.csv")).contains("random,anomalies.alarms,0.0,0.0,0.0"))
        let r = try run(["run", "scenarios/baseline.yaml", "--detect", "--no-store", "--no-logs", "--out", drift.path, "--quiet"])
        XCTAssertEqual(r.code, 1, r.stderr)   // the baseline's own release gate fails, as shipped
        let bad = try run(["gate", drift.path, "--rules", rules.path, "--no-store"])
        XCTAssertEqual(bad.code, 1, bad.stdout + bad.stderr)
        XCTAssertTrue(bad.stdout.contains("anomalies.alarms"), bad.stdout)
    }

    /// Circuit breakers (scenarios/breakers.yaml): every agent's trips in breakers/<agent>.jsonl
    /// (training and evaluation), the open shares in breakers.csv and breakers.svg, the same with
    /// 1 and 2 threads; a gate rule on `breakers.fallback_share` fails the random agent (exit 1).
    func testBreakersAreReportedAndGateable() throws {
        var outputs: [[String]] = []
        for t in ["1", "2"] {
            let dir = tmp.appendingPathComponent("b\(t)")
            let r = try run(["run", "scenarios/breakers.yaml", "--threads", t, "--no-store", "--no-logs", "--out", dir.path, "--quiet"])
            XCTAssertEqual(r.code, 0, r.stderr)
            outputs.append(try ["breakers/random.jsonl", "breakers/oracle.jsonl", "breakers.csv", "breakers.svg", "metrics.csv"].map {
                try read(dir.appendingPathComponent($0))
            })
            let md = try read(dir.appendingPathComponent("report.md"))
            XCTAssertTrue(md.contains("## Circuit breakers"), md)
            XCTAssertTrue(md.contains("circuit breakers (training): "), md)
        }
        XCTAssertEqual(outputs[0], outputs[1])
        var phases: Set<String> = []
        for line in outputs[0][0].split(separator: "\n") {
            let o = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], String(line))
            for key in ["agent", "phase", "breaker", "opened_after", "closed_at", "statistic", "fallback", "reason"] { XCTAssertNotNil(o[key], "\(key) in \(line)") }
            phases.insert(o["phase"] as? String ?? "")
        }
        XCTAssertEqual(phases, ["training", "evaluation"])
        XCTAssertTrue(outputs[0][4].contains("random,breakers.fallback_share,"), outputs[0][4])
        let rules = tmp.appendingPathComponent("breakers.yaml")
        try "gate:\n  - {metric: breakers.fallback_share, agent: random, max: 0.5}\n".write(to: rules, atomically: true, encoding: .utf8)
        let gate = try run(["gate", tmp.appendingPathComponent("b1").path, "--rules", rules.path, "--no-store"])
        XCTAssertEqual(gate.code, 1, gate.stdout + gate.stderr)
        XCTAssertTrue(gate.stdout.contains("breakers.fallback_share"), gate.stdout)
    }

    /// Every agent with a checkpoint gets a model card beside it, in Mitchell et al. 2019's
    /// sections, naming its checkpoint id, its metrics with intervals, its groups and the gate's
    /// verdicts on it; the upper-bound reference's card rules out deployment.
    func testModelCardsBesideTheCheckpoints() throws {
        let sc = try tinyScenario()
        let dir = tmp.appendingPathComponent("cards")
        let r = try run(["run", sc.path, "--no-store", "--no-logs", "--out", dir.path, "--quiet"])
        XCTAssertEqual(r.code, 0, r.stderr)
        for agent in ["random", "oracle", "epsilon_greedy"] {
            let card = try read(dir.appendingPathComponent("checkpoints/\(agent).card.md"))
            for section in ["Model details", "Intended use", "Factors", "Metrics", "Evaluation data", "Training data", "Quantitative analyses",
                            "Ethical considerations", "Caveats and recommendations", "Gate verdicts"] {
                XCTAssertTrue(card.contains("## \(section)"), "\(agent): \(section)")
            }
            let k = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("checkpoints/\(agent).json"))) as? [String: Any])
            XCTAssertTrue(card.contains(try XCTUnwrap(k["checkpoint_id"] as? String)), agent)
            XCTAssertTrue(card.contains("| `mean_reward` |"), agent)
            XCTAssertTrue(card.contains("| A |"), agent)
        }
        let eg = try read(dir.appendingPathComponent("checkpoints/epsilon_greedy.card.md"))
        XCTAssertTrue(eg.contains("| epsilon_greedy mean_reward") && eg.contains(">= -1 | pass |"), eg)
        XCTAssertTrue(try read(dir.appendingPathComponent("checkpoints/oracle.card.md")).contains("It cannot be deployed"))
        XCTAssertTrue(try read(dir.appendingPathComponent("checkpoints/random.card.md")).contains("No gate rule names this agent."))
    }

    /// training.honour_opt_out: the bandit forgets users who opt out during training and the
    /// report counts them; without the switch nothing is removed and the trained models differ.
    func testHonouringOptOutIsCountedAndChangesTheBandit() throws {
        var text = try String(contentsOf: try tinyScenario(name: "optout"), encoding: .utf8)
        text = text.replacingOccurrences(of: "training:\n", with: "churn:\n  opt_out_daily_base: 0.05\ntraining:\n  honour_opt_out: true\n")
        let on = tmp.appendingPathComponent("on.yaml"), off = tmp.appendingPathComponent("off.yaml")
        try text.write(to: on, atomically: true, encoding: .utf8)
        try text.replacingOccurrences(of: "honour_opt_out: true", with: "honour_opt_out: false").write(to: off, atomically: true, encoding: .utf8)
        var checkpoints: [String] = []
        for (f, name) in [(on, "on"), (off, "off")] {
            let dir = tmp.appendingPathComponent(name)
            let r = try run(["run", f.path, "--no-store", "--no-logs", "--out", dir.path, "--quiet"])
            XCTAssertEqual(r.code, 0, r.stderr)
            let md = try read(dir.appendingPathComponent("report.md"))
            XCTAssertEqual(md.contains("honouring opt-out: "), name == "on", md)
            checkpoints.append(try read(dir.appendingPathComponent("checkpoints/epsilon_greedy.json")))
            if name == "on" {
                let line = try XCTUnwrap(md.split(separator: "\n").first { $0.contains("honouring opt-out: ") })
                XCTAssertFalse(line.contains("honouring opt-out: 0 users"), String(line))
            }
        }
        XCTAssertNotEqual(checkpoints[0], checkpoints[1])
    }

    func testReportContents() throws {
        let sc = try tinyScenario()
        let out = tmp.appendingPathComponent("r")
        let r = try run(["run", sc.path, "--out", out.path, "--quiet"])
        XCTAssertEqual(r.code, 0, r.stderr)
        let md = try read(out.appendingPathComponent("report.md"))
        for needle in ["| seed | 77 |", "GSL version", "project version", "wall time", "## Release gate: PASSED",
                       "oracle (myopic upper bound: reads hidden truth)", "![Learning curves", "learning_curve.svg", "`pairing_accuracy` | 0.65 | >= 0.85"] {
            XCTAssertTrue(md.contains(needle), "report.md lacks \(needle)")
        }
        let csv = try read(out.appendingPathComponent("metrics.csv")).split(separator: "\n")
        XCTAssertEqual(csv.first, "agent,metric,value,ci_low,ci_high,target,passed")
        XCTAssertEqual(csv.count, 1 + 3 * 16, "3 agents x 16 metrics")
        // The long-term metrics and the survival chart.
        for m in ["user_return", "retention_30d", "churn_rate", "active_days"] { XCTAssertTrue(csv.contains { $0.hasPrefix("random,\(m),") }, m) }
        XCTAssertTrue(try read(out.appendingPathComponent("survival.svg")).contains("days since the user's first session"))
        XCTAssertTrue(md.contains("![Share of users still active"), "the survival chart is in the report")
        let svg = try read(out.appendingPathComponent("learning_curve.svg"))
        XCTAssertTrue(svg.hasPrefix("<svg") && svg.contains("training episodes") && svg.contains("oracle (myopic upper bound)"))
        let episodes = try read(out.appendingPathComponent("logs/random/training_episodes.jsonl")).split(separator: "\n")
        XCTAssertEqual(episodes.count, 1500)
        let first = try JSONSerialization.jsonObject(with: Data(episodes[0].utf8)) as! [String: Any]
        // Each decision carries its step in its user's journey and the time since the user's previous decision.
        XCTAssertEqual(first["journey_step"] as? Int, 0)
        XCTAssertEqual((first["elapsed_seconds"] as? NSNumber)?.doubleValue, 0)
        let steps = episodes.map { (try! JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any])["journey_step"] as! Int }
        XCTAssertGreaterThan(steps.max()!, 3, "users come back: later decisions have later journey steps")
        for key in ["episode_id", "user_id", "context_snapshot", "action_taken", "outcome", "reward_score", "timestamp", "model_version", "propensity"] {
            XCTAssertNotNil(first[key], "training_episodes lacks \(key)")
        }
        let signal = try read(out.appendingPathComponent("logs/random/reward_signals.jsonl")).split(separator: "\n").first!
        let s = try JSONSerialization.jsonObject(with: Data(signal.utf8)) as! [String: Any]
        for key in ["signal_id", "episode_id", "signal_type", "value", "latency", "confidence"] { XCTAssertNotNil(s[key]) }
        // No temporary directory is left next to the report.
        let siblings = try FileManager.default.contentsOfDirectory(atPath: tmp.path)
        XCTAssertFalse(siblings.contains { $0.hasPrefix(".tmp-") }, "\(siblings)")
    }

    func testGateFailureExitsOneAndGateCommandRechecks() throws {
        let sc = try tinyScenario(gateMin: 5, name: "strict")
        let out = tmp.appendingPathComponent("g")
        let r = try run(["run", sc.path, "--out", out.path, "--quiet"])
        XCTAssertEqual(r.code, 1, r.stderr)
        XCTAssertTrue(r.stdout.contains("FAIL: epsilon_greedy mean_reward value ="), r.stdout)
        XCTAssertTrue(r.stdout.contains("< min 5"), r.stdout)
        XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent("report.md").path), "a failing gate still writes the report")
        // Re-check with the recorded rules, then with a looser rules file, then with a rule on a missing metric.
        XCTAssertEqual(try run(["gate", out.path]).code, 1)
        let loose = tmp.appendingPathComponent("loose.yaml")
        try "gate:\n  - {metric: mean_reward, agent: oracle, min: -1}\n".write(to: loose, atomically: true, encoding: .utf8)
        let g = try run(["gate", out.path, "--rules", loose.path])
        XCTAssertEqual(g.code, 0, g.stdout + g.stderr)
        // A rule on an agent the run lacks fails (exit 1, not a crash).
        let noAgent = tmp.appendingPathComponent("noagent.yaml")
        try "gate:\n  - {metric: mean_reward, agent: ppo, min: 0}\n".write(to: noAgent, atomically: true, encoding: .utf8)
        let a = try run(["gate", out.path, "--rules", noAgent.path])
        XCTAssertEqual(a.code, 1, a.stdout + a.stderr)
        XCTAssertTrue(a.stdout.contains("no agent 'ppo'"), a.stdout)
        // A rule on a metric the run lacks fails: drop trust_score from run.json and re-check.
        let runJSON = out.appendingPathComponent("run.json")
        var root = try JSONSerialization.jsonObject(with: Data(contentsOf: runJSON)) as! [String: Any]
        var agents = root["agents"] as! [[String: Any]]
        for i in agents.indices {
            agents[i]["metrics"] = (agents[i]["metrics"] as! [[String: Any]]).filter { ($0["name"] as? String) != "trust_score" }
        }
        root["agents"] = agents
        try JSONSerialization.data(withJSONObject: root).write(to: runJSON)
        let trust = tmp.appendingPathComponent("trust.yaml")
        try "gate:\n  - {metric: trust_score, agent: oracle, min: 1}\n".write(to: trust, atomically: true, encoding: .utf8)
        let m = try run(["gate", out.path, "--rules", trust.path])
        XCTAssertEqual(m.code, 1, "a rule on a metric the run lacks never passes")
        XCTAssertTrue(m.stdout.contains("no metric 'trust_score'"), m.stdout)
        XCTAssertEqual(try run(["gate", tmp.appendingPathComponent("nope").path]).code, 65)
    }

    func testBrokenScenariosExit65WithLocationAndWriteNothing() throws {
        let broken = repositoryRoot().appendingPathComponent("scenarios/broken")
        let cases: [(String, String)] = [
            ("syntax_error.yaml", "syntax_error.yaml:"),
            ("unknown_key.yaml", "unknown_key.yaml:5:3: error: pairing.daly_exposure_budget"),
            ("wrong_type.yaml", "wrong_type.yaml:"),
            ("out_of_range.yaml", "out_of_range.yaml:"),
            ("empty.yaml", "empty.yaml"),
            ("garbage.bin", "garbage.bin"),
            ("does_not_exist.yaml", "does_not_exist.yaml"),
        ]
        for (file, needle) in cases {
            let out = tmp.appendingPathComponent("out-\(file)")
            let r = try run(["run", broken.appendingPathComponent(file).path, "--out", out.path, "--quiet"])
            XCTAssertEqual(r.code, 65, "\(file): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains(needle), "\(file): stderr should contain '\(needle)', got:\n\(r.stderr)")
            XCTAssertTrue(r.stderr.contains("error:"), file)
            XCTAssertFalse(r.stderr.contains("Fatal error"), file)
            XCTAssertFalse(FileManager.default.fileExists(atPath: out.path), "\(file): no report directory may be created")
            let c = try run(["check", broken.appendingPathComponent(file).path])
            XCTAssertEqual(c.code, 65, "check \(file)")
        }
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: tmp.path)
        XCTAssertEqual(leftovers.filter { !$0.hasSuffix(".yaml") }, [], "nothing written for broken scenarios")
    }

    func testAScenarioWithoutDecisionsFailsCleanly() throws {
        // Valid keys, but no session can happen: only Sundays have arrivals and the world lasts 5 days.
        let url = tmp.appendingPathComponent("nodecisions.yaml")
        try """
        name: nodecisions
        sessions:
          max_days: 5
          weekday_weights: [0, 0, 0, 0, 0, 0, 1]
        evaluation:
          retention_days: 1
        """.write(to: url, atomically: true, encoding: .utf8)
        let out = tmp.appendingPathComponent("nd")
        let r = try run(["run", url.path, "--out", out.path, "--quiet"])
        XCTAssertEqual(r.code, 65, r.stderr)
        XCTAssertTrue(r.stderr.contains("produces no decision"), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.path))
        let b = try run(["bench", "sim", "--scenario", url.path, "--decisions", "1000", "--threads", "1"])
        XCTAssertEqual(b.code, 65, b.stderr)
    }

    func testDidYouMeanForUnknownKey() throws {
        let r = try run(["check", "scenarios/broken/unknown_key.yaml"])
        XCTAssertEqual(r.code, 65)
        XCTAssertTrue(r.stderr.contains("did you mean 'daily_exposure_budget'"), r.stderr)
        XCTAssertTrue(r.stderr.contains("^"), "the caret under the column")
    }

    func testBadFlagsExit64AndExistingOutputExits73Untouched() throws {
        XCTAssertEqual(try run(["run", "scenarios/baseline.yaml", "--threads", "0"]).code, 64)
        XCTAssertEqual(try run(["run", "scenarios/baseline.yaml", "--seed", "abc"]).code, 64)
        XCTAssertEqual(try run(["frobnicate"]).code, 64)
        // An existing, non-empty --out is refused and its contents are kept.
        let out = tmp.appendingPathComponent("existing")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        try "keep me".write(to: out.appendingPathComponent("notes.txt"), atomically: true, encoding: .utf8)
        let sc = try tinyScenario()
        let r = try run(["run", sc.path, "--out", out.path, "--quiet"])
        XCTAssertEqual(r.code, 73, r.stderr)
        XCTAssertTrue(r.stderr.contains("\(out.path): error: cannot create the output: --out is a directory that is not empty"), r.stderr)
        XCTAssertEqual(try read(out.appendingPathComponent("notes.txt")), "keep me")
    }

    func testCheckAcceptsEveryShippedScenario() throws {
        let dir = repositoryRoot().appendingPathComponent("scenarios")
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".yaml") }.sorted()
        XCTAssertGreaterThanOrEqual(files.count, 3)
        let r = try run(["check"] + files.map { "scenarios/" + $0 })
        XCTAssertEqual(r.code, 0, r.stderr)
        XCTAssertEqual(r.stdout.split(separator: "\n").filter { $0.contains(": ok") }.count, files.count)
    }
}
