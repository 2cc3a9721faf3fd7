import Foundation
import GymGate
import XCTest
@testable import GymScenario

/// `ScenarioLoader.loadGateRules(path:knownAgents:)`: a scenario's `gate:` list or a bare list of rules.
final class GateRulesFileTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("gate-rules-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    func write(_ name: String, _ text: String) throws -> String {
        let url = directory.appendingPathComponent(name)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    func gateDiagnostics(_ path: String, knownAgents: [String]?) -> [ScenarioDiagnostic] {
        do {
            _ = try ScenarioLoader.loadGateRules(path: path, knownAgents: knownAgents)
            XCTFail("expected \(path) to be rejected")
        } catch let error as ScenarioError {
            return error.diagnostics
        } catch {
            XCTFail("unexpected \(error)")
        }
        return []
    }

    func testRulesFromAScenario() throws {
        let path = Repo.scenario("baseline.yaml")
        let rules = try ScenarioLoader.loadGateRules(path: path, knownAgents: nil)
        XCTAssertEqual(rules, try ScenarioLoader.load(path: path).gate)
        XCTAssertEqual(try ScenarioLoader.loadGateRules(path: path, knownAgents: ["random", "oracle", "epsilon_greedy", "ppo"]), rules)
        let diags = gateDiagnostics(path, knownAgents: ["random", "oracle", "ppo"])
        XCTAssertEqual(diags.count, rules.filter { $0.agent == "epsilon_greedy" }.count, "every epsilon_greedy rule")
        XCTAssertGreaterThanOrEqual(diags.count, 2)
        for d in diags { assertMatches(d, contains: ["unknown agent 'epsilon_greedy'", "agents here: random, oracle, ppo"]) }
    }

    func testBareList() throws {
        let path = try write("rules.yaml", """
            # release gate for CI
            - {metric: pairing_accuracy, agent: ppo, min: 0.85}
            - metric: opt_out_rate
              agent: ppo
              max: 0.02
              on: ci_high
            """)
        let rules = try ScenarioLoader.loadGateRules(path: path, knownAgents: nil)
        XCTAssertEqual(rules, [GateRule(metric: "pairing_accuracy", agent: "ppo", min: 0.85, source: "\(path):2"),
                               GateRule(metric: "opt_out_rate", agent: "ppo", max: 0.02, on: .ciHigh, source: "\(path):3")])
        assertSingle(gateDiagnostics(path, knownAgents: ["random", "pp0"]).filter { $0.line == 2 }, line: 2, column: 37,
                     keyPath: "gate[0].agent", contains: ["unknown agent 'ppo' (did you mean 'pp0'?"])
    }

    func testBadGateFiles() throws {
        assertSingle(gateDiagnostics(try write("none.yaml", "name: x\n"), knownAgents: nil), contains: ["no `gate:` list"])
        assertSingle(gateDiagnostics(try write("empty_list.yaml", "gate: []\n"), knownAgents: nil), contains: ["holds no gate rules"])
        assertSingle(gateDiagnostics(try write("scalar.yaml", "hello\n"), knownAgents: nil), contains: ["expected a list of gate rules"])
        assertSingle(gateDiagnostics(try write("empty.yaml", ""), knownAgents: nil), contains: ["the file is empty"])
        assertSingle(gateDiagnostics(directory.appendingPathComponent("missing.yaml").path, knownAgents: nil),
                     contains: ["cannot read file: no such file"])
        let diags = gateDiagnostics(try write("two.yaml", """
            gate:
              - {metric: mean_rewad, agent: random, min: 0}
              - {metric: mean_reward, agent: random}
            """), knownAgents: nil)
        XCTAssertEqual(diags.map(\.keyPath), ["gate[0].metric", "gate[1].min"])
    }
}
