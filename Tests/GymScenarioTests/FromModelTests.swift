import Foundation
import GymRandom
import GymSim
import GymSynth
import XCTest
import GymRunner
@testable import GymScenario

/// `population.from_model`: personas drawn from a persona model fitted to real data.
final class FromModelTests: XCTestCase {
    /// The shipped scenario loads the shipped OBD model; its population's groups follow the
    /// model's frequencies of user_feature_0, and differ from the built-in shares.
    func testShippedOBDPopulation() throws {
        // The parser only records the model; the runner binds it to a persona source.
        XCTAssertNil(try ScenarioLoader.load(path: Repo.scenario("obd_population.yaml")).sim.population.fromModel?.source)
        let s = try ScenarioBinding.load(path: Repo.scenario("obd_population.yaml"))
        let ref = try XCTUnwrap(s.sim.population.fromModel)
        let source = try XCTUnwrap(ref.source as? ModelPersonaSource)
        XCTAssertEqual(source.groupColumn, "user_feature_0")
        XCTAssertEqual(source.groupLevels, 3)
        let model = source.sampler.model
        let q = model.categorical.firstIndex { $0.name == "user_feature_0" }!
        let expected = (0..<3).map { l in model.components.reduce(0) { $0 + $1.weight * $1.probabilities[q][l] } }
        var cfg = s.sim.population
        cfg.size = 4000
        let pop = Population.generate(cfg, seed: SeedTree(root: 5).child("population"))
        for g in 0..<3 {
            let share = Double(pop.group.filter { $0 == Int32(g) }.count) / 4000
            let sd = (expected[g] * (1 - expected[g]) / 4000).squareRoot()
            XCTAssertEqual(share, expected[g], accuracy: 4 * sd + 1e-9, "group \(g)")
        }
        // The built-in shares are 0.5 / 0.3 / 0.2; the model's are far from them.
        XCTAssertGreaterThan(abs(expected[0] - 0.5), 0.1)
        // Same seed, same population; the traits stay in (0, 1).
        let again = Population.generate(cfg, seed: SeedTree(root: 5).child("population"))
        XCTAssertEqual(pop.traits, again.traits)
        XCTAssertTrue(pop.traits.allSatisfy { $0 > 0 && $0 < 1 })
        // Without the model the same seed gives another population.
        var plain = cfg
        plain.fromModel = nil
        XCTAssertNotEqual(Population.generate(plain, seed: SeedTree(root: 5).child("population")).traits, pop.traits)
    }

    func testErrorsNameTheKey() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("from-model-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.copyItem(at: Repo.root.appendingPathComponent("examples/obd/model.json"), to: dir.appendingPathComponent("m.json"))
        func load(_ yaml: String) -> [ScenarioDiagnostic] {
            let f = dir.appendingPathComponent("s.yaml")
            try? yaml.write(to: f, atomically: true, encoding: .utf8)
            return diagnostics(path: f.path)
        }
        _ = assertSingle(load("population:\n  from_model: {model: missing.json}\n"), line: 2, keyPath: "population.from_model.model",
                         contains: ["cannot read the model"])
        _ = assertSingle(load("population:\n  from_model: {model: m.json, group_column: user_feature_9}\n"), line: 2,
                         keyPath: "population.from_model.group_column", contains: ["no categorical column 'user_feature_9'", "did you mean"])
        _ = assertSingle(load("population:\n  from_model: {model: m.json, grup_column: x}\n"), line: 2,
                         keyPath: "population.from_model.grup_column", contains: ["unknown key", "group_column"])
        _ = assertSingle(load("population:\n  groups: {A: {share: 0.5}, B: {share: 0.5}}\n  from_model: {model: m.json, group_column: user_feature_0}\n"),
                         contains: ["has 3 levels but population.groups has 2 groups"])
        try "{\"format\": \"optima-gym-persona-model\", \"version\": 2}".write(to: dir.appendingPathComponent("old.json"), atomically: true, encoding: .utf8)
        _ = assertSingle(load("population:\n  from_model: {model: old.json}\n"), line: 2, contains: ["version 2 is not supported"])
    }
}
