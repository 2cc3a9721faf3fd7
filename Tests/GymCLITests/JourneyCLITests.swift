import Foundation
import XCTest
import GymTestSupport

/// The journey world end to end: the look-ahead reference, evaluation over the whole horizon,
/// PPO over journeys, and the same bytes with 1 or 2 threads.
final class JourneyCLITests: CLITestCase {
    var cli: JourneyCLITests { self }

    /// A small world where fatigue drives churn (long_horizon.yaml's mechanisms, scaled down).
    func scenario() throws -> URL {
        let yaml = """
        name: tinyjourney
        seed: 5
        population: {size: 300, candidate_pool: 20, persona_dimension: 32}
        emotion: {dimension: 16}
        sessions: {max_days: 25}
        pairing: {fatigue_effect: 1.0}
        churn: {daily_base: 0.003, fatigue: 6, fatigue_per_action: 0.15, fatigue_half_life_days: 3}
        discount: {per_day: 0.98}
        training: {episodes: 3000, curve_window: 1000}
        evaluation: {episodes: 1000000, whole_horizon: true, bootstrap_samples: 100}
        agents:
          - oracle
          - lookahead: {horizon_days: 20}
          - epsilon_greedy
          - ppo: {update_every: 250, minibatch_size: 50, reward_lag: 500, hidden_size: 16}

        """
        let url = cli.tmp.appendingPathComponent("tinyjourney.yaml")
        try yaml.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    func metric(_ csv: String, _ agent: String, _ name: String) -> Double? {
        for line in csv.split(separator: "\n") where line.hasPrefix("\(agent),\(name),") {
            return Double(line.split(separator: ",", omittingEmptySubsequences: false)[2])
        }
        return nil
    }

    func testLookAheadWholeHorizonAndThreads() throws {
        let sc = try scenario()
        let out1 = cli.tmp.appendingPathComponent("j1"), out2 = cli.tmp.appendingPathComponent("j2")
        let r1 = try cli.run(["run", sc.path, "--out", out1.path, "--threads", "1", "--quiet", "--no-logs"])
        XCTAssertEqual(r1.code, 0, r1.stderr)
        let r2 = try cli.run(["run", sc.path, "--out", out2.path, "--threads", "2", "--quiet", "--no-logs"])
        XCTAssertEqual(r2.code, 0, r2.stderr)
        // Same seed, 1 or 2 threads: the same bytes.
        for f in ["metrics.csv", "learning_curve.csv", "survival.csv"] {
            XCTAssertEqual(try cli.read(out1.appendingPathComponent(f)), try cli.read(out2.appendingPathComponent(f)), f)
        }
        let csv = try cli.read(out1.appendingPathComponent("metrics.csv"))
        let md = try cli.read(out1.appendingPathComponent("report.md"))
        XCTAssertTrue(md.contains("the whole horizon of 25 simulated days per agent"), "settings row")
        XCTAssertTrue(md.contains("lookahead (look-ahead upper bound: reads hidden truth)"), "the look-ahead reference is labelled")
        XCTAssertTrue(md.contains("oracle (myopic upper bound: reads hidden truth)"))
        XCTAssertFalse(md.contains("before the end of the horizon"), "the whole horizon was evaluated")
        // Where over-pairing raises churn, looking ahead keeps users longer than the myopic oracle
        // and the bandit: more discounted return per user and fewer churned users.
        let look = try XCTUnwrap(metric(csv, "lookahead", "user_return"))
        let oracle = try XCTUnwrap(metric(csv, "oracle", "user_return"))
        let eg = try XCTUnwrap(metric(csv, "epsilon_greedy", "user_return"))
        XCTAssertGreaterThan(look, oracle)
        XCTAssertGreaterThan(look, eg)
        XCTAssertLessThan(try XCTUnwrap(metric(csv, "lookahead", "churn_rate")), try XCTUnwrap(metric(csv, "oracle", "churn_rate")))
        let run = try JSONSerialization.jsonObject(with: Data(contentsOf: out1.appendingPathComponent("run.json"))) as! [String: Any]
        XCTAssertNotNil(run["action_mix"], "run.json has the action mix")
        XCTAssertTrue(md.contains("Actions taken"))
    }
}
