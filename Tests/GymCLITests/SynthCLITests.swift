import Foundation
import XCTest
import GymTestSupport

/// `optima-gym synth fit|generate` end to end on the Open Bandit Dataset's user features.
final class SynthCLITests: CLITestCase {
    /// The OBD sample (data/obd in the repository, from scripts/get-obd.sh), copied into the test
    /// directory so that the ledger lands there.
    func obdUsers() throws -> URL {
        let src = try obdSample().appendingPathComponent("random/all/all.csv")
        let dst = tmp.appendingPathComponent("obd_users.csv")
        try FileManager.default.copyItem(at: src, to: dst)
        return dst
    }

    let obdRoles = ["--role", "user-item_affinity_*=identifier", "--role", "timestamp=identifier", "--role", "item_id=identifier",
                    "--role", "position=identifier", "--role", "click=identifier", "--role", "propensity_score=identifier",
                    "--role", "user_feature_0=quasi_identifier", "--role", "user_feature_1=quasi_identifier"]

    func testFitSpendsTheBudgetOnceAndGenerates() throws {
        let data = try obdUsers()
        let model = tmp.appendingPathComponent("model.json")
        let fit = try run(["synth", "fit", "--real", data.path, "--out", model.path, "--seed", "3"] + obdRoles)
        XCTAssertEqual(fit.code, 0, fit.stderr)
        XCTAssertTrue(fit.stdout.contains("4 categorical columns, 10000 rows of 10000 users"), fit.stdout)
        XCTAssertTrue(fit.stdout.contains("privacy: epsilon 1 at delta 1e-05"), fit.stdout)
        let ledger = data.path + ".privacy-ledger.json"
        let before = try Data(contentsOf: URL(fileURLWithPath: ledger))
        // A second fit would exceed epsilon = 1: refused, nothing written.
        let model2 = tmp.appendingPathComponent("model2.json")
        let again = try run(["synth", "fit", "--real", data.path, "--out", model2.path] + obdRoles)
        XCTAssertEqual(again.code, 65)
        XCTAssertTrue(again.stderr.contains("privacy budget exceeded"), again.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: model2.path))
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: ledger)), before)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: tmp.path).filter { $0.hasPrefix(".") }, [], "no temporary files left")
        // Generation: the same bytes with 1 or 2 threads (chunks have their own seeds).
        let a = tmp.appendingPathComponent("a.csv"), b = tmp.appendingPathComponent("b.csv")
        XCTAssertEqual(try run(["synth", "generate", "--model", model.path, "--count", "9000", "--out", a.path, "--threads", "1"]).code, 0)
        XCTAssertEqual(try run(["synth", "generate", "--model", model.path, "--count", "9000", "--out", b.path, "--threads", "2"]).code, 0)
        let csvA = try Data(contentsOf: a)
        XCTAssertEqual(csvA, try Data(contentsOf: b))
        let lines = String(decoding: csvA, as: UTF8.self).split(separator: "\n")
        XCTAssertEqual(lines.count, 9001)
        XCTAssertTrue(lines[0].hasPrefix("profile_id,source,user_feature_0,user_feature_1,user_feature_2,user_feature_3,persona_0,"))
        XCTAssertEqual(lines[1].split(separator: ",").count, 2 + 4 + 512)
        // profile_id: a UUID (version 4 layout) derived from the seed and the profile's index.
        let id = String(lines[1].split(separator: ",")[0])
        XCTAssertNotNil(id.range(of: "^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$", options: .regularExpression), id)
        XCTAssertEqual(Set(lines.dropFirst().map { $0.split(separator: ",")[0] }).count, 9000, "ids are unique")
        XCTAssertTrue(lines[1].contains(",generated,"))
        // Each profile depends only on the seed and its index, not on --count: the first 5 of 9,000
        // equal the 5 of --count 5, byte for byte (vector included).
        let five = tmp.appendingPathComponent("five.csv")
        XCTAssertEqual(try run(["synth", "generate", "--model", model.path, "--count", "5", "--out", five.path]).code, 0)
        XCTAssertEqual(try String(contentsOf: five, encoding: .utf8).split(separator: "\n").map(String.init), lines.prefix(6).map(String.init))
        // Another seed gives other ids.
        let other = tmp.appendingPathComponent("other.csv")
        XCTAssertEqual(try run(["synth", "generate", "--model", model.path, "--count", "5", "--out", other.path, "--seed", "2"]).code, 0)
        XCTAssertNotEqual(try String(contentsOf: other, encoding: .utf8).split(separator: "\n")[1].split(separator: ",")[0], Substring(id))
        let j = tmp.appendingPathComponent("p.jsonl")
        XCTAssertEqual(try run(["synth", "generate", "--model", model.path, "--count", "5", "--out", j.path, "--edge-cases"]).code, 0)
        let first = try XCTUnwrap(String(decoding: try Data(contentsOf: j), as: UTF8.self).split(separator: "\n").first)
        let obj = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(first.utf8)) as? [String: Any])
        XCTAssertEqual(obj["source"] as? String, "generated")
        XCTAssertEqual((obj["persona_vector"] as? [Double])?.count, 512)
        XCTAssertEqual((obj["traits"] as? [String: Any])?.count, 4)
    }

    func testBadInputsExit65AndWriteNothing() throws {
        let bad = tmp.appendingPathComponent("bad.csv")
        try "a,b\n1,2\n3\n".write(to: bad, atomically: true, encoding: .utf8)
        let m = tmp.appendingPathComponent("m.json")
        let r = try run(["synth", "fit", "--real", bad.path, "--out", m.path])
        XCTAssertEqual(r.code, 65)
        XCTAssertTrue(r.stderr.contains("\(bad.path):3: error: ragged row"), r.stderr)
        try "a,b\n1,2\n3,nan\n".write(to: bad, atomically: true, encoding: .utf8)
        let n = try run(["synth", "fit", "--real", bad.path, "--out", m.path])
        XCTAssertEqual(n.code, 65)
        XCTAssertTrue(n.stderr.contains(":3: error: column 'b': 'nan'"), n.stderr)
        let missing = try run(["synth", "fit", "--real", bad.path, "--out", m.path, "--role", "colour=categorical"])
        XCTAssertEqual(missing.code, 65)
        XCTAssertTrue(missing.stderr.contains("column 'colour'"), missing.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: m.path))
        XCTAssertFalse(FileManager.default.fileExists(atPath: bad.path + ".privacy-ledger.json"))
        try "{\"format\": \"optima-gym-persona-model\", \"version\": 1, \"sour".write(to: m, atomically: true, encoding: .utf8)
        let g = try run(["synth", "generate", "--model", m.path, "--count", "10", "--out", tmp.appendingPathComponent("o.csv").path])
        XCTAssertEqual(g.code, 65)
        XCTAssertTrue(g.stderr.contains("corrupt or truncated"), g.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: tmp.appendingPathComponent("o.csv").path))
        for args in [["synth", "fit", "--real", bad.path, "--out", m.path, "--role", "a=weird"],
                     ["synth", "fit", "--real", bad.path, "--out", m.path, "--bounds", "a=3:1"],
                     ["synth", "generate", "--model", m.path, "--count", "0", "--out", "x.csv"]] {
            XCTAssertEqual(try run(args).code, 64, "\(args)")
        }
    }
}

extension SynthCLITests {
    /// Split, fit, generate and the quality report on the OBD user features: every section is
    /// there, k-anonymity suppresses patterns, the ledger's figures are shown.
    func testQualityReportOnOBD() throws {
        let data = try obdUsers()
        let train = tmp.appendingPathComponent("train.csv"), hold = tmp.appendingPathComponent("holdout.csv")
        XCTAssertEqual(try run(["synth", "split", "--real", data.path, "--train-out", train.path, "--holdout-out", hold.path, "--seed", "7"]).code, 0)
        let model = tmp.appendingPathComponent("m.json"), syn = tmp.appendingPathComponent("s.csv")
        XCTAssertEqual(try run(["synth", "fit", "--real", train.path, "--out", model.path, "--role", "user_feature_2=quasi_identifier"] + obdRoles).code, 0)
        XCTAssertEqual(try run(["synth", "generate", "--model", model.path, "--count", "8000", "--out", syn.path]).code, 0)
        let out = tmp.appendingPathComponent("q")
        let r = try run(["synth", "stats", "--model", model.path, "--real", train.path, "--holdout", hold.path, "--synthetic", syn.path,
                         "--out", out.path, "--target", "user_feature_3"])
        XCTAssertEqual(r.code, 0, r.stderr)
        let md = try String(contentsOf: out.appendingPathComponent("report.md"), encoding: .utf8)
        for needle in ["## Privacy budget", "| train.csv | 1.0000 | 1.0000 | 0.0000 | 1 |", "## Fidelity per column", "KL (nats)",
                       "TV complement", "## Correlation similarity", "## Diversity", "## Distance to closest record", "| real holdout |",
                       "## Validation accuracy", "| synthetic |", "patterns (", "real rows) suppressed"] {
            XCTAssertTrue(md.contains(needle), needle)
        }
        let csv = try String(contentsOf: out.appendingPathComponent("quality.csv"), encoding: .utf8)
        XCTAssertTrue(csv.contains("k_anonymity,,suppressed_patterns,"))
        let suppressed = csv.split(separator: "\n").first { $0.hasPrefix("k_anonymity,,suppressed_patterns,") }!
        XCTAssertGreaterThan(Double(suppressed.split(separator: ",").last!)!, 0, "OBD has rare feature combinations")
        // Quality: small KL, correlation similarity high, the classifier trained on synthetic
        // rows close to the one trained on real rows.
        func value(_ key: String) -> Double { Double(csv.split(separator: "\n").first { $0.hasPrefix(key) }!.split(separator: ",").last!)! }
        XCTAssertLessThan(value("summary,,kl_divergence_mean,"), 0.05)
        XCTAssertGreaterThan(value("summary,,correlation_similarity,"), 0.9)
        XCTAssertGreaterThan(value("validation,user_feature_3,accuracy_train_synthetic,"), value("validation,user_feature_3,accuracy_train_real,") - 0.05)
        // An existing non-empty --out is refused before any work (73).
        XCTAssertEqual(try run(["synth", "stats", "--model", model.path, "--real", train.path, "--holdout", hold.path, "--synthetic", syn.path,
                                "--out", out.path]).code, 73)
        // One chart per column, real against synthetic, linked from the report.
        for c in ["user_feature_0", "user_feature_3"] {
            let svg = try String(contentsOf: out.appendingPathComponent("charts/\(c).svg"), encoding: .utf8)
            XCTAssertTrue(svg.hasPrefix("<svg"), c)
            XCTAssertTrue(svg.contains("synthetic") && svg.contains("real"), c)
            XCTAssertTrue(md.contains("](charts/\(c).svg)"), c)
        }
        XCTAssertTrue(md.contains("Exact matches (distance 0):"), "the exact-match comparison is reported")
    }
}

extension SynthCLITests {
    /// augment --balance equalises a class column; augment and generate --real never emit a row
    /// equal to a real one in every modelled column.
    func testAugmentBalancesAndRejectsCopies() throws {
        let data = try obdUsers()
        let model = tmp.appendingPathComponent("m.json")
        XCTAssertEqual(try run(["synth", "fit", "--real", data.path, "--out", model.path] + obdRoles).code, 0)
        let aug = tmp.appendingPathComponent("aug.csv")
        let r = try run(["synth", "augment", "--real", data.path, "--model", model.path, "--out", aug.path, "--balance", "user_feature_0"])
        XCTAssertEqual(r.code, 0, r.stderr)
        let lines = try String(contentsOf: aug, encoding: .utf8).split(separator: "\n").dropFirst().map { $0.split(separator: ",", omittingEmptySubsequences: false) }
        var perLevel: [Substring: Int] = [:]
        var realRows = Set<[Substring]>()
        for l in lines where l[1] == "real" { realRows.insert(Array(l[2...])) }
        for l in lines { perLevel[l[2], default: 0] += 1 }
        XCTAssertEqual(Set(perLevel.values).count, 1, "balanced: \(perLevel)")
        XCTAssertEqual(lines.filter { $0[1] == "real" }.count, 10_000)
        XCTAssertFalse(lines.contains { $0[1] == "augmented" && realRows.contains(Array($0[2...])) }, "no augmented row copies a real one")
        let sized = tmp.appendingPathComponent("sized.csv")
        XCTAssertEqual(try run(["synth", "augment", "--real", data.path, "--model", model.path, "--out", sized.path, "--target-size", "12000"]).code, 0)
        XCTAssertEqual(try String(contentsOf: sized, encoding: .utf8).split(separator: "\n").count, 12_001)
        XCTAssertEqual(try run(["synth", "augment", "--real", data.path, "--model", model.path, "--out", tmp.appendingPathComponent("small.csv").path, "--target-size", "10"]).code, 65)
        // The same output again is refused (73) unless --force, and the file is kept as it was.
        let before = try Data(contentsOf: sized)
        XCTAssertEqual(try run(["synth", "augment", "--real", data.path, "--model", model.path, "--out", sized.path, "--target-size", "12000"]).code, 73)
        XCTAssertEqual(try Data(contentsOf: sized), before)
        XCTAssertEqual(try run(["synth", "augment", "--real", data.path, "--model", model.path, "--out", sized.path, "--target-size", "12000", "--force"]).code, 0)
        // generate --real: no copies among the modelled columns.
        let g = tmp.appendingPathComponent("g.csv")
        let gr = try run(["synth", "generate", "--model", model.path, "--count", "3000", "--out", g.path, "--real", data.path])
        XCTAssertEqual(gr.code, 0, gr.stderr)
        XCTAssertTrue(gr.stdout.contains("rejected and drawn again"), gr.stdout)
        let gen = try String(contentsOf: g, encoding: .utf8).split(separator: "\n").dropFirst().map { Array($0.split(separator: ",").dropFirst(2).prefix(4)) }
        XCTAssertEqual(gen.count, 3000)
        XCTAssertFalse(gen.contains { realRows.contains($0) })
    }
}

extension SynthCLITests {
    /// `synth fit --config FILE`: roles, budget and ledger from YAML; flags override; errors point
    /// at the line and key.
    func testFitConfigFile() throws {
        let data = try obdUsers()
        let cfg = tmp.appendingPathComponent("fit.yaml")
        try """
        columns:
          "user-item_affinity_*": identifier
          timestamp: identifier
          item_id: identifier
          position: identifier
          click: identifier
          propensity_score: identifier
          user_feature_0: quasi_identifier
        epsilon: 0.5
        components: 2
        ledger: my-ledger.json

        """.write(to: cfg, atomically: true, encoding: .utf8)
        let model = tmp.appendingPathComponent("m.json")
        let r = try run(["synth", "fit", "--real", data.path, "--out", model.path, "--config", cfg.path, "--budget", "1"])
        XCTAssertEqual(r.code, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("(2 components, 0 numeric and 4 categorical columns"), r.stdout)
        XCTAssertTrue(r.stdout.contains("privacy: epsilon 0.5 at delta 1e-05"), r.stdout)
        XCTAssertTrue(FileManager.default.fileExists(atPath: tmp.appendingPathComponent("my-ledger.json").path))
        // The flag wins over the file: epsilon 1 on top of the 0.5 spent exceeds the budget of 1.
        let over = try run(["synth", "fit", "--real", data.path, "--out", tmp.appendingPathComponent("m2.json").path, "--config", cfg.path, "--epsilon", "1"])
        XCTAssertEqual(over.code, 65)
        XCTAssertTrue(over.stderr.contains("privacy budget exceeded"), over.stderr)
        try "columns:\n  user_feature_0: quasi_identifer\n".write(to: cfg, atomically: true, encoding: .utf8)
        let bad = try run(["synth", "fit", "--real", data.path, "--out", tmp.appendingPathComponent("m3.json").path, "--config", cfg.path])
        XCTAssertEqual(bad.code, 65)
        XCTAssertTrue(bad.stderr.contains("\(cfg.path):2:19: error: columns.user_feature_0: must be one of"), bad.stderr)
        XCTAssertTrue(bad.stderr.contains("did you mean 'quasi_identifier'"), bad.stderr)
    }
}
