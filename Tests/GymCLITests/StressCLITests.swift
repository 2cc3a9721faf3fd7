import Foundation
import XCTest
import GymTestSupport

/// `optima-gym stress`: the worst-case search over a scenario's parameters.
final class StressCLITests: CLITestCase {
    func scenario() throws -> URL {
        let url = tmp.appendingPathComponent("stress.yaml")
        try """
        name: stress
        seed: 11
        population: {size: 200, candidate_pool: 12, persona_dimension: 32}
        emotion: {dimension: 32}
        training: {episodes: 500, curve_window: 250}
        evaluation: {episodes: 3000, bootstrap_samples: 100}
        agents: [random]

        """.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    /// Retention falls as the daily churn hazard rises: minimising retention_7d over
    /// churn.daily_base finds the top of the range. The files are the same with 1 and 2 threads.
    func testFindsTheWorstWorldAndIsReproducible() throws {
        let sc = try scenario()
        var csv: [String] = []
        for t in ["1", "2"] {
            let dir = tmp.appendingPathComponent("s\(t)")
            let r = try run(["stress", sc.path, "--minimise", "retention_7d", "--over", "churn.daily_base=0.0005:0.05", "--over", "pairing.daily_exposure_budget=1:5",
                             "--rounds", "3", "--population", "6", "--confirm", "2", "--threads", t, "--out", dir.path, "--quiet"])
            XCTAssertEqual(r.code, 0, r.stderr)
            XCTAssertTrue(r.stdout.contains("worst found: churn.daily_base="), r.stdout)
            csv.append(try read(dir.appendingPathComponent("stress.csv")))
            XCTAssertEqual(try read(dir.appendingPathComponent("report.md")), try read(tmp.appendingPathComponent("s1/report.md")))
        }
        XCTAssertEqual(csv[0], csv[1])
        let rows = csv[0].split(separator: "\n").dropFirst().map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        XCTAssertEqual(rows.count, 1 + 18 + 2, "base, 3 rounds of 6, 2 confirmations")
        let search = rows.filter { Int($0[0]) != nil }
        let worst = search.min { Double($0[4])! < Double($1[4])! }!
        XCTAssertGreaterThan(Double(worst[2])!, 0.03, "the worst world churns fast: \(worst)")
        XCTAssertTrue(search.allSatisfy { Int($0[3]) != nil }, "an integer key stays integer")
        let base = rows.first { $0[0] == "base" }!
        XCTAssertLessThan(Double(worst[4])!, Double(base[4])!)
        let yaml = try read(tmp.appendingPathComponent("s1/worst.yaml"))
        XCTAssertTrue(yaml.contains("daily_base: \(worst[2])"), yaml)
        XCTAssertEqual(try run(["check", tmp.appendingPathComponent("s1/worst.yaml").path]).code, 0)
    }

    func testBadFlagsExit64() throws {
        let sc = try scenario().path
        let cases: [([String], String)] = [
            (["--minimise", "mean_reward", "--over", "churn.daily_bse=0:1"], "did you mean 'churn.daily_base'"),
            (["--minimise", "mean_reward", "--over", "churn.daily_base=0.5:0.1"], "must be less than HIGH"),
            (["--minimise", "mean_reward", "--over", "pairing.daily_exposure_budget=1:2.5"], "integer bounds"),
            (["--minimise", "mean_reward", "--maximise", "churn_rate", "--over", "churn.fatigue=0:1"], "exactly one of"),
            (["--minimise", "mean_rewrd", "--over", "churn.fatigue=0:1"], "mean_reward"),
            (["--minimise", "mean_reward"], "at least one --over"),
            (["--minimise", "mean_reward", "--over", "churn.fatigue"], "KEY=LOW:HIGH"),
            (["--minimise", "mean_reward", "--over", "churn.daily_base=0.5:2"], "invalid at 2"),
        ]
        for (args, fragment) in cases {
            let r = try run(["stress", sc] + args + ["--out", tmp.appendingPathComponent("bad").path, "--quiet"])
            XCTAssertEqual(r.code, 64, "\(args): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains(fragment), "\(args): \(r.stderr)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: tmp.appendingPathComponent("bad").path), "nothing written")
        let noAgent = try run(["stress", sc, "--agent", "ppo", "--minimise", "mean_reward", "--over", "churn.fatigue=0:1", "--quiet"])
        XCTAssertEqual(noAgent.code, 65, noAgent.stderr)
        XCTAssertTrue(noAgent.stderr.contains("no agent 'ppo'"), noAgent.stderr)
    }
}
