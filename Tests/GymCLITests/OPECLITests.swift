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
        guard let data = sharedDataDirectory()?.appendingPathComponent("obd") else { throw XCTSkip("OBD sample not found") }
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
