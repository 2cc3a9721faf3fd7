import Foundation
import XCTest
import GymTestSupport

/// `optima-gym ope` on trajectory logs: the journey-level estimators end to end.
final class SequentialOPECLITests: CLITestCase {
    var fixture: URL { repositoryRoot().appendingPathComponent("Tests/GymEvalTests/Fixtures/scope_rl_0.2.1_sequential.csv") }

    /// A per-state candidate on a trajectory CSV: six estimators in estimates.csv, per-step
    /// diagnostics, and the same bytes on 1 and 2 threads.
    func testTrajectoryLogEstimatesAreThreadIndependent() throws {
        let probs = tmp.appendingPathComponent("pi.csv")
        try "state,p_0,p_1,p_2\n0,0.2,0.3,0.5\n1,0.6,0.2,0.2\n2,1,0,0\n3,0.1,0.1,0.8\n".write(to: probs, atomically: true, encoding: .utf8)
        var outputs: [[String]] = []
        for threads in ["1", "2"] {
            let out = tmp.appendingPathComponent("o\(threads)")
            let r = try run(["ope", "--logs", fixture.path, "--policy", "probs:\(probs.path)", "--gamma", "0.9", "--resamples", "300",
                             "--threads", threads, "--out", out.path])
            XCTAssertEqual(r.code, 0, r.stderr)
            outputs.append(try ["estimates.csv", "steps.csv", "report.md"].map { try read(out.appendingPathComponent($0)) })
        }
        XCTAssertEqual(outputs[0], outputs[1])
        let rows = outputs[0][0].split(separator: "\n").dropFirst().map { $0.split(separator: ",").map(String.init) }
        XCTAssertEqual(rows.map { $0[0] }, ["tis", "sntis", "pdis", "snpdis", "dr", "fqe"])
        for r in rows {
            let v = Double(r[1])!, lo = Double(r[2])!, hi = Double(r[3])!
            XCTAssertTrue(lo < v && v < hi, "\(r)")
        }
        XCTAssertEqual(outputs[0][1].split(separator: "\n").count, 6, "a header and 5 steps")
        XCTAssertTrue(outputs[0][2].contains("| discount | gamma 0.9 per step |"), outputs[0][2])
        // A state the log visits without a distribution, and options that do not apply.
        try "state,p_0,p_1,p_2\n0,0.2,0.3,0.5\n1,0.6,0.2,0.2\n".write(to: probs, atomically: true, encoding: .utf8)
        let missing = try run(["ope", "--logs", fixture.path, "--policy", "probs:\(probs.path)"])
        XCTAssertEqual(missing.code, 65)
        XCTAssertTrue(missing.stderr.contains("no row for state 2"), missing.stderr)
        let bandit = tmp.appendingPathComponent("b.csv")
        try "action,reward,propensity\n0,1,0.5\n".write(to: bandit, atomically: true, encoding: .utf8)
        XCTAssertEqual(try run(["ope", "--logs", bandit.path, "--policy", "uniform", "--gamma", "0.9"]).code, 64)
        XCTAssertEqual(try run(["ope", "--logs", fixture.path, "--policy", "uniform", "--gamma", "1.5"]).code, 64)
        XCTAssertEqual(try run(["ope", "--logs", fixture.path, "--policy", "uniform", "--gamma-per-day", "0.9"]).code, 65, "no elapsed_seconds")
        // The estimators' table (400 trajectories x 16 columns) is checked against the limit before it is allocated.
        let big = try run(["ope", "--logs", fixture.path, "--policy", "uniform", "--max-table-cells", "6000"])
        XCTAssertEqual(big.code, 65)
        XCTAssertTrue(big.stderr.contains("400 trajectories x 16 per-trajectory columns"), big.stderr)
    }

    /// Bad trajectory logs exit 65 naming the line and column, and write nothing.
    func testBadTrajectoryLogsExit65() throws {
        let log = tmp.appendingPathComponent("t.csv")
        let head = "trajectory_id,step,state,action,reward,propensity\n"
        for (body, needle) in [("a,0,0,1,1,0.5\na,2,0,1,1,0.5\n", "t.csv:3: error: column 'step'"),
                               ("a,0,0,1,1,0.5\na,0,1,1,1,0.5\n", "t.csv:3: error: column 'step': trajectory 'a' has step 0 twice"),
                               ("a,0,0,1,1,1.01\n", "t.csv:2: error: column 'propensity'"),
                               ("a,0,-1,1,1,0.5\n", "t.csv:2: error: column 'state'")] {
            try (head + body).write(to: log, atomically: true, encoding: .utf8)
            let out = tmp.appendingPathComponent("bad")
            let r = try run(["ope", "--logs", log.path, "--policy", "uniform", "--out", out.path])
            XCTAssertEqual(r.code, 65, r.stderr)
            XCTAssertTrue(r.stderr.contains(needle), "\(r.stderr) lacks \(needle)")
            XCTAssertFalse(FileManager.default.fileExists(atPath: out.path))
        }
    }

    /// The simulator's journeys (`--trajectories`): one trajectory per user. A candidate on its own
    /// logs has every weight 1, so tis and pdis equal the logged policy's discounted value (the
    /// semi-Markov discount by elapsed days), and the whole-trajectory ESS is the user count.
    func testSimulatorJourneysOnTheirOwnLogs() throws {
        let sc = tmp.appendingPathComponent("j.yaml")
        try """
        name: j
        seed: 7
        population: {size: 150}
        training: {episodes: 1500, curve_window: 500}
        evaluation: {episodes: 1200, bootstrap_samples: 50}
        agents: [epsilon_greedy, random]
        """.write(to: sc, atomically: true, encoding: .utf8)
        let out = tmp.appendingPathComponent("run")
        XCTAssertEqual(try run(["run", sc.path, "--out", out.path, "--quiet", "--log-observations", "--no-store"]).code, 0)
        let log = out.appendingPathComponent("logs/epsilon_greedy/training_episodes.jsonl")
        let users = Set(try read(log).split(separator: "\n").map { line -> String in
            let o = try! JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            return o["user_id"] as! String
        })
        let dest = tmp.appendingPathComponent("ope")
        let r = try run(["ope", "--logs", log.path, "--trajectories", "--policy", "agent:epsilon_greedy", "--scenario", sc.path, "--seed", "7",
                         "--gamma-per-day", "0.9", "--resamples", "50", "--out", dest.path])
        XCTAssertEqual(r.code, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("\(users.count) trajectories, 1200 decisions"), r.stdout)
        XCTAssertTrue(r.stdout.contains("linear FQE"), r.stdout)
        let report = try read(dest.appendingPathComponent("report.md"))
        let logged = try XCTUnwrap(report.split(separator: "\n").first { $0.hasPrefix("| logged policy's value |") })
        let value = try XCTUnwrap(Double(logged.split(separator: "|")[1].split(separator: " ")[0]))
        let csv = try read(dest.appendingPathComponent("estimates.csv")).split(separator: "\n").dropFirst().map { $0.split(separator: ",") }
        for row in csv where row[0] == "tis" || row[0] == "pdis" || row[0] == "snpdis" {
            XCTAssertEqual(Double(row[1])!, value, accuracy: 1e-6, String(row[0]))
        }
        XCTAssertEqual(Double(csv[0][4])!, Double(users.count), accuracy: 1e-6, "ESS")
        // A candidate other than the logger: agent:random acts uniformly over each row's allowed
        // actions, so its estimates equal --policy uniform's to the digit, its weights are not all
        // 1 (ESS below the user count) and its tis differs from the logged value.
        var other: [[String]] = []
        for spec in ["agent:random", "uniform"] {
            let d = tmp.appendingPathComponent(spec.replacingOccurrences(of: ":", with: "-"))
            let o = try run(["ope", "--logs", log.path, "--trajectories", "--policy", spec, "--scenario", sc.path, "--seed", "7",
                             "--gamma-per-day", "0.9", "--resamples", "50", "--out", d.path])
            XCTAssertEqual(o.code, 0, o.stderr)
            other.append(try read(d.appendingPathComponent("estimates.csv")).split(separator: "\n").map(String.init))
        }
        XCTAssertEqual(other[0], other[1])
        let rows = other[0].dropFirst().map { $0.split(separator: ",") }
        XCTAssertLessThan(Double(rows[0][4])!, 0.9 * Double(users.count), "ESS")
        XCTAssertGreaterThan(abs(Double(rows[0][1])! - value), 1e-6)
    }

    /// Gate rules on the journey estimators: `logged` is the logged policy's discounted value per
    /// trajectory; a failing rule exits 1 with gate.csv written; bandit estimator names are refused.
    func testGateOnJourneyEstimators() throws {
        let probs = tmp.appendingPathComponent("pi.csv")
        try "state,p_0,p_1,p_2\n0,0.2,0.3,0.5\n1,0.6,0.2,0.2\n2,0.3,0.3,0.4\n3,0.1,0.1,0.8\n".write(to: probs, atomically: true, encoding: .utf8)
        let base = ["ope", "--logs", fixture.path, "--policy", "probs:\(probs.path)", "--gamma", "0.9", "--resamples", "200"]
        let fail = tmp.appendingPathComponent("fail")
        let r1 = try run(base + ["--require", "dr.ci_low>=logged", "--out", fail.path])
        XCTAssertEqual(r1.code, 1, r1.stderr)
        let gate = try read(fail.appendingPathComponent("gate.csv"))
        XCTAssertTrue(gate.contains("--require dr.ci_low>=logged,false"), gate)
        XCTAssertTrue(try read(fail.appendingPathComponent("report.md")).contains("## Gate: FAILED"))
        let pass = tmp.appendingPathComponent("pass")
        let r2 = try run(base + ["--require", "pdis.value>=1", "--require", "snpdis.ci_high<=10", "--ess-floor", "50", "--out", pass.path])
        XCTAssertEqual(r2.code, 0, r2.stderr)
        XCTAssertTrue(try read(pass.appendingPathComponent("report.md")).contains("## Gate: passed"))
        // The whole-trajectory ESS (83 of 400 here) below the floor fails a candidate whatever its estimates.
        let r3 = try run(base + ["--require", "pdis.value>=1", "--ess-floor", "100000"])
        XCTAssertEqual(r3.code, 1)
        XCTAssertTrue(r3.stdout.contains("trajectories: the candidate fails whatever its point estimates"), r3.stdout)
        let r4 = try run(base + ["--require", "ips.value>=0"])
        XCTAssertEqual(r4.code, 64)
        XCTAssertTrue(r4.stderr.contains("unknown estimator 'ips' (one of tis, sntis, pdis, snpdis, dr, fqe)"), r4.stderr)
    }
}
