import Foundation
import XCTest
import GymTestSupport

/// Issue 13 end to end: the store, the registry and the one release gate, through the real binary.
final class StoreCLITests: CLITestCase {
    var store: String { tmp.appendingPathComponent("optima.sqlite").path }

    /// A small world with the random agent and the bandit; `extra` is appended (e.g. a shift).
    func scenario(_ name: String, extra: String = "", agents: String = "[random, epsilon_greedy]") throws -> String {
        let path = tmp.appendingPathComponent("\(name).yaml").path
        try """
        name: \(name)
        seed: 11
        population: {size: 150, candidate_pool: 8, persona_dimension: 16}
        emotion: {dimension: 8}
        training: {episodes: 3000, curve_window: 500}
        evaluation: {episodes: 2500, bootstrap_samples: 200}
        agents: \(agents)
        \(extra)
        """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// `models list` as (type -> id of the newest model of that type).
    func models() throws -> [String: String] {
        let r = try run(["models", "list"])
        XCTAssertEqual(r.code, 0, r.stderr)
        var out: [String: String] = [:]
        for line in r.stdout.split(separator: "\n").dropFirst() {
            let f = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            if f.count >= 2, out[f[1]] == nil { out[f[1]] = f[0] }   // newest first
        }
        return out
    }

    /// The scripted release loop: register a champion, train a challenger, promote it on a passing
    /// gate, degrade it on a shifted world, and `gate --watch` rolls champion back, recording why.
    func testChampionChallengerPromotionAndRollback() throws {
        let s = try scenario("loop")
        let r1 = try run(["run", s, "--out", tmp.appendingPathComponent("r1").path, "--quiet"])
        XCTAssertEqual(r1.code, 0, r1.stderr)
        let ids = try models()
        let random = try XCTUnwrap(ids["random"]), bandit = try XCTUnwrap(ids["epsilon_greedy"])
        XCTAssertTrue(try run(["runs", "show", tmp.appendingPathComponent("r1").path]).stdout.contains(", 150 synthetic profiles"))
        // Content-addressed ids are the logs' model_version.
        let log = try String(contentsOf: tmp.appendingPathComponent("r1/logs/epsilon_greedy/training_episodes.jsonl"), encoding: .utf8)
        XCTAssertTrue(log.contains("\"model_version\":\"\(bandit)\""))

        XCTAssertEqual(try run(["models", "alias", "champion", random, "--reason", "the policy in production"]).code, 0)
        XCTAssertEqual(try run(["models", "alias", "challenger", String(bandit.prefix(13))]).code, 0, "a unique id prefix is a reference")
        // Promotion: the challenger beats the champion on the same users, so every rule passes.
        let promote = try run(["gate", tmp.appendingPathComponent("r1").path, "--rules", repositoryRoot().appendingPathComponent("gates/challenger.yaml").path,
                               "--promote", "challenger", "--quiet"])
        XCTAssertEqual(promote.code, 0, promote.stdout + promote.stderr)
        XCTAssertTrue(promote.stdout.contains("champion -> \(bandit) (was \(random))"), promote.stdout)
        XCTAssertEqual(try models()["epsilon_greedy"], bandit)
        XCTAssertTrue(try run(["models", "show", "champion"]).stdout.contains("active: the champion"))

        // The world shifts: resonance now falls with similarity, so what the bandit learnt misleads it.
        let shifted = try scenario("loop_shifted", extra: "pairing: {resonance_similarity: -4}")
        let ev = try run(["evaluate", "--checkpoint", "champion", shifted, "--out", tmp.appendingPathComponent("r2").path, "--quiet"])
        XCTAssertEqual(ev.code, 0, ev.stderr)
        let watch = try run(["gate", tmp.appendingPathComponent("r2").path, "--rules", repositoryRoot().appendingPathComponent("gates/release.yaml").path,
                             "--watch", "--quiet"])
        XCTAssertEqual(watch.code, 1, watch.stdout + watch.stderr)
        XCTAssertTrue(watch.stdout.contains("champion -> \(random) (was \(bandit))"), watch.stdout)
        let history = try run(["models", "history", "champion"])
        let events = history.stdout.split(separator: "\n").dropFirst().map { $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) }
        XCTAssertEqual(events.count, 3, history.stdout)
        XCTAssertEqual(events.map { $0[2] }, [random, bandit, random])
        XCTAssertEqual(events[0][5], "the policy in production")
        XCTAssertTrue(events[1][5].hasPrefix("promoted by gate on run "), events[1][5])
        XCTAssertTrue(events[2][5].contains("gate --watch") && events[2][5].contains("degradation"), events[2][5])
        // A second watch has nothing worse to roll back from: the champion's earlier id is the bandit,
        // which is the worse of the two here, so the champion stays.
        let again = try run(["gate", tmp.appendingPathComponent("r2").path, "--watch", "--quiet"])
        XCTAssertEqual(again.code, 0, again.stdout + again.stderr)
        XCTAssertEqual(try run(["runs", "show", tmp.appendingPathComponent("r2").path]).stdout.components(separatedBy: " watch ").count, 3)
    }

    /// `run --from`: the scenario's agent of the model's kind continues training from the
    /// registered checkpoint; its new checkpoint names its parent and counts every decision.
    func testRunFromARegisteredModelContinuesTraining() throws {
        let s = try scenario("cont")
        XCTAssertEqual(try run(["run", s, "--out", tmp.appendingPathComponent("a").path, "--quiet"]).code, 0)
        let parent = try XCTUnwrap(try models()["epsilon_greedy"])
        XCTAssertEqual(try run(["models", "alias", "champion", parent]).code, 0)
        let r = try run(["run", s, "--from", "champion", "--seed", "12", "--out", tmp.appendingPathComponent("b").path, "--quiet"])
        XCTAssertEqual(r.code, 0, r.stderr)
        let child = try XCTUnwrap(try models()["epsilon_greedy"])
        XCTAssertNotEqual(child, parent)
        let show = try run(["models", "show", child]).stdout
        XCTAssertTrue(show.contains("continued from \(parent)"), show)
        XCTAssertTrue(show.contains("\"training_decisions\":6000"), "3,000 decisions before and 3,000 in this run: \(show)")
        let report = try String(contentsOf: tmp.appendingPathComponent("b/report.md"), encoding: .utf8)
        XCTAssertTrue(report.contains("continued training from checkpoint \(parent)"), report)
        // A model whose kind the scenario lacks is refused before any work.
        let only = try scenario("only_random", agents: "[random]")
        let bad = try run(["run", only, "--from", parent, "--out", tmp.appendingPathComponent("c").path, "--quiet"])
        XCTAssertEqual(bad.code, 65, bad.stderr)
        XCTAssertTrue(bad.stderr.contains("is an epsilon_greedy model, but the scenario has no epsilon_greedy agent"), bad.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: tmp.appendingPathComponent("c").path))
        XCTAssertEqual(try run(["run", s, "--from", "champion", "--no-store"]).code, 64)

        // PPO too; and continued training is reproducible: the same parent, scenario and seed give
        // the same model, hence the same content-addressed id.
        let p = try scenario("cont_ppo", agents: "[{ppo: {update_every: 250, reward_lag: 250, minibatch_size: 64}}]")
        XCTAssertEqual(try run(["run", p, "--out", tmp.appendingPathComponent("p1").path, "--quiet"]).code, 0)
        let ppoParent = try XCTUnwrap(try models()["ppo"])
        for k in 2...3 {
            let c = try run(["run", p, "--from", ppoParent, "--seed", "5", "--out", tmp.appendingPathComponent("p\(k)").path, "--quiet"])
            XCTAssertEqual(c.code, 0, c.stderr)
        }
        let ppoChild = try XCTUnwrap(try models()["ppo"])
        XCTAssertNotEqual(ppoChild, ppoParent)
        let ppoModels = try run(["models", "list"]).stdout.split(separator: "\n").filter { $0.split(separator: "\t")[1] == "ppo" }
        XCTAssertEqual(ppoModels.count, 2, "two continued runs with one seed made one model: \(ppoModels)")
        let ppoShow = try run(["models", "show", ppoChild]).stdout
        XCTAssertTrue(ppoShow.contains("continued from \(ppoParent)") && ppoShow.contains("\"training_decisions\":6000"), ppoShow)
    }

    /// A population from a DP persona model, compared with real data: the run report's section
    /// (per-column KL with a chart, diversity, epsilon and delta with the model's fingerprint), the
    /// gate's `population` metrics, and the lineage of every checkpoint.
    func testPopulationFidelityAndPrivacyInTheRunReport() throws {
        let obd = try obdSample()
        let model = repositoryRoot().appendingPathComponent("examples/obd/model.json").path
        let real = obd.appendingPathComponent("random/all/all.csv").path
        let s = try scenario("fid", extra: "", agents: "[random]")
        var text = try String(contentsOfFile: s, encoding: .utf8)
        text = text.replacingOccurrences(of: "population: {size: 150, candidate_pool: 8, persona_dimension: 16}",
                                         with: "population: {size: 400, candidate_pool: 8, persona_dimension: 16, from_model: {model: \(model), group_column: user_feature_0, real: \(real)}}")
        try text.write(toFile: s, atomically: true, encoding: .utf8)
        let r = try run(["run", s, "--out", tmp.appendingPathComponent("f").path, "--quiet"])
        XCTAssertEqual(r.code, 0, r.stderr)
        let md = try String(contentsOf: tmp.appendingPathComponent("f/report.md"), encoding: .utf8)
        XCTAssertTrue(md.contains("## Simulated population"), md)
        XCTAssertTrue(md.contains("ε = 1.0, δ = 1e-05 spent on 10000 real users"), md)
        for c in ["user_feature_0", "user_feature_1", "user_feature_2", "user_feature_3"] { XCTAssertTrue(md.contains("| `\(c)` | categorical |"), c) }
        let svg = try String(contentsOf: tmp.appendingPathComponent("f/population.svg"), encoding: .utf8)
        XCTAssertTrue(svg.contains("user_feature_3 (categorical): KL "), String(svg.prefix(400)))
        // The gate reads them: the simulated users are close to the real rows (a DP model with 2
        // components of 4 categorical columns), and the model spent exactly the release budget.
        let rules = tmp.appendingPathComponent("pop.yaml")
        try """
        gate:
          - {metric: synthetic.kl_max, agent: population, max: 0.2}
          - {metric: synthetic.kl.user_feature_3, agent: population, max: 0.2}
          - {metric: synthetic.diversity_ratio, agent: population, min: 0.8, max: 1.25}
          - {metric: privacy.epsilon, agent: population, max: 1.0}
          - {metric: privacy.delta, agent: population, max: 1.0e-5}
          - {metric: privacy.epsilon, agent: population, max: 0.5}
        """.write(to: rules, atomically: true, encoding: .utf8)
        let g = try run(["gate", tmp.appendingPathComponent("f").path, "--rules", rules.path])
        XCTAssertEqual(g.code, 1, g.stdout + g.stderr)
        XCTAssertTrue(g.stdout.contains("gate: FAILED (5/6 rules passed)"), g.stdout)
        XCTAssertTrue(g.stdout.contains("FAIL: population privacy.epsilon value = 1 > max 0.5"), g.stdout)
        // The checkpoint's lineage names the persona model and its privacy.
        let show = try run(["models", "show", try XCTUnwrap(try models()["random"])]).stdout
        XCTAssertTrue(show.contains("\"persona_model\":{\"delta\":1.0000000000000001e-05,\"epsilon\":1") || show.contains("\"epsilon\":1"), show)
        XCTAssertTrue(show.contains("fnv1a"), show)
    }

    /// kill -9 in the middle of a registration leaves no row of that run; readers see the last
    /// committed state while the write is open; the next run registers normally.
    func testKillDuringRegistrationAndReadersDuringWrite() throws {
        let s = try scenario("crash")
        XCTAssertEqual(try run(["run", s, "--out", tmp.appendingPathComponent("first").path, "--quiet"]).code, 0)
        let before = try run(["runs", "list"]).stdout
        XCTAssertEqual(before.split(separator: "\n").count, 2, before)

        let p = Process()
        p.executableURL = CLITestCase.binary
        p.currentDirectoryURL = tmp
        p.arguments = ["run", s, "--out", tmp.appendingPathComponent("killed").path, "--seed", "12"]
        var env = ProcessInfo.processInfo.environment
        env["OPTIMA_GYM_STORE"] = store
        env["OPTIMA_GYM_TEST_PAUSE_IN_REGISTRATION"] = "60"
        p.environment = env
        let err = Pipe()
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        // Wait until the process is inside its write transaction (the episodes are inserted).
        var seen = ""
        let deadline = Date().addingTimeInterval(120)
        while !seen.contains("test pause inside the registration") && p.isRunning && Date() < deadline {
            let chunk = err.fileHandleForReading.availableData
            if chunk.isEmpty { Thread.sleep(forTimeInterval: 0.02) } else { seen += String(decoding: chunk, as: UTF8.self) }
        }
        XCTAssertTrue(seen.contains("test pause inside the registration"), seen)
        // A reader during the write: it answers at once with the committed state.
        let t0 = Date()
        let during = try run(["runs", "list"])
        XCTAssertEqual(during.code, 0, during.stderr)
        XCTAssertLessThan(Date().timeIntervalSince(t0), 20, "a reader must not wait for the writer")
        XCTAssertEqual(during.stdout, before, "the half-written run is invisible to readers")
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()

        let after = try run(["runs", "list"])
        XCTAssertEqual(after.code, 0, after.stderr)
        XCTAssertEqual(after.stdout, before, "no half-registered run after kill -9")
        XCTAssertEqual(try run(["runs", "show", "killed"]).code, 65)
        // The next run works, and every registered run has all of its logged decisions.
        let next = try run(["run", s, "--out", tmp.appendingPathComponent("next").path, "--seed", "13", "--quiet"])
        XCTAssertEqual(next.code, 0, next.stderr)
        let rows = try run(["runs", "list"]).stdout.split(separator: "\n").dropFirst().map { $0.split(separator: "\t").map(String.init) }
        XCTAssertEqual(rows.count, 2)
        for r in rows {
            // Logged decisions in the store = the evaluation decisions its agents report.
            let show = try run(["runs", "show", r[0]]).stdout
            let evaluated = show.split(separator: "\n").compactMap { line -> Int? in
                guard let range = line.range(of: "\tevaluation ") else { return nil }
                return Int(line[range.upperBound...])
            }
            XCTAssertEqual(evaluated.count, 2, show)
            XCTAssertEqual(Int(r[8]), evaluated.reduce(0, +), "every logged decision of \(r[0]) is in the store")
        }
    }

    func testBadStoreAndBadGateInputsExit65NamingThePlace() throws {
        // A corrupt database: named, exit 65, and `run` refuses it before doing any work.
        let bad = tmp.appendingPathComponent("bad.sqlite")
        try Data("this is not a database, just text that got here\n".utf8).write(to: bad)
        let list = try run(["runs", "list", "--store", bad.path])
        XCTAssertEqual(list.code, 65, list.stderr)
        XCTAssertTrue(list.stderr.contains("\(bad.path): error: not a usable optima-gym store"), list.stderr)
        let s = try scenario("bad")
        let r = try run(["run", s, "--store", bad.path, "--out", tmp.appendingPathComponent("never").path, "--quiet"])
        XCTAssertEqual(r.code, 65, r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: tmp.appendingPathComponent("never").path))
        // A truncated real database.
        XCTAssertEqual(try run(["run", s, "--out", tmp.appendingPathComponent("ok").path, "--quiet"]).code, 0)
        let data = try Data(contentsOf: URL(fileURLWithPath: store))
        let cut = tmp.appendingPathComponent("cut.sqlite")
        try data.prefix(data.count / 3).write(to: cut)
        let c = try run(["models", "list", "--store", cut.path])
        XCTAssertEqual(c.code, 65, c.stderr)
        XCTAssertTrue(c.stderr.contains(cut.path), c.stderr)

        // A gate file naming an unknown metric: file, line, column and key.
        let rules = tmp.appendingPathComponent("rules.yaml")
        try "gate:\n  - {metric: mean_reward, agent: random, min: -1}\n  - {metric: pairing_acuracy, agent: random, min: 0.5}\n"
            .write(to: rules, atomically: true, encoding: .utf8)
        let g = try run(["gate", tmp.appendingPathComponent("ok").path, "--rules", rules.path])
        XCTAssertEqual(g.code, 65, g.stderr)
        XCTAssertTrue(g.stderr.contains("\(rules.path):3:"), g.stderr)
        XCTAssertTrue(g.stderr.contains("gate[1].metric: unknown value 'pairing_acuracy' (did you mean 'pairing_accuracy'?)"), g.stderr)
        // An unknown alias: the rule's place and the aliases there are.
        try "gate:\n  - {metric: mean_reward, agent: epsilon_greedy, relative_to: champoin, max_degradation: 0.05}\n"
            .write(to: rules, atomically: true, encoding: .utf8)
        let a = try run(["gate", tmp.appendingPathComponent("ok").path, "--rules", rules.path])
        XCTAssertEqual(a.code, 65, a.stderr)
        XCTAssertTrue(a.stderr.contains("\(rules.path):2: error: relative_to: no model or alias 'champoin'"), a.stderr)
        // A regression rule in a scenario's own gate (a run has no registry to compare with).
        let rel = try scenario("rel", extra: "gate:\n  - {metric: mean_reward, agent: random, relative_to: champion, max_degradation: 0.05}")
        let cr = try run(["check", rel])
        XCTAssertEqual(cr.code, 65, cr.stderr)
        XCTAssertTrue(cr.stderr.contains("gate[0].relative_to: a regression rule compares registered models"), cr.stderr)
        // Unknown references of the query commands.
        XCTAssertEqual(try run(["models", "show", "nobody"]).code, 65)
        XCTAssertEqual(try run(["metrics", "--model", "nobody"]).code, 65)
        XCTAssertEqual(try run(["models", "rollback", "champion"]).code, 65)
        XCTAssertEqual(try run(["gate", tmp.appendingPathComponent("ok").path, "--promote", "x", "--watch"]).code, 64)
    }

    /// gates/release.yaml names every blueprint target and the privacy parameters, and fails a run
    /// whose agents miss one (or cannot show one), saying which.
    func testReleaseGateNamesEveryTarget() throws {
        let s = try scenario("release", agents: "[oracle, epsilon_greedy, {ppo: {update_every: 250, reward_lag: 250, minibatch_size: 64}}]")
        let r = try run(["run", s, "--out", tmp.appendingPathComponent("r").path, "--quiet"])
        XCTAssertEqual(r.code, 0, r.stderr)
        let g = try run(["gate", tmp.appendingPathComponent("r").path, "--rules", repositoryRoot().appendingPathComponent("gates/release.yaml").path])
        XCTAssertEqual(g.code, 1, g.stdout + g.stderr)
        for metric in ["pairing_accuracy", "resonance_rmse", "intervention_acceptance", "retention_7d", "sample_efficiency", "transfer",
                       "adaptation_hours", "bias_parity", "intervention_fpr", "trust_score", "opt_out_rate"] {
            for agent in ["epsilon_greedy", "ppo"] {
                XCTAssertTrue(g.stdout.contains(": \(agent) \(metric) "), "\(agent) \(metric) is checked:\n\(g.stdout)")
            }
        }
        XCTAssertTrue(g.stdout.contains("FAIL: epsilon_greedy transfer ci_low is not measurable in this run"), g.stdout)
        XCTAssertTrue(g.stdout.contains("pass: population privacy.epsilon value = 0 <= max 1"), g.stdout)
        XCTAssertTrue(g.stdout.contains("population privacy.k_min"), g.stdout)
        XCTAssertTrue(g.stdout.contains("gate: FAILED (") && g.stdout.contains("/25 rules passed)"), g.stdout)
        // Off-policy bounds from an `ope` report: the uniform policy estimated from the random
        // agent's logs (its own policy, so every weight is 1 and the ESS is the row count).
        let opeDir = tmp.appendingPathComponent("ope")
        let o = try run(["ope", "--logs", tmp.appendingPathComponent("r/logs/epsilon_greedy/training_episodes.jsonl").path, "--policy", "uniform",
                         "--out", opeDir.path, "--resamples", "100"])
        XCTAssertEqual(o.code, 0, o.stderr)
        let opeRules = tmp.appendingPathComponent("ope.yaml")
        try "gate:\n  - {metric: ope.dr, agent: ope.uniform, max: 0.5, on: ci_high}\n  - {metric: ope.ess, agent: ope.uniform, min: 1.0e+9}\n"
            .write(to: opeRules, atomically: true, encoding: .utf8)
        let og = try run(["gate", tmp.appendingPathComponent("r").path, "--rules", opeRules.path, "--ope", "uniform=\(opeDir.path)"])
        XCTAssertEqual(og.code, 1, og.stdout + og.stderr)
        XCTAssertTrue(og.stdout.contains("pass: ope.uniform ope.dr ci_high = "), og.stdout)
        XCTAssertTrue(og.stdout.contains("FAIL: ope.uniform ope.ess value = "), "an ESS floor no log meets: \(og.stdout)")
        // The verdict is recorded with the run.
        let show = try run(["runs", "show", tmp.appendingPathComponent("r").path])
        XCTAssertTrue(show.stdout.contains(" check ") && show.stdout.contains("release.yaml: FAILED"), show.stdout)
        // Every agent's metrics are queryable by model.
        let ids = try models()
        let m = try run(["metrics", "--model", try XCTUnwrap(ids["ppo"]), "--metric", "mean_reward"])
        XCTAssertEqual(m.code, 0, m.stderr)
        XCTAssertEqual(m.stdout.split(separator: "\n").count, 2, m.stdout)
        // And one user's decisions across the run's agents.
        let line = try String(contentsOf: tmp.appendingPathComponent("r/logs/ppo/training_episodes.jsonl"), encoding: .utf8).split(separator: "\n")[0]
        let user = try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["user_id"] as? String)
        let e = try run(["episodes", "--user", user])
        XCTAssertEqual(e.code, 0, e.stderr)
        let agentsSeen = Set(e.stdout.split(separator: "\n").dropFirst().map { $0.split(separator: "\t")[6] })
        XCTAssertEqual(agentsSeen.count, 3, "the same user met each of the 3 agents' models: \(e.stdout.prefix(500))")
    }
}
