import Foundation
import XCTest
import GymTestSupport

/// `ope validate --journeys` and `ope select` through the binary, on a small copy of
/// scenarios/ope_journeys.yaml.
final class JourneyOPECLITests: CLITestCase {
    /// The shipped validation world, shrunk: 400 users over 10 days, quick training.
    func smallScenario() throws -> URL {
        var text = try String(contentsOf: repositoryRoot().appendingPathComponent("scenarios/ope_journeys.yaml"), encoding: .utf8)
        text = text.replacingOccurrences(of: "size: 2000", with: "size: 400")
            .replacingOccurrences(of: "max_days: 14", with: "max_days: 10")
            .replacingOccurrences(of: "episodes: 40000", with: "episodes: 4000")
        XCTAssertTrue(text.contains("size: 400") && text.contains("max_days: 10") && text.contains("episodes: 4000"))
        let url = tmp.appendingPathComponent("journeys.yaml")
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    func lines(_ url: URL) throws -> [[String]] {
        try String(contentsOf: url, encoding: .utf8).split(separator: "\n").dropFirst().map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
    }

    /// Same files with 1 and 2 threads; the report has both kinds of estimators and the chart.
    func testValidateJourneysIsThreadIndependent() throws {
        let sc = try smallScenario()
        var files: [[String]] = []
        for t in ["1", "2"] {
            let dest = tmp.appendingPathComponent("v\(t)")
            let r = try run(["ope", "validate", sc.path, "--journeys", "--behaviour", "epsilon_greedy", "--behaviour-mix", "0.3", "--target", "epsilon_greedy",
                             "--target-mix", "0.1", "--repetitions", "3", "--truth-runs", "3", "--resamples", "50", "--threads", t, "--out", dest.path, "--quiet"])
            XCTAssertEqual(r.code, 0, r.stderr)
            files.append(try ["estimates.csv", "coverage.csv", "report.md", "estimates.svg"].map { try String(contentsOf: dest.appendingPathComponent($0), encoding: .utf8) })
        }
        XCTAssertEqual(files[0], files[1])
        let cov = try lines(tmp.appendingPathComponent("v1/coverage.csv"))
        XCTAssertEqual(cov.map { "\($0[0])/\($0[1])" }, ["tis/journey", "sntis/journey", "pdis/journey", "snpdis/journey", "dr/journey", "fqe/journey",
                                                        "dm/decision", "ips/decision", "snips/decision", "dr/decision", "sndr/decision", "switch_dr/decision"])
        // The journey truth (user_return) and the per-decision truth are different quantities.
        XCTAssertNotEqual(cov[0][2], cov[6][2])
        XCTAssertTrue(files[0][3].hasPrefix("<svg"))
        XCTAssertTrue(files[0][2].contains("![Estimates against the truth](estimates.svg)"))
    }

    /// Five candidates and the behaviour: every assessment metric for every estimator, the
    /// behaviour's pdis equal to the logged value, the same files with 1 and 2 threads, and the
    /// gate on the selected candidate.
    func testSelectAssessesFiveCandidates() throws {
        let sc = try smallScenario()
        var files: [[String]] = []
        for t in ["1", "2"] {
            let dest = tmp.appendingPathComponent("s\(t)")
            let r = try run(["ope", "select", sc.path, "--behaviour", "epsilon_greedy", "--behaviour-mix", "0.3",
                             "--candidates", "epsilon_greedy@0,epsilon_greedy@0.1,epsilon_greedy@0.5,paced_bandit@0.3,paced_bandit@0.6",
                             "--truth-runs", "3", "--resamples", "50", "--k", "1,2,3", "--threads", t, "--out", dest.path, "--quiet",
                             "--require", "dr.ci_low>=-100", "--ess-floor", "0"])
            XCTAssertEqual(r.code, 0, r.stderr + r.stdout)
            files.append(try ["selection.csv", "assessment.csv", "report.md", "gate.csv", "selection.svg"].map { try String(contentsOf: dest.appendingPathComponent($0), encoding: .utf8) })
        }
        XCTAssertEqual(files[0], files[1])
        let sel = try lines(tmp.appendingPathComponent("s1/selection.csv"))
        XCTAssertEqual(Set(sel.map { $0[0] }).count, 6)
        let behaviourRows = sel.filter { $0[1] == "true" }
        XCTAssertEqual(behaviourRows.count, 6)
        let assessment = try lines(tmp.appendingPathComponent("s1/assessment.csv"))
        XCTAssertEqual(assessment.count, 6 * (2 + 2 * 3))
        for metric in ["nmse", "spearman", "regret", "sharpe_ratio"] { XCTAssertTrue(assessment.contains { $0[1] == metric }, metric) }
        // Regret is never negative, Spearman within [-1, 1].
        for row in assessment where row[1] == "regret" { XCTAssertGreaterThanOrEqual(try XCTUnwrap(Double(row[3])), 0) }
        for row in assessment where row[1] == "spearman" { let v = try XCTUnwrap(Double(row[3])); XCTAssertTrue(v.isNaN || abs(v) <= 1) }
        XCTAssertTrue(files[0][2].contains("SharpeRatio@3"))
        // A rule the selected candidate cannot meet fails the gate: exit 1, gate.csv written.
        let dest = tmp.appendingPathComponent("fail")
        let f = try run(["ope", "select", sc.path, "--candidates", "epsilon_greedy@0.1,paced_bandit@0.3", "--k", "1", "--truth-runs", "0", "--resamples", "20",
                         "--out", dest.path, "--quiet", "--require", "dr.ci_low>=1000"])
        XCTAssertEqual(f.code, 1, f.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dest.appendingPathComponent("gate.csv").path))
        XCTAssertFalse(FileManager.default.fileExists(atPath: dest.appendingPathComponent("assessment.csv").path))
    }

    func testSelectBadInputs() throws {
        let sc = try smallScenario()
        XCTAssertEqual(try run(["ope", "select", sc.path, "--candidates", "nobody", "--k", "1", "--quiet", "--out", tmp.appendingPathComponent("a").path]).code, 65)
        XCTAssertEqual(try run(["ope", "select", sc.path, "--candidates", "epsilon_greedy@2", "--k", "1", "--quiet", "--out", tmp.appendingPathComponent("b").path]).code, 64)
        XCTAssertEqual(try run(["ope", "select", sc.path, "--candidates", "epsilon_greedy", "--k", "0"]).code, 64)
        XCTAssertEqual(try run(["ope", "select", sc.path, "--candidates", "epsilon_greedy", "--k", "5"]).code, 64)
        XCTAssertEqual(try run(["ope", "select", sc.path, "--candidates", "epsilon_greedy", "--select-by", "ips"]).code, 64)
        XCTAssertEqual(try run(["ope", "select", sc.path, "--candidates", ""]).code, 64)
        XCTAssertEqual(try run(["ope", "select", sc.path, "--candidates", "epsilon_greedy", "--require", "dr.ci_low"]).code, 64)
        let missing = try run(["ope", "select", sc.path, "--candidates", "checkpoint:/nonexistent.ckpt", "--k", "1", "--quiet", "--out", tmp.appendingPathComponent("c").path])
        XCTAssertNotEqual(missing.code, 0)
        XCTAssertTrue(missing.stderr.contains("/nonexistent.ckpt"), missing.stderr)
        for d in ["a", "b", "c"] { XCTAssertFalse(FileManager.default.fileExists(atPath: tmp.appendingPathComponent(d).path), d) }
    }

    /// The acceptance test, at the settings docs/ope.md quotes: 50 repetitions of
    /// scenarios/ope_journeys.yaml (2,000 users over 14 days; behaviour epsilon_greedy mixed with
    /// 30% uniform, target the same bandit with 10%), truth from 50 fresh worlds, 1,000 resamples.
    /// The 95% intervals of dr and pdis cover the true user_return in 90-99% of the repetitions,
    /// while every bandit estimator is biased by more than its own mean interval half-width and
    /// covers its per-decision truth in at most 10% (about 2 minutes on 2 threads).
    func testJourneyIntervalsCoverWhereBanditOnesDoNot() throws {
        let sc = repositoryRoot().appendingPathComponent("scenarios/ope_journeys.yaml")
        let dest = tmp.appendingPathComponent("journeys50")
        let r = try run(["ope", "validate", sc.path, "--journeys", "--behaviour", "epsilon_greedy", "--behaviour-mix", "0.3", "--target", "epsilon_greedy",
                         "--target-mix", "0.1", "--repetitions", "50", "--truth-runs", "50", "--threads", "2", "--out", dest.path, "--quiet"])
        XCTAssertEqual(r.code, 0, r.stderr)
        let rows = try lines(dest.appendingPathComponent("coverage.csv"))
        func row(_ name: String, _ unit: String) throws -> (coverage: Double, bias: Double, width: Double) {
            let x = try XCTUnwrap(rows.first { $0[0] == name && $0[1] == unit }, "\(name)/\(unit)")
            XCTAssertEqual(x[9], "50")
            return (try XCTUnwrap(Double(x[8])), try XCTUnwrap(Double(x[4])), try XCTUnwrap(Double(x[7])))
        }
        for name in ["dr", "pdis"] {
            let c = try row(name, "journey").coverage
            XCTAssertGreaterThanOrEqual(c, 0.90, "\(name): \(r.stdout)")
            XCTAssertLessThanOrEqual(c, 0.99, "\(name): \(r.stdout)")
        }
        for name in ["dm", "ips", "snips", "dr", "sndr", "switch_dr"] {
            let b = try row(name, "decision")
            XCTAssertLessThanOrEqual(b.coverage, 0.10, name)
            XCTAssertGreaterThan(abs(b.bias), b.width / 2, name)
        }
    }

    /// dataset collect + train-offline: the same files and checkpoint (but its date) with 1 and 2
    /// threads; the report compares both policies' true values and validates on held-out
    /// journeys; the checkpoint is accepted by evaluate and by ope; bad flags exit 64, bad data 65,
    /// writing nothing.
    func testTrainOfflineIsThreadIndependent() throws {
        let sc = try smallScenario()
        let data = tmp.appendingPathComponent("data")
        let c = try run(["dataset", "collect", sc.path, "--behaviour", "epsilon_greedy", "--behaviour-mix", "0.3", "--out", data.path, "--quiet"])
        XCTAssertEqual(c.code, 0, c.stderr)
        for f in ["journeys.jsonl", "dataset.json", "README.md"] { XCTAssertTrue(FileManager.default.fileExists(atPath: data.appendingPathComponent(f).path), f) }
        var files: [[String]] = []
        for t in ["1", "2"] {
            let dest = tmp.appendingPathComponent("off\(t)")
            let r = try run(["train-offline", "--data", data.path, "--scenario", sc.path, "--algo", "cql", "--hidden", "32,32",
                             "--steps", "400", "--validations", "2", "--truth-runs", "3", "--threads", t, "--out", dest.path, "--quiet"])
            XCTAssertEqual(r.code, 0, r.stderr)
            var texts = try ["report.md", "truth.csv", "curve.csv", "validation.csv"].map { try String(contentsOf: dest.appendingPathComponent($0), encoding: .utf8) }
            var k = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: dest.appendingPathComponent("checkpoint.json"))) as? [String: Any])
            XCTAssertEqual(k["model_type"] as? String, "cql")
            k["training_date"] = nil
            texts.append(String(decoding: try JSONSerialization.data(withJSONObject: k, options: [.sortedKeys]), as: UTF8.self))
            files.append(texts)
        }
        XCTAssertEqual(files[0], files[1])
        XCTAssertTrue(files[0][0].contains("| learned - behaviour (paired by world) |"), files[0][0])
        XCTAssertTrue(files[0][0].contains("held-out journeys"), files[0][0])
        XCTAssertEqual(files[0][1].split(separator: "\n").count, 4)
        XCTAssertEqual(files[0][3].split(separator: "\n").count, 1 + 2 * 2)
        // The checkpoint in the tools that take one.
        let ck = tmp.appendingPathComponent("off1/checkpoint.json").path
        let ev = try run(["evaluate", "--checkpoint", ck, sc.path, "--out", tmp.appendingPathComponent("ev").path, "--no-store", "--quiet"])
        XCTAssertEqual(ev.code, 0, ev.stderr)
        XCTAssertTrue(try String(contentsOf: tmp.appendingPathComponent("ev/metrics.csv"), encoding: .utf8).contains("cql,user_return,"))
        XCTAssertTrue(try String(contentsOf: tmp.appendingPathComponent("ev/model_card.md"), encoding: .utf8).hasPrefix("# Model card: cql"))
        // Explained: one record per evaluation decision, attributions named by the observation's features.
        let ex = try run(["evaluate", "--checkpoint", ck, sc.path, "--explain", "--out", tmp.appendingPathComponent("ex").path, "--no-store", "--quiet"])
        XCTAssertEqual(ex.code, 0, ex.stderr)
        let lines = try String(contentsOf: tmp.appendingPathComponent("ex/explanations/cql.jsonl"), encoding: .utf8).split(separator: "\n")
        XCTAssertGreaterThan(lines.count, 0)
        XCTAssertTrue(lines[0].contains("integrated gradients of the action's Q value"), String(lines[0].prefix(400)))
        let ope = try run(["ope", "estimate", "--logs", data.appendingPathComponent("journeys.jsonl").path, "--trajectories", "--policy", "checkpoint:" + ck,
                           "--scenario", sc.path, "--gamma-per-day", "0.98", "--resamples", "50", "--out", tmp.appendingPathComponent("ope").path])
        XCTAssertEqual(ope.code, 0, ope.stderr)
        // A damaged network: evaluate names the file and what is wrong, exit 65.
        var k = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: ck))) as? [String: Any])
        var net = try XCTUnwrap(k["offline"] as? [String: Any])
        net["parameters"] = Array((net["parameters"] as! [Double]).dropLast())
        k["offline"] = net
        let broken = tmp.appendingPathComponent("broken.json")
        try JSONSerialization.data(withJSONObject: k).write(to: broken)
        let bev = try run(["evaluate", "--checkpoint", broken.path, sc.path, "--out", tmp.appendingPathComponent("bev").path, "--no-store", "--quiet"])
        XCTAssertEqual(bev.code, 65, bev.stderr)
        XCTAssertTrue(bev.stderr.contains("broken.json") && bev.stderr.contains("offline.parameters has"), bev.stderr)
        // Behaviour cloning, without the simulator (no --scenario): validation only.
        let bc = try run(["train-offline", "--data", data.path, "--algo", "bc", "--hidden", "16", "--steps", "200", "--validations", "1", "--quiet",
                          "--out", tmp.appendingPathComponent("bc").path])
        XCTAssertEqual(bc.code, 0, bc.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: tmp.appendingPathComponent("bc/truth.csv").path))
        XCTAssertEqual(try run(["train-offline", "--data", data.path, "--algo", "iql"]).code, 64)
        XCTAssertEqual(try run(["train-offline", "--data", data.path, "--hidden", "0"]).code, 64)
        XCTAssertEqual(try run(["dataset", "collect", sc.path, "--behaviour", "epsilon_greedy", "--behaviour-mix", "2", "--out", tmp.appendingPathComponent("x").path]).code, 64)
        XCTAssertEqual(try run(["dataset", "collect", sc.path, "--behaviour", "nobody", "--quiet", "--out", tmp.appendingPathComponent("no").path]).code, 65)
        XCTAssertFalse(FileManager.default.fileExists(atPath: tmp.appendingPathComponent("no").path))
        XCTAssertEqual(try run(["train-offline", "--data", tmp.appendingPathComponent("missing").path, "--quiet"]).code, 65)
        // A scenario other than the dataset's: refused before any training, nothing written.
        let other = tmp.appendingPathComponent("other.yaml")
        try (try String(contentsOf: sc, encoding: .utf8) + "\n# changed\n").write(to: other, atomically: true, encoding: .utf8)
        let bad = try run(["train-offline", "--data", data.path, "--scenario", other.path, "--quiet", "--out", tmp.appendingPathComponent("bad").path])
        XCTAssertEqual(bad.code, 65, bad.stderr)
        XCTAssertTrue(bad.stderr.contains("differs"), bad.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: tmp.appendingPathComponent("bad").path))
    }
}
