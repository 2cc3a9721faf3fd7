import Foundation
import XCTest
import GymTestSupport

/// `optima-gym ope`: bad logs and policies, the OBD experiment.
final class OPECLITests: CLITestCase {
    func testBadLogsExit65NamingRowAndColumn() throws {
        let log = tmp.appendingPathComponent("log.csv")
        func check(_ text: String, _ args: [String] = [], _ needle: String, line: UInt = #line) throws {
            try text.write(to: log, atomically: true, encoding: .utf8)
            let out = tmp.appendingPathComponent("o")
            let r = try run(["ope", "--logs", log.path, "--policy", "uniform", "--out", out.path] + args)
            XCTAssertEqual(r.code, 65, r.stderr, line: line)
            XCTAssertTrue(r.stderr.contains(needle), "\(r.stderr) lacks \(needle)", line: line)
            XCTAssertFalse(FileManager.default.fileExists(atPath: out.path), "nothing written", line: line)
        }
        let head = "action,reward,propensity,x\n"
        try check(head + "0,1,0.5,1\n1,0,0,2\n", [], "log.csv:3: error: column 'propensity': 0 must be in (0, 1]")
        try check(head + "0,1,-0.2,1\n", [], "log.csv:2: error: column 'propensity'")
        try check(head + "0,1,1.5,1\n", [], "column 'propensity': 1.5 must be in (0, 1]")
        try check("action,reward,x\n0,1,1\n", [], "column 'propensity': missing column")
        try check(head + "0,nan,0.5,1\n", [], "log.csv:2: error: column 'reward': 'nan': NaN")
        try check(head + "0,1,0.5,1\n7,1,0.5,1\n", ["--actions", "4"], "log.csv:3: error: column 'action': 7 is outside the action space 0..3")
        try check(head, [], "empty table")
        try check(head + "0,1,0.5,abc\n", [], "column 'x': 'abc' is not a finite number")
        // A candidate whose action space does not match the log.
        try (head + "0,1,0.5,1\n1,0,0.5,2\n").write(to: log, atomically: true, encoding: .utf8)
        let probs = tmp.appendingPathComponent("p.csv")
        try "p_0,p_1,p_2\n0.2,0.3,0.5\n0.1,0.1,0.8\n".write(to: probs, atomically: true, encoding: .utf8)
        let m = try run(["ope", "--logs", log.path, "--policy", "probs:\(probs.path)"])
        XCTAssertEqual(m.code, 65)
        XCTAssertTrue(m.stderr.contains("the log's action space needs exactly p_0 ... p_1"), m.stderr)
        // A matching one works.
        try "p_0,p_1\n0.2,0.8\n0.5,0.5\n".write(to: probs, atomically: true, encoding: .utf8)
        let ok = try run(["ope", "--logs", log.path, "--policy", "probs:\(probs.path)", "--resamples", "50"])
        XCTAssertEqual(ok.code, 0, ok.stderr)
        XCTAssertTrue(ok.stdout.contains("| IPS |"), ok.stdout)
        XCTAssertEqual(try run(["ope", "--logs", log.path, "--policy", "greedy"]).code, 64)
    }

    /// The OBD experiment on campaign "all" (small bootstrap) against the Open Bandit Pipeline
    /// 0.5.7 on the same sample (OBP's RegressionModel with LogisticRegression(C=100,
    /// max_iter=10000), fit_predict(n_folds=3, random_state=12345); direction A's BTS table from
    /// OBP's simulation with n_sim = 10,000,000, seed 12345). IPS and SNIPS must agree within 0.2%
    /// (ours integrates the table numerically), DM and the DR family within 3% (scikit-learn stops
    /// L-BFGS at tol 1e-4; ours solves to the optimum).
    func testOpenBanditExperiment() throws {
        let data = try obdSample()
        let out = tmp.appendingPathComponent("obd")
        let r = try run(["ope", "obd", "--data", data.path, "--campaigns", "all", "--resamples", "100", "--seed", "12345", "--out", out.path])
        XCTAssertEqual(r.code, 0, r.stderr)
        let csv = try String(contentsOf: out.appendingPathComponent("estimates.csv"), encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(csv.count, 1 + 2 * 6)
        let obp: [(String, String, Double, Double)] = [
            ("BTS from Random logs", "IPS", 0.004562928799999999, 0.002), ("BTS from Random logs", "SNIPS", 0.004786045254995844, 0.002),
            ("BTS from Random logs", "DM", 0.0035389569192463056, 0.03), ("BTS from Random logs", "DR", 0.004849588619727939, 0.03),
            ("BTS from Random logs", "SNDR", 0.004913675418280797, 0.03), ("BTS from Random logs", "Switch-DR", 0.004849588619727939, 0.03),
            ("Random from BTS logs", "IPS", 0.0023596395168460067, 0.002), ("Random from BTS logs", "SNIPS", 0.002333713893161734, 0.002),
            ("Random from BTS logs", "DM", 0.005322100868676666, 0.03), ("Random from BTS logs", "DR", 0.0034022925265531556, 0.03),
            ("Random from BTS logs", "SNDR", 0.0034233856758534983, 0.03), ("Random from BTS logs", "Switch-DR", 0.0037736644130178837, 0.03),
        ]
        for (direction, estimator, reference, tolerance) in obp {
            let row = try XCTUnwrap(csv.first { $0.hasPrefix("all,\(direction),\(estimator),") }).split(separator: ",")
            let v = try XCTUnwrap(Double(row[3]))
            XCTAssertLessThan(abs(v / reference - 1), tolerance, "\(direction) \(estimator): ours \(v), OBP \(reference)")
        }
        XCTAssertTrue(try String(contentsOf: out.appendingPathComponent("report.md"), encoding: .utf8).contains("ESS"))
        // ESS and the largest weight beside every estimate; direction B's ESS (340 of 10,000) is
        // above the default floor of 100, and a floor of 500 flags it in the CSV and the table.
        XCTAssertEqual(csv[0], "campaign,direction,estimator,value,ci_low,ci_high,truth,relative_error,ess,max_weight,ess_below_floor")
        let b = try XCTUnwrap(csv.first { $0.hasPrefix("all,Random from BTS logs,IPS,") }).split(separator: ",")
        XCTAssertEqual(Double(b[8])!, 340, accuracy: 1)
        XCTAssertEqual(b[10], "false")
        let out2 = tmp.appendingPathComponent("obd2")
        XCTAssertEqual(try run(["ope", "obd", "--data", data.path, "--campaigns", "all", "--resamples", "10", "--ess-floor", "500", "--out", out2.path]).code, 0)
        let csv2 = try String(contentsOf: out2.appendingPathComponent("estimates.csv"), encoding: .utf8)
        XCTAssertTrue(csv2.contains("all,Random from BTS logs,IPS,") && csv2.split(separator: "\n").first { $0.hasPrefix("all,Random from BTS logs,IPS,") }!.hasSuffix(",true"))
        XCTAssertTrue(try String(contentsOf: out2.appendingPathComponent("report.md"), encoding: .utf8).contains("**ESS below floor**"))
    }
}

extension OPECLITests {
    /// The simulator's episode logs feed `ope`: epsilon-greedy's logs, uniform candidate; the
    /// logged policy's value is the mean reward_score; a broken line is named.
    func testSimulatorLogs() throws {
        let sc = tmp.appendingPathComponent("s.yaml")
        try """
        name: s
        seed: 5
        population: {size: 120}
        training: {episodes: 1500, curve_window: 500}
        evaluation: {episodes: 1500, bootstrap_samples: 50}
        agents:
          - epsilon_greedy
        """.write(to: sc, atomically: true, encoding: .utf8)
        let out = tmp.appendingPathComponent("run")
        XCTAssertEqual(try run(["run", sc.path, "--out", out.path, "--quiet"]).code, 0)
        let log = out.appendingPathComponent("logs/epsilon_greedy/training_episodes.jsonl")
        let r = try run(["ope", "--logs", log.path, "--policy", "uniform", "--resamples", "50"])
        XCTAssertEqual(r.code, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("1500 rows"), r.stdout)
        XCTAssertTrue(r.stdout.contains("| DR |"), r.stdout)
        let bad = tmp.appendingPathComponent("bad.jsonl")
        var lines = try String(contentsOf: log, encoding: .utf8).split(separator: "\n").prefix(3).map(String.init)
        lines[1] = lines[1].replacingOccurrences(of: "\"propensity\":", with: "\"propensity\":-")
        try (lines.joined(separator: "\n") + "\n").write(to: bad, atomically: true, encoding: .utf8)
        let b = try run(["ope", "--logs", bad.path, "--policy", "uniform"])
        XCTAssertEqual(b.code, 65)
        XCTAssertTrue(b.stderr.contains("bad.jsonl:2: error: column 'propensity'"), b.stderr)
    }
}

/// Candidates from the simulator, gate rules, delayed-reward cut-offs and `ope validate`.
extension OPECLITests {
    func smallScenario() throws -> URL {
        let sc = tmp.appendingPathComponent("cand.yaml")
        try """
        name: cand
        seed: 7
        population: {size: 150}
        training: {episodes: 1500, curve_window: 500}
        evaluation: {episodes: 1200, bootstrap_samples: 50}
        agents:
          - epsilon_greedy
          - ppo: {update_every: 250, reward_lag: 100, minibatch_size: 64, update_epochs: 2}
        """.write(to: sc, atomically: true, encoding: .utf8)
        return sc
    }

    /// A candidate evaluated on its own logs has every importance weight 1: agent:NAME retrains
    /// the agent exactly as `run --seed` did, checkpoint:FILE restores PPO bit for bit. So IPS
    /// equals the logged value and the ESS equals the row count. Logs without observations, an
    /// unknown agent, the oracle and a corrupt checkpoint are errors (65).
    func testAgentAndCheckpointCandidatesOnTheirOwnLogs() throws {
        let sc = try smallScenario()
        let out = tmp.appendingPathComponent("run")
        let r0 = try run(["run", sc.path, "--out", out.path, "--quiet", "--log-observations"])
        XCTAssertEqual(r0.code, 0, r0.stderr)
        for (agent, spec) in [("epsilon_greedy", "agent:epsilon_greedy"), ("ppo", "checkpoint:\(out.path)/checkpoints/ppo.json")] {
            let log = out.appendingPathComponent("logs/\(agent)/training_episodes.jsonl")
            let dest = tmp.appendingPathComponent("ope-\(agent)")
            let r = try run(["ope", "--logs", log.path, "--policy", spec, "--scenario", sc.path, "--seed", "7", "--resamples", "50", "--out", dest.path])
            XCTAssertEqual(r.code, 0, r.stderr)
            XCTAssertTrue(r.stdout.contains("effective sample size 1200.0 of 1200 rows (100.0%), max weight 1.00, mean weight 1.0000"), r.stdout)
            let csv = try String(contentsOf: dest.appendingPathComponent("estimates.csv"), encoding: .utf8)
            let ips = try XCTUnwrap(Double(try XCTUnwrap(csv.split(separator: "\n").first { $0.hasPrefix("ips,") }).split(separator: ",")[1]))
            let logged = try String(contentsOf: log, encoding: .utf8).split(separator: "\n").map { line -> Double in
                let o = try! JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
                return (o["reward_score"] as! NSNumber).doubleValue
            }
            XCTAssertEqual(ips, logged.reduce(0, +) / Double(logged.count), accuracy: 1e-12)
            XCTAssertTrue(r.stdout.contains("reward model | ridge"), r.stdout)
            // ESS and the largest weight sit beside every estimate.
            XCTAssertTrue(csv.hasPrefix("estimator,value,ci_low,ci_high,ess,max_weight,ess_below_floor\n"), csv)
            for row in csv.split(separator: "\n").dropFirst() {
                let f = row.split(separator: ",")
                XCTAssertEqual(Double(f[4])!, 1200, accuracy: 1e-6, String(row))
                XCTAssertEqual(Double(f[5])!, 1, accuracy: 1e-12, String(row))
                XCTAssertEqual(f[6], "false")
            }
        }
        // A different candidate on the same logs: the weights are not all 1.
        let log = out.appendingPathComponent("logs/epsilon_greedy/training_episodes.jsonl")
        let u = try run(["ope", "--logs", log.path, "--policy", "uniform", "--resamples", "50"])
        XCTAssertEqual(u.code, 0, u.stderr)
        XCTAssertFalse(u.stdout.contains("max weight 1.00,"), u.stdout)
        // Errors.
        let plain = tmp.appendingPathComponent("plain")
        XCTAssertEqual(try run(["run", sc.path, "--out", plain.path, "--quiet"]).code, 0)
        let e1 = try run(["ope", "--logs", plain.appendingPathComponent("logs/epsilon_greedy/training_episodes.jsonl").path,
                          "--policy", "agent:epsilon_greedy", "--scenario", sc.path])
        XCTAssertEqual(e1.code, 65)
        XCTAssertTrue(e1.stderr.contains("run --log-observations"), e1.stderr)
        let e2 = try run(["ope", "--logs", log.path, "--policy", "agent:bandit", "--scenario", sc.path])
        XCTAssertEqual(e2.code, 65)
        XCTAssertTrue(e2.stderr.contains("no agent 'bandit' (it has: epsilon_greedy, ppo)"), e2.stderr)
        let bad = tmp.appendingPathComponent("bad.json")
        try "{\"format\":".write(to: bad, atomically: true, encoding: .utf8)
        let e3 = try run(["ope", "--logs", log.path, "--policy", "checkpoint:\(bad.path)", "--scenario", sc.path])
        XCTAssertEqual(e3.code, 65)
        XCTAssertTrue(e3.stderr.contains("bad.json"), e3.stderr)
        XCTAssertEqual(try run(["ope", "--logs", log.path, "--policy", "agent:ppo"]).code, 64, "agent: needs --scenario")
    }

    /// Gate rules on estimator bounds: pass and fail with exit codes 0 / 1, and an ESS floor that
    /// fails the gate whatever the estimates, with the reason in the report.
    func testGateOnLowerBoundAndESSFloor() throws {
        let log = tmp.appendingPathComponent("log.csv")
        // Logged: uniform over 2 actions; action 1 pays 1, action 0 pays 0.
        var text = "action,reward,propensity,x\n"
        for i in 0..<400 { text += "\(i % 2),\(i % 2),0.5,\(i % 7)\n" }
        try text.write(to: log, atomically: true, encoding: .utf8)
        let probs = tmp.appendingPathComponent("p.csv")
        try ("p_0,p_1\n" + String(repeating: "0.1,0.9\n", count: 400)).write(to: probs, atomically: true, encoding: .utf8)
        let pass = tmp.appendingPathComponent("pass")
        let r = try run(["ope", "--logs", log.path, "--policy", "probs:\(probs.path)", "--resamples", "200", "--out", pass.path,
                         "--require", "dr.ci_low>=logged", "--require", "ips.value>=0.8"])
        XCTAssertEqual(r.code, 0, r.stdout + r.stderr)
        XCTAssertTrue(r.stdout.contains("## Gate: passed"), r.stdout)
        XCTAssertTrue(try String(contentsOf: pass.appendingPathComponent("gate.csv"), encoding: .utf8).contains("--require dr.ci_low>=logged,true"))
        // The candidate is worse than logged: the lower bound fails.
        try ("p_0,p_1\n" + String(repeating: "0.9,0.1\n", count: 400)).write(to: probs, atomically: true, encoding: .utf8)
        let f = try run(["ope", "--logs", log.path, "--policy", "probs:\(probs.path)", "--resamples", "200", "--require", "dr.ci_low>=logged"])
        XCTAssertEqual(f.code, 1, f.stderr)
        XCTAssertTrue(f.stdout.contains("## Gate: FAILED"), f.stdout)
        // A good candidate with an ESS floor above the rows: fails, and says why.
        try ("p_0,p_1\n" + String(repeating: "0.1,0.9\n", count: 400)).write(to: probs, atomically: true, encoding: .utf8)
        let e = try run(["ope", "--logs", log.path, "--policy", "probs:\(probs.path)", "--resamples", "200", "--require", "dr.ci_low>=logged",
                         "--ess-floor", "1000"])
        XCTAssertEqual(e.code, 1)
        XCTAssertTrue(e.stdout.contains("fails whatever its point estimates"), e.stdout)
        XCTAssertTrue(e.stdout.contains("`--require dr.ci_low>=logged` | pass"), e.stdout)
        XCTAssertEqual(try run(["ope", "--logs", log.path, "--policy", "uniform", "--require", "dr.lower>=0"]).code, 64)
        XCTAssertEqual(try run(["ope", "--logs", log.path, "--policy", "uniform", "--require", "xx>=0"]).code, 64)
    }

    /// Delayed rewards: the estimate at cut-offs after the last decision. The signals arrived grow
    /// with the cut-off; a cut-off past every latency reproduces the full rewards; the weights
    /// solved from the log are the scenario's. A signal for an unknown episode is named.
    func testDelayedRewardCutoffs() throws {
        let sc = try smallScenario()
        let out = tmp.appendingPathComponent("run")
        XCTAssertEqual(try run(["run", sc.path, "--out", out.path, "--quiet", "--no-logs", "--log-observations"]).code, 64)
        let out2 = tmp.appendingPathComponent("run2")
        XCTAssertEqual(try run(["run", sc.path, "--out", out2.path, "--quiet"]).code, 0)
        let log = out2.appendingPathComponent("logs/epsilon_greedy/training_episodes.jsonl")
        let sig = out2.appendingPathComponent("logs/epsilon_greedy/reward_signals.jsonl")
        let dest = tmp.appendingPathComponent("cut")
        let r = try run(["ope", "--logs", log.path, "--policy", "uniform", "--signals", sig.path, "--cutoffs", "0,1h,1d,1000d",
                         "--resamples", "50", "--out", dest.path])
        XCTAssertEqual(r.code, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("engagement 0.3, explicit_feedback 0.3, resonance 0.4"), r.stdout)
        let rows = try String(contentsOf: dest.appendingPathComponent("cutoffs.csv"), encoding: .utf8).split(separator: "\n").dropFirst()
            .map { $0.split(separator: ",").map(String.init) }
        let dr = rows.filter { $0[3] == "dr" }
        XCTAssertEqual(dr.count, 5)
        let shares = dr.map { Double($0[1])! }
        XCTAssertEqual(shares, shares.sorted(), "arrived share grows with the cut-off")
        XCTAssertLessThan(shares[0], 1)
        XCTAssertEqual(shares[3], 1)
        XCTAssertEqual(dr[3][4], dr[4][4], "a cut-off past every latency gives the full estimate")
        XCTAssertNotEqual(dr[0][4], dr[4][4])
        // Bad signals.
        let bad = tmp.appendingPathComponent("sig.jsonl")
        var lines = try String(contentsOf: sig, encoding: .utf8).split(separator: "\n").prefix(3).map(String.init)
        lines[2] = lines[2].replacingOccurrences(of: "\"episode_id\":\"", with: "\"episode_id\":\"x")
        try (lines.joined(separator: "\n") + "\n").write(to: bad, atomically: true, encoding: .utf8)
        let b = try run(["ope", "--logs", log.path, "--policy", "uniform", "--signals", bad.path, "--cutoffs", "1h", "--signal-weights",
                         "engagement=0.3,resonance=0.4,explicit_feedback=0.3", "--out", tmp.appendingPathComponent("no").path])
        XCTAssertEqual(b.code, 65)
        XCTAssertTrue(b.stderr.contains("sig.jsonl:3: error: column 'episode_id'"), b.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: tmp.appendingPathComponent("no").path))
        XCTAssertEqual(try run(["ope", "--logs", log.path, "--policy", "uniform", "--cutoffs", "1h"]).code, 64)
        XCTAssertEqual(try run(["ope", "--logs", log.path, "--policy", "uniform", "--signals", sig.path, "--cutoffs", "soon"]).code, 64)
    }

    /// `ope validate` gives the same files whatever the thread count.
    func testValidateIsThreadIndependent() throws {
        let sc = repositoryRoot().appendingPathComponent("scenarios/ope_validation.yaml")
        var files: [[String]] = []
        for t in ["1", "2"] {
            let dest = tmp.appendingPathComponent("v\(t)")
            let r = try run(["ope", "validate", sc.path, "--behaviour", "epsilon_greedy", "--behaviour-mix", "0.3", "--repetitions", "3",
                             "--truth-runs", "2", "--truth", "same-world", "--decisions", "400", "--resamples", "50", "--threads", t, "--out", dest.path, "--quiet"])
            XCTAssertEqual(r.code, 0, r.stderr)
            files.append(try ["estimates.csv", "coverage.csv"].map { try String(contentsOf: dest.appendingPathComponent($0), encoding: .utf8) })
        }
        XCTAssertEqual(files[0], files[1])
        XCTAssertEqual(try run(["ope", "validate", sc.path, "--target", "oracle", "--quiet"]).code, 65)
        XCTAssertEqual(try run(["ope", "validate", sc.path, "--behaviour-mix", "2"]).code, 64)
    }
}

extension OPECLITests {
    /// The acceptance test at CI size: 50 seeded repetitions of scenarios/ope_validation.yaml
    /// (5,000 users, 2,000 logged decisions each). The behaviour is the trained epsilon-greedy
    /// bandit mixed with 30% uniform exploration; the target is the bandit itself (evaluation
    /// epsilon 0.05): weights at most 1.38, good overlap. The DR interval (200 resamples) must
    /// cover the on-policy truth (the target acting on 20 fresh worlds) in at least 90% of the
    /// repetitions, and DR's mean error must be small against the interval width.
    func testDRIntervalCoversTheTruthIn90PercentOf50Repetitions() throws {
        let sc = repositoryRoot().appendingPathComponent("scenarios/ope_validation.yaml")
        let dest = tmp.appendingPathComponent("coverage")
        let r = try run(["ope", "validate", sc.path, "--behaviour", "epsilon_greedy", "--behaviour-mix", "0.3", "--target", "epsilon_greedy",
                         "--repetitions", "50", "--truth-runs", "20", "--resamples", "200", "--out", dest.path, "--quiet"])
        XCTAssertEqual(r.code, 0, r.stderr)
        let rows = try String(contentsOf: dest.appendingPathComponent("coverage.csv"), encoding: .utf8).split(separator: "\n").dropFirst()
            .map { $0.split(separator: ",").map(String.init) }
        let dr = try XCTUnwrap(rows.first { $0[0] == "dr" })
        XCTAssertEqual(dr[7], "50")
        let coverage = try XCTUnwrap(Double(dr[6])), bias = try XCTUnwrap(Double(dr[3])), width = try XCTUnwrap(Double(dr[5]))
        XCTAssertGreaterThanOrEqual(coverage, 0.9, r.stdout)
        XCTAssertLessThan(abs(bias), width / 4, r.stdout)
    }
}
